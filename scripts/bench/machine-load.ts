/**
 * How much CPU other processes took while the benchmark ran: the whole machine's busy time
 * (/proc/stat) minus this process and its reaped children (/proc/self/stat). On a machine shared
 * with other work, the figures are noisy, and this says by how much. Linux only; elsewhere unknown.
 */
import { readFileSync } from 'node:fs';

const TICKS_PER_SECOND = 100;

interface Sample {
  readonly machineBusy: number;
  readonly ours: number;
}

function sample(): Sample | undefined {
  try {
    const cpu = readFileSync('/proc/stat', 'utf8').split('\n')[0]?.trim().split(/\s+/).slice(1).map(Number) ?? [];
    // user nice system idle iowait irq softirq steal
    const busy = (cpu[0] ?? 0) + (cpu[1] ?? 0) + (cpu[2] ?? 0) + (cpu[5] ?? 0) + (cpu[6] ?? 0) + (cpu[7] ?? 0);
    const self = readFileSync('/proc/self/stat', 'utf8');
    // Fields after the command name (which may hold spaces): utime is field 14, cutime 16, cstime 17.
    const fields = self.slice(self.lastIndexOf(')') + 2).split(' ').map(Number);
    const ours = (fields[11] ?? 0) + (fields[12] ?? 0) + (fields[13] ?? 0) + (fields[14] ?? 0);
    return { machineBusy: busy, ours };
  } catch {
    return undefined;
  }
}

/** Call at the start; the returned function, called once every child has exited, gives core-seconds used by others. */
export function watchMachineLoad(): () => number | undefined {
  const start = sample();
  return () => {
    const end = sample();
    if (start === undefined || end === undefined) return undefined;
    return Math.max(0, end.machineBusy - start.machineBusy - (end.ours - start.ours)) / TICKS_PER_SECOND;
  };
}
