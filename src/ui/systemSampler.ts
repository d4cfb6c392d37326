import os from 'node:os';

/** What the live dashboard shows about the machine: this process's CPU and memory, the load. */
export interface SystemSample {
  /** This process's CPU time over the last interval, as % of one core (worker threads included). */
  cpuPercent: number;
  cores: number;
  rssBytes: number;
  heapUsedBytes: number;
  load1: number;
  freeMemBytes: number;
  totalMemBytes: number;
}

/** Each call measures CPU since the previous one. Cheap (a few syscalls): call it about once a second. */
export function systemSampler(): () => SystemSample {
  let lastCpu = process.cpuUsage();
  let lastAt = process.hrtime.bigint();
  const cores = os.availableParallelism?.() ?? os.cpus().length;
  return () => {
    const cpu = process.cpuUsage();
    const at = process.hrtime.bigint();
    const usedMicros = cpu.user - lastCpu.user + (cpu.system - lastCpu.system);
    const wallMicros = Number(at - lastAt) / 1000;
    lastCpu = cpu;
    lastAt = at;
    const memory = process.memoryUsage();
    return {
      cpuPercent: wallMicros > 0 ? (usedMicros / wallMicros) * 100 : 0,
      cores,
      rssBytes: memory.rss,
      heapUsedBytes: memory.heapUsed,
      load1: os.loadavg()[0],
      freeMemBytes: os.freemem(),
      totalMemBytes: os.totalmem(),
    };
  };
}
