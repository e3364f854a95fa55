/**
 * Preloaded into both routers (`--import`) so the orchestrator can read their memory over the IPC
 * channel it opened: on request it runs a full GC (the router is started with --expose-gc) and
 * answers with process.memoryUsage(), so "heap" is live objects, not garbage awaiting collection.
 * It does nothing else; a router started by an operator has no IPC channel and the probe stays idle.
 */
import type { ProbeReply, ProbeRequest } from './messages.ts';

const gc = (globalThis as { gc?: () => void }).gc;

if (process.send !== undefined) {
  process.on('message', (message: ProbeRequest) => {
    if (message.type !== 'memory') return;
    gc?.();
    const usage = process.memoryUsage();
    const reply: ProbeReply = { type: 'memory', id: message.id, rss: usage.rss, heapUsed: usage.heapUsed, heapTotal: usage.heapTotal, external: usage.external };
    process.send?.(reply);
  });
  // The channel must not keep a router alive that would otherwise exit; and should the orchestrator
  // die, the router stops the way an operator stops it.
  process.channel?.unref();
  process.on('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
