/**
 * `params` values such as `"${caller_id_number}"`: parsed once at boot into
 * literal and variable parts so each call only concatenates.
 */

export type TemplatePart = string | { readonly variable: string };

export interface Template {
  /** The text as configured, for docs and debugging. */
  readonly source: string;
  readonly parts: ReadonlyArray<TemplatePart>;
}

// FreeSWITCH variable names: letters, digits, `_`, and `-` (as in `sip_h_X-Foo`).
const VARIABLE_NAME = /^[A-Za-z0-9_-]+$/;

/** Parses `source`; undefined when a `${` is unclosed or names no valid variable. */
export function compileTemplate(source: string): Template | undefined {
  const parts: TemplatePart[] = [];
  let rest = source;
  for (let open = rest.indexOf('${'); open !== -1; open = rest.indexOf('${')) {
    const close = rest.indexOf('}', open + 2);
    if (close === -1) return undefined;
    const variable = rest.slice(open + 2, close);
    if (!VARIABLE_NAME.test(variable)) return undefined;
    if (open > 0) parts.push(rest.slice(0, open));
    parts.push({ variable });
    rest = rest.slice(close + 1);
  }
  if (rest !== '') parts.push(rest);
  return { source, parts };
}

/** Fills a template from channel variables; an unknown variable becomes the empty string. */
export function renderTemplate(template: Template, variables: Readonly<Record<string, string>>): string {
  let out = '';
  for (const part of template.parts) {
    if (typeof part === 'string') out += part;
    // hasOwn: a variable named `constructor` must not read Object.prototype.
    else if (Object.hasOwn(variables, part.variable)) out += variables[part.variable] ?? '';
  }
  return out;
}
