import { createReadStream, createWriteStream } from 'node:fs';
import { stat, unlink } from 'node:fs/promises';
import { basename, dirname, join, posix } from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { ReadableStream as NodeReadableStream } from 'node:stream/web';
import { ScaiError } from '@scaibunker/contracts';
import type { ScaiBunkerClient } from '@scaibunker/sdk';
import { printJson, writeAll } from '../output.js';
import { arg, str } from './command-args.js';
import type { Command } from './platform.js';

/** A path inside a bunker, written `bnk_…:/absolute/path`. */
interface BunkerPath {
  bunkerId: string;
  path: string;
}

const NO_DIRECTORIES = 'cp copies single files (directories are not supported)';

/** Parses `bnk_…:/path`; undefined for a local path. */
export function parseBunkerPath(spec: string): BunkerPath | undefined {
  const match = /^(bnk_[0-9A-Za-z]+):(.*)$/s.exec(spec);
  if (!match) return undefined;
  const path = match[2]!;
  if (!path.startsWith('/')) throw new ScaiError('VALIDATION_ERROR', `The path in "${spec}" must be absolute: ${match[1]}:/path/in/bunker.`);
  return { bunkerId: match[1]!, path };
}

/** The kind of a bunker path, or undefined when it does not exist. */
async function remoteType(client: ScaiBunkerClient, at: BunkerPath): Promise<string | undefined> {
  try {
    return (await client.files.stat(at.bunkerId, at.path)).type;
  } catch (error) {
    if (error instanceof ScaiError && error.code === 'GUEST_PATH_NOT_FOUND') return undefined;
    throw error;
  }
}

/** Local file (or `-`: stdin) → bunker. Into an existing directory, the file keeps its name; parents are never created. */
async function upload(client: ScaiBunkerClient, source: string, to: BunkerPath, modeFlag: string | undefined): Promise<{ path: string; size: number }> {
  if (modeFlag !== undefined && !/^[0-7]{3,4}$/.test(modeFlag)) throw new ScaiError('VALIDATION_ERROR', `--mode takes octal permission bits, e.g. 0644 (got "${modeFlag}").`);
  let mode = modeFlag === undefined ? undefined : Number.parseInt(modeFlag, 8);
  const name = source === '-' ? undefined : basename(source);
  if (source !== '-') {
    const local = await stat(source).catch(() => undefined);
    if (!local) throw new ScaiError('VALIDATION_ERROR', `No such local file: ${source}`);
    if (local.isDirectory()) throw new ScaiError('VALIDATION_ERROR', `${source} is a directory: ${NO_DIRECTORIES}.`);
    // As scp does, a new file gets the local file's permission bits.
    mode ??= local.mode & 0o777;
  }
  let path = to.path;
  const type = path.endsWith('/') ? 'dir' : await remoteType(client, to);
  if (type === 'dir') {
    if (!name) throw new ScaiError('VALIDATION_ERROR', `${to.bunkerId}:${to.path} is a directory: give the file name to write stdin to.`);
    path = posix.join(path, name);
  }
  // A new file's directory must exist: checked first, so the error is plain and no byte is sent.
  const parent = posix.dirname(path);
  if (type === undefined || to.path.endsWith('/')) {
    const parentType = await remoteType(client, { bunkerId: to.bunkerId, path: parent });
    if (parentType !== 'dir') {
      throw new ScaiError(parentType ? 'GUEST_CONFLICT' : 'GUEST_PATH_NOT_FOUND', `${to.bunkerId}:${parent} ${parentType ? 'is not a directory' : 'does not exist (cp creates no directories)'}.`);
    }
  }
  const content = source === '-' ? process.stdin : createReadStream(source);
  return client.files.write(to.bunkerId, path, content, mode === undefined ? {} : { mode });
}

/** Bunker file → local file (or `-`: stdout). Into an existing local directory, the file keeps its name. */
async function download(client: ScaiBunkerClient, from: BunkerPath, target: string): Promise<void> {
  const type = await remoteType(client, from);
  if (type === undefined) throw new ScaiError('GUEST_PATH_NOT_FOUND', `${from.bunkerId}:${from.path} does not exist.`);
  if (type === 'dir') throw new ScaiError('VALIDATION_ERROR', `${from.bunkerId}:${from.path} is a directory: ${NO_DIRECTORIES}.`);
  let path = target;
  if (target !== '-') {
    if ((await stat(target).catch(() => undefined))?.isDirectory()) path = join(target, posix.basename(from.path));
    if (!(await stat(dirname(path)).catch(() => undefined))?.isDirectory()) throw new ScaiError('VALIDATION_ERROR', `No such local directory: ${dirname(path)}`);
  }
  const content = Readable.fromWeb((await client.files.read(from.bunkerId, from.path)) as NodeReadableStream<Uint8Array>);
  if (path === '-') {
    for await (const chunk of content) await writeAll(process.stdout, chunk as Buffer);
    return;
  }
  try {
    await pipeline(content, createWriteStream(path));
  } catch (error) {
    await unlink(path).catch(() => undefined);
    throw error;
  }
}

/** `scaibunker cp`: one file into or out of a bunker, streamed both ways. */
export const CP_COMMANDS: Record<string, Command> = {
  cp: {
    usage: 'cp <src> <dst> [--mode 0644]   (one side bnk_…:/abs/path, the other a local file, or - for stdin/stdout; streamed; files only)',
    flags: { mode: { type: 'string' } },
    run: async (ctx) => {
      const source = arg(ctx, 0, 'src');
      const target = arg(ctx, 1, 'dst');
      const from = parseBunkerPath(source);
      const to = parseBunkerPath(target);
      if (from && to) throw new ScaiError('VALIDATION_ERROR', 'Both sides are in bunkers: copy through a local file (one side must be local).');
      if (!from && !to) throw new ScaiError('VALIDATION_ERROR', 'One side must be in a bunker, written bnk_…:/absolute/path.');
      if (to) {
        const written = await upload(ctx.client(), source, to, str(ctx, 'mode'));
        if (ctx.json) printJson(written);
        return;
      }
      if (str(ctx, 'mode') !== undefined) throw new ScaiError('VALIDATION_ERROR', '--mode applies to uploads only.');
      await download(ctx.client(), from!, target);
    },
  },
};
