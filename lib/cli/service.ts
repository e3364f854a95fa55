/**
 * `crm-router run` as a whole: the router on its event socket, the admin listener beside it, reload
 * and drain. Signals are main's business; this module only offers what they trigger, so specs drive
 * the same code in-process.
 */
import * as E from 'fp-ts/lib/Either.js';
import { listenAdmin, type AdminServer, type Readiness } from '../admin/http.ts';
import { createMetrics, type RouterMetrics } from '../admin/metrics.ts';
import type { Config } from '../config/codecs.ts';
import { formatProblems, loadConfig, type ConfigProblem, type LoadedConfig } from '../config/load.ts';
import type { Logger } from '../log.ts';
import { startRouter, type DrainResult, type RunningRouter } from '../server.ts';
import type { CallRecord } from '../telephony/call-record.ts';
import type { CallLimits } from '../telephony/handle-call.ts';

export interface ServiceOptions {
  readonly configPath: string;
  readonly loaded: LoadedConfig;
  readonly log: Logger;
  /** CRM_ROUTER_LOG_LEVEL: wins over the file's logLevel, on start and on every reload. */
  readonly logLevelOverride: Config['logLevel'] | undefined;
  readonly processMetrics: boolean;
  readonly limits?: CallLimits;
  readonly onCallDone?: (record: CallRecord) => void;
}

export type ReloadResult = { readonly _tag: 'Applied' } | { readonly _tag: 'Refused'; readonly reason: string; readonly problems?: readonly ConfigProblem[] };

export interface Service {
  readonly router: RunningRouter;
  readonly admin: AdminServer | undefined;
  readonly metrics: RouterMetrics;
  readonly readiness: () => Readiness;
  /** The configuration new calls get. */
  readonly config: () => Config;
  /** Reads the configuration file again and applies it, or keeps the running one and says why. */
  readonly reload: () => ReloadResult;
  /** Stops taking calls (readiness fails at once), waits at most drainSeconds for decisions, closes the admin listener. */
  readonly shutdown: () => Promise<DrainResult>;
}

export type StartFailure = { readonly _tag: 'CannotListen'; readonly listener: 'event socket' | 'admin'; readonly host: string; readonly port: number; readonly code: string };

const codeOf = (error: unknown): string => (error as NodeJS.ErrnoException).code ?? String(error);

const sameAddress = (a: Config['admin']['listen'], b: Config['admin']['listen']): boolean =>
  a === null || b === null ? a === b : a.host === b.host && a.port === b.port;

export async function startService(options: ServiceOptions): Promise<E.Either<StartFailure, Service>> {
  const { log, configPath } = options;
  let config = options.loaded.config;
  log.level = options.logLevelOverride ?? config.logLevel;
  for (const warning of options.loaded.warnings) log.warn({ config: configPath }, warning);
  const metrics = createMetrics({ processMetrics: options.processMetrics });
  let router: RunningRouter;
  try {
    router = await startRouter({
      config,
      log,
      metrics,
      ...(options.limits ? { limits: options.limits } : {}),
      ...(options.onCallDone ? { onCallDone: options.onCallDone } : {}),
    });
  } catch (error) {
    return E.left({ _tag: 'CannotListen', listener: 'event socket', ...config.listen, code: codeOf(error) });
  }
  let draining = false;
  const readiness = (): Readiness => (draining ? { ready: false, reason: 'draining: not taking new calls' } : { ready: true, reason: 'ready' });
  let admin: AdminServer | undefined;
  const adminListen = config.admin.listen;
  if (adminListen !== null) {
    try {
      admin = await listenAdmin(adminListen, { registry: metrics.registry, readiness, onError: (error) => log.error({ err: error }, 'admin listener error') });
    } catch (error) {
      await router.drain(0);
      return E.left({ _tag: 'CannotListen', listener: 'admin', ...adminListen, code: codeOf(error) });
    }
  }

  const refuse = (reason: string, problems?: readonly ConfigProblem[]): ReloadResult => {
    metrics.reloaded('refused');
    log.error({ config: configPath, ...(problems ? { problems: formatProblems(problems).split('\n') } : {}) }, `configuration reload refused, the running configuration stays: ${reason}`);
    return problems ? { _tag: 'Refused', reason, problems } : { _tag: 'Refused', reason };
  };

  const reload = (): ReloadResult => {
    const loaded = loadConfig(configPath);
    if (E.isLeft(loaded)) return refuse(`${configPath} is not a usable configuration`, loaded.left);
    const next = loaded.right.config;
    if (!sameAddress(next.admin.listen, config.admin.listen)) return refuse('admin.listen changed: restart the router to move its admin listener');
    const moved = router.reload(next);
    if (moved !== undefined) return refuse(moved);
    config = next;
    log.level = options.logLevelOverride ?? next.logLevel;
    for (const warning of loaded.right.warnings) log.warn({ config: configPath }, warning);
    metrics.reloaded('applied');
    log.info({ config: configPath, schemes: next.schemes.map((s) => s.name) }, 'configuration reloaded: new calls use it, calls in progress keep theirs');
    return { _tag: 'Applied' };
  };

  const shutdown = async (): Promise<DrainResult> => {
    draining = true;
    const result = await router.drain(config.shutdown.drainSeconds * 1000);
    await admin?.close();
    return result;
  };

  return E.right({ router, admin, metrics, readiness, config: () => config, reload, shutdown });
}
