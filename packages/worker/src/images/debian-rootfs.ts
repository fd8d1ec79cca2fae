import { runCommand } from '../host/run-command.js';

/** The packages of the built-in Debian image: a Python sandbox that can `pip install`. */
export const DEBIAN_PYTHON_PACKAGES = ['python3', 'python3-pip', 'python3-venv', 'ca-certificates', 'procps', 'less', 'curl'];

/**
 * Builds a Debian 12 root filesystem tarball with mmdebstrap from Debian's own mirror (the
 * one registry these machines reach); ~20 s and ~250 MB for the Python set.
 */
export async function buildDebianRootfsTar(outTar: string, packages: readonly string[], signal?: AbortSignal): Promise<void> {
  await runCommand('mmdebstrap', [
    '--quiet', '--variant=apt', '--format=tar', `--include=${packages.join(',')}`,
    // Sandboxes never run apt's periodic jobs or man-db triggers; dropping docs keeps the image small.
    '--dpkgopt=path-exclude=/usr/share/doc/*', '--dpkgopt=path-exclude=/usr/share/man/*', '--dpkgopt=path-exclude=/usr/share/locale/*',
    'bookworm', outTar,
  ], signal ? { signal } : {});
}
