import type { Config } from './codecs.ts';

/**
 * The channel variables a configuration reads: the selection variable and every `${name}` of every
 * scheme's params. A call keeps only these while it waits on the CRM, not the ~150 of its channel.
 */
export const usedVariables = (config: Config): ReadonlySet<string> => {
  const used = new Set<string>([config.selection.variable]);
  for (const scheme of config.schemes) {
    for (const template of Object.values(scheme.params)) {
      for (const part of template.parts) if (typeof part !== 'string') used.add(part.variable);
    }
  }
  return used;
};
