import { constants } from 'node:fs';
import { access, stat } from 'node:fs/promises';
import { delimiter, isAbsolute, join } from 'node:path';

/** The absolute path of `firecracker` on PATH, or undefined when there is none. */
export async function findFirecrackerBinary(pathEnv = process.env.PATH ?? ''): Promise<string | undefined> {
  for (const dir of pathEnv.split(delimiter)) {
    if (!isAbsolute(dir)) continue;
    const candidate = join(dir, 'firecracker');
    const isFile = await stat(candidate).then((s) => s.isFile(), () => false);
    if (isFile && (await access(candidate, constants.X_OK).then(() => true, () => false))) return candidate;
  }
  return undefined;
}

/** Whether a `firecracker` binary is on PATH (it also needs a working /dev/kvm to run guests). */
export async function firecrackerAvailable(): Promise<boolean> {
  return (await findFirecrackerBinary()) !== undefined;
}
