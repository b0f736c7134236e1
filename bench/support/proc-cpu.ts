import { readdir, readFile } from 'node:fs/promises';

/** Linux reports process times in clock ticks; 100 per second on every common kernel config. */
const CLOCK_TICKS_PER_SECOND = 100;

interface ProcStat {
  pid: number;
  /** The executable's name, at most 15 characters (the kernel truncates it). */
  comm: string;
  ppid: number;
  /** User plus system CPU time, in seconds. */
  cpuSeconds: number;
}

/** /proc/<pid>/stat, or a thread's /proc/<pid>/task/<tid>/stat; undefined once it is gone. */
async function readStat(pid: number, path = `/proc/${pid}/stat`): Promise<ProcStat | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  // The name sits in parentheses and may itself hold spaces or parentheses.
  const open = text.indexOf('(');
  const close = text.lastIndexOf(')');
  const fields = text.slice(close + 2).split(' ');
  // After the name: state(3) ppid(4) ... utime(14) stime(15), so index = field - 3.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return {
    pid,
    comm: text.slice(open + 1, close),
    ppid: Number(fields[1]),
    cpuSeconds: (utime + stime) / CLOCK_TICKS_PER_SECOND,
  };
}

/** CPU seconds (user + system) a process has used so far; 0 when it is gone. */
export async function cpuSecondsOf(pid: number): Promise<number> {
  return (await readStat(pid))?.cpuSeconds ?? 0;
}

/** CPU seconds (user + system) this process's main thread has used so far. */
export async function mainThreadCpuSeconds(): Promise<number> {
  const { pid } = process;
  return (await readStat(pid, `/proc/${pid}/task/${pid}/stat`))?.cpuSeconds ?? 0;
}

/** Summed CPU seconds of several processes. */
export async function cpuSecondsOfAll(pids: readonly number[]): Promise<number> {
  const each = await Promise.all(pids.map(cpuSecondsOf));
  return each.reduce((sum, seconds) => sum + seconds, 0);
}

/**
 * Pids of this process's children running the named executables. The local cluster
 * starts etcd and kube-apiserver as direct children of the process that called
 * startLocalCluster, and does not hand out their pids.
 */
export async function childPidsNamed(names: readonly string[]): Promise<Map<string, number[]>> {
  const found = new Map<string, number[]>(names.map((name) => [name, []]));
  const entries = await readdir('/proc');
  const stats = await Promise.all(
    entries.filter((entry) => /^\d+$/.test(entry)).map((entry) => readStat(Number(entry))),
  );
  for (const stat of stats) {
    if (stat?.ppid !== process.pid) continue;
    found.get(stat.comm)?.push(stat.pid);
  }
  return found;
}

/** The machine's CPU time so far, all cores, in clock ticks: busy and in total. */
export async function machineCpuTicks(): Promise<{ busy: number; total: number }> {
  const first = (await readFile('/proc/stat', 'utf8')).split('\n')[0] ?? '';
  // "cpu  user nice system idle iowait irq softirq steal guest guest_nice"
  const ticks = first.trim().split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((sum, value) => sum + value, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busy: total - idle, total };
}

/** Share of the machine's CPU time that was busy between two readings, 0 to 1. */
export function busyShare(
  before: { busy: number; total: number },
  after: { busy: number; total: number },
): number {
  const total = after.total - before.total;
  return total > 0 ? (after.busy - before.busy) / total : 0;
}
