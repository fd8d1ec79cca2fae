import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { randomBytes } from 'node:crypto';
import { DEFAULT_CACHE_DIR, VmRuntime } from '@scaibunker/worker';

const runtime = await VmRuntime.open({ dataDir: mkdtempSync(join(tmpdir(), 'probe-')), cacheDir: resolve(DEFAULT_CACHE_DIR) });
const rows: Record<string, number[]> = {};
let last = 0; let lastName = '';
(globalThis as any).__t = (n: string) => { const now = performance.now(); if (lastName) (rows[`${lastName}→${n}`] ??= []).push(now - last); last = now; lastName = n; };
const t = async (name: string, f: () => Promise<unknown>) => { const s = performance.now(); await f(); (rows[name] ??= []).push(performance.now() - s); };
const exec = async (vm: any, argv: string[]) => { const p = vm.agent.exec({ argv, ...(process.env.PROBE_USER ? { user: 'user', uid: 1000, gid: 1000 } : {}) }); p.stdout.resume(); p.stderr.resume(); await p.result; };
for (let i = 0; i < 12; i++) {
  const s = performance.now(); lastName = '';
  const vm: any = await runtime.start({ image: 'minimal', memoryMb: 128, diskMb: 1024 });
  (rows['start(restore+thaw+identity)'] ??= []).push(performance.now() - s);
  await t('ping1', () => vm.agent.ping());
  await t('ping2', () => vm.agent.ping());
  await t('entropy', () => vm.agent.setIdentity({ entropy: randomBytes(64) }));
  await t('machineid', () => vm.agent.setIdentity({ machineId: randomBytes(16).toString('hex') }));
  await t('hostname', () => vm.agent.setIdentity({ hostname: 'x' + i }));
  await t('clock', () => vm.agent.setIdentity({ timeMs: Date.now() }));
  await t('exec1', () => exec(vm, JSON.parse(process.env.PROBE_ARGV ?? '["echo","ok"]')));
  await t('exec2 echo', () => exec(vm, ['echo', 'ok']));
  await t('exec3 sh -c', () => exec(vm, ['/bin/sh', '-c', 'echo']));
  await vm.stop();
}
for (const [k, v] of Object.entries(rows)) { v.sort((a, b) => a - b); console.log(k.padEnd(32), v.map((x) => x.toFixed(1)).slice(0, 6).join(' '), ' p50', v[Math.floor(v.length / 2)]!.toFixed(1)); }
process.exit(0);
