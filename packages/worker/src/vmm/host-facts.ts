import { fileURLToPath } from 'node:url';
import { runCommand } from '../host/run-command.js';

const TSC_KHZ_SCRIPT = fileURLToPath(new URL('../../guest-kernel/tsc-khz.sh', import.meta.url));

/**
 * The host TSC frequency in kHz, which goes on the guest command line as `tsc_early_khz`:
 * microvm has no HPET or PM timer, and without it about one TCG boot in ten hangs when the
 * guest's PIT calibration fails. guest-kernel/tsc-khz.sh knows where to read it (sysfs, the
 * kernel log, or cpuinfo when the TSC is constant); undefined when none can be trusted.
 */
export async function hostTscKhz(): Promise<number | undefined> {
  const output = await runCommand('bash', [TSC_KHZ_SCRIPT]).catch(() => undefined);
  const khz = Number(output?.stdout.trim());
  return Number.isInteger(khz) && khz > 0 ? khz : undefined;
}
