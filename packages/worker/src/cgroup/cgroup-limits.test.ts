import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { cpuQuotaUs, detectCgroupManager } from './cgroup-limits.js';

describe('cgroup limits', () => {
  it('turns millicores into a CFS quota per 100 ms', () => {
    expect(cpuQuotaUs(1000)).toBe(100_000);
    expect(cpuQuotaUs(250)).toBe(25_000);
    expect(cpuQuotaUs(2500)).toBe(250_000);
    expect(cpuQuotaUs(1)).toBe(1000);
  });

  it('confines a real process with the host’s own hierarchy and cleans up', async () => {
    const manager = await detectCgroupManager();
    const name = `test-${process.pid}-${Date.now()}`;
    const group = await manager.create(name, { cpuMillicores: 500, memoryBytes: 64 * 1024 * 1024, pids: 32, background: true });
    const child = spawn('sleep', ['30']);
    try {
      await group.addProcess(child.pid!);
      const membership = readFileSync(`/proc/${child.pid}/cgroup`, 'utf8');
      expect(membership).toContain(`scaibunker/${name}`);
      if (manager.version === 1) {
        expect(readFileSync(`/sys/fs/cgroup/cpu/scaibunker/${name}/cpu.cfs_quota_us`, 'utf8').trim()).toBe('50000');
        expect(readFileSync(`/sys/fs/cgroup/memory/scaibunker/${name}/memory.limit_in_bytes`, 'utf8').trim()).toBe(String(64 * 1024 * 1024));
        expect(readFileSync(`/sys/fs/cgroup/cpu/scaibunker/${name}/cpu.shares`, 'utf8').trim()).toBe('2');
        await manager.setBackground(name, false);
        expect(readFileSync(`/sys/fs/cgroup/cpu/scaibunker/${name}/cpu.shares`, 'utf8').trim()).toBe('1024');
      }
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => child.once('exit', r));
      await group.remove();
    }
  });

  // A cgroup v2 host cannot be had on these v1 machines: a directory stands in for the v2
  // filesystem (a named boundary fake), and the test checks the files the kernel would read.
  it('writes the v2 interface files on a unified hierarchy (fake cgroupfs directory)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'fake-cgroup2-'));
    writeFileSync(join(root, 'cgroup.controllers'), 'cpu memory pids\n');
    const manager = await detectCgroupManager(root);
    expect(manager.version).toBe(2);
    const group = await manager.create('vm1', { cpuMillicores: 1500, memoryBytes: 1 << 28, pids: 64 });
    expect(readFileSync(join(root, 'scaibunker/cgroup.subtree_control'), 'utf8')).toBe('+cpu +memory +pids');
    expect(readFileSync(join(root, 'scaibunker/vm1/cpu.max'), 'utf8')).toBe('150000 100000');
    expect(readFileSync(join(root, 'scaibunker/vm1/memory.max'), 'utf8')).toBe(String(1 << 28));
    expect(readFileSync(join(root, 'scaibunker/vm1/pids.max'), 'utf8')).toBe('64');
    expect(readFileSync(join(root, 'scaibunker/vm1/cpu.weight'), 'utf8')).toBe('100');
    await manager.setBackground('vm1', true);
    expect(readFileSync(join(root, 'scaibunker/vm1/cpu.weight'), 'utf8')).toBe('1');
    await group.addProcess(4242);
    expect(readFileSync(join(root, 'scaibunker/vm1/cgroup.procs'), 'utf8')).toBe('4242');
    expect(existsSync(join(root, 'scaibunker/vm1'))).toBe(true);
  });
});
