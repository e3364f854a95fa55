/** Which configuration file a command reads when none is named. */
import { fileURLToPath } from 'node:url';

/** Where a package installed for a system service (scripts/deploy) keeps its configuration. */
export const INSTALLED_CONFIG = '/etc/crm-router/crm-router.json';

/** The clone's or package's own example configuration: lib/cli and dist/cli are both two levels down. */
export const PACKAGE_CONFIG = fileURLToPath(new URL('../../conf/crm-router.json', import.meta.url));

export const defaultConfigPath = (env: NodeJS.ProcessEnv, exists: (path: string) => boolean): string => {
  const named = env['CRM_ROUTER_CONFIG'];
  if (named !== undefined && named !== '') return named;
  return exists(INSTALLED_CONFIG) ? INSTALLED_CONFIG : PACKAGE_CONFIG;
};
