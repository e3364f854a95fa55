/** The package version, for `User-Agent: crm-router/<version>`. */
import { createRequire } from 'node:module';

const pkg: unknown = createRequire(import.meta.url)('../../package.json');
export const VERSION = typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string' ? pkg.version : '0.0.0';
