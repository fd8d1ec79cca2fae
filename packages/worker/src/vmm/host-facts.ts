import { readFile } from 'node:fs/promises';

/**
 * The host TSC frequency in kHz, which goes on the guest command line as `tsc_early_khz`:
 * microvm has no HPET or PM timer, and without it about one TCG boot in ten hangs when PIT
 * calibration fails (../../../../docs/vmm.md). Read from the kernel's boot log line
 * "tsc: Refined TSC clocksource calibration" / "Detected … MHz processor", else cpuinfo.
 */
export async function hostTscKhz(): Promise<number | undefined> {
  const fromSysfs = await readFile('/sys/devices/system/cpu/cpu0/tsc_freq_khz', 'utf8').catch(() => undefined);
  if (fromSysfs && Number(fromSysfs) > 0) return Math.round(Number(fromSysfs));
  const cpuinfo = await readFile('/proc/cpuinfo', 'utf8').catch(() => '');
  const mhz = /^cpu MHz\s*:\s*([\d.]+)/m.exec(cpuinfo)?.[1];
  return mhz ? Math.round(Number(mhz) * 1000) : undefined;
}
