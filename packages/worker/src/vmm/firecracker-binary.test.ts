import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { findFirecrackerBinary } from './firecracker-binary.js';

describe('findFirecrackerBinary', () => {
  let root: string;

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'fc-binary-'));
    for (const dir of ['empty', 'notexec', 'bin', 'dir']) mkdirSync(join(root, dir));
    writeFileSync(join(root, 'notexec', 'firecracker'), '', { mode: 0o644 });
    writeFileSync(join(root, 'bin', 'firecracker'), '#!/bin/sh\n', { mode: 0o755 });
    mkdirSync(join(root, 'dir', 'firecracker'));
  });

  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('finds the first executable firecracker file on PATH', async () => {
    const path = ['relative/bin', join(root, 'empty'), join(root, 'notexec'), join(root, 'dir'), join(root, 'bin')].join(':');
    expect(await findFirecrackerBinary(path)).toBe(join(root, 'bin', 'firecracker'));
  });

  it('answers undefined when there is none (as on the machines this was written on)', async () => {
    expect(await findFirecrackerBinary([join(root, 'empty'), join(root, 'dir')].join(':'))).toBeUndefined();
    expect(await findFirecrackerBinary('')).toBeUndefined();
  });
});
