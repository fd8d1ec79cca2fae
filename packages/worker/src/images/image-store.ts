import { createHash, randomUUID } from 'node:crypto';
import { access, mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ScaiError } from '@scaibunker/contracts';
import { bakeImage, type BakedImage, type RootfsSource } from './image-baker.js';
import { buildDebianRootfsTar, DEBIAN_PYTHON_PACKAGES } from './debian-rootfs.js';
import { writeMinimalRootfs } from './minimal-rootfs.js';

/** A baked image plus the agent build it carries. */
export interface StoredImage extends BakedImage {
  agentSha256: string;
  /** New at every bake: what templates of this image are keyed by. */
  bakeId: string;
}

const IMAGE_NAME = /^[a-z0-9][a-z0-9._-]{0,63}$/;

/** Baked images of one worker, under `<dataDir>/images/`. */
export class ImageStore {
  readonly dir: string;
  private agentDigest: Promise<string> | undefined;

  constructor(dataDir: string, private readonly agentBinary: string) {
    this.dir = join(dataDir, 'images');
  }

  /** A baked image, or NOT_FOUND. */
  async get(name: string): Promise<StoredImage> {
    const image = await this.read(name);
    if (!image) throw new ScaiError('NOT_FOUND', `No baked image "${name}" in ${this.dir}; bake it with \`scaibunker image bake\`.`);
    return image;
  }

  /** Every baked image, by name. */
  async list(): Promise<StoredImage[]> {
    const files = await readdir(this.dir).catch(() => [] as string[]);
    const names = files.filter((f) => f.endsWith('.json')).map((f) => f.slice(0, -5)).sort();
    return (await Promise.all(names.map((n) => this.read(n)))).filter((i): i is StoredImage => i !== undefined);
  }

  async bake(name: string, source: RootfsSource, sizeMib: number): Promise<StoredImage> {
    checkName(name);
    const baked = await bakeImage({ name, source, sizeMib, agentBinary: this.agentBinary, outDir: this.dir });
    const stored = { ...baked, agentSha256: await this.agentSha256(), bakeId: randomUUID() };
    await writeFile(join(this.dir, `${name}.json`), `${JSON.stringify(stored, null, 2)}\n`);
    return stored;
  }

  /**
   * Bakes the built-in `minimal` image unless a current one exists: an image baked with
   * another agent build is baked again, so every image carries the agent the worker speaks.
   */
  async ensureMinimal(): Promise<StoredImage> {
    const current = await this.read('minimal');
    if (current && current.agentSha256 === (await this.agentSha256())) return current;
    await mkdir(this.dir, { recursive: true });
    const staging = await mkdtemp(join(this.dir, '.minimal-src-'));
    try {
      await writeMinimalRootfs(staging);
      return await this.bake('minimal', { kind: 'dir', path: staging }, 64);
    } finally {
      await rm(staging, { recursive: true, force: true });
    }
  }

  /**
   * Bakes the built-in `debian-python` image (Debian 12 with Python 3.11 and pip) unless a
   * current one exists. The rootfs tarball is cached, so a new agent only costs a re-bake.
   */
  async ensureDebianPython(cacheDir: string): Promise<StoredImage> {
    const current = await this.read('debian-python');
    if (current && current.agentSha256 === (await this.agentSha256())) return current;
    const key = createHash('sha256').update(DEBIAN_PYTHON_PACKAGES.join(',')).digest('hex').slice(0, 16);
    const tar = join(cacheDir, 'rootfs', `debian-python-${key}.tar`);
    if (!(await access(tar).then(() => true, () => false))) {
      await mkdir(join(cacheDir, 'rootfs'), { recursive: true });
      const partial = `${tar}.partial`;
      await buildDebianRootfsTar(partial, DEBIAN_PYTHON_PACKAGES);
      await rename(partial, tar);
    }
    return this.bake('debian-python', { kind: 'tar', path: tar }, 768);
  }

  private agentSha256(): Promise<string> {
    this.agentDigest ??= readFile(this.agentBinary).then((bytes) => createHash('sha256').update(bytes).digest('hex'));
    return this.agentDigest;
  }

  private async read(name: string): Promise<StoredImage | undefined> {
    checkName(name);
    const text = await readFile(join(this.dir, `${name}.json`), 'utf8').catch(() => undefined);
    return text ? (JSON.parse(text) as StoredImage) : undefined;
  }
}

function checkName(name: string): void {
  if (!IMAGE_NAME.test(name)) {
    throw new ScaiError('VALIDATION_ERROR', `"${name}" is not an image name.`, { details: [{ field: 'image', message: 'lowercase letters, digits, ".", "_" and "-", at most 64' }] });
  }
}
