import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { DEFAULT_CACHE_DIR, VmRuntime, runAs } from '@scaibunker/worker';

const runtime = await VmRuntime.open({ dataDir: mkdtempSync(join(tmpdir(), 'probe-')), cacheDir: resolve(DEFAULT_CACHE_DIR), standbyVmms: 1 });
const rows: Record<string, number[]> = {};
let last = 0; let lastName = '';
(globalThis as any).__t = (n: string) => { const now = performance.now(); if (lastName) (rows[`${lastName}→${n}`] ??= []).push(now - last); last = now; lastName = n; };
const exec = async (vm: any, argv: string[]) => { const p = vm.agent.exec({ argv, ...runAs(undefined) }); p.stdout.resume(); p.stderr.resume(); await p.result; };
for (let i = 0; i < 14; i++) {
  lastName = ''; (globalThis as any).__t('begin');
  const vm: any = await runtime.start({ image: 'minimal', memoryMb: 128, diskMb: 1024 });
  (globalThis as any).__t('started');
  await exec(vm, ['echo', 'ok']);
  (globalThis as any).__t('exec1');
  await exec(vm, ['echo', 'ok']);
  (globalThis as any).__t('exec2');
  await vm.stop();
  await new Promise((r) => setTimeout(r, 300));
}
for (const [k, v] of Object.entries(rows)) { v.sort((a, b) => a - b); console.log(k.padEnd(32), ' p50', v[Math.floor(v.length / 2)]!.toFixed(1), ' min', v[0]!.toFixed(1)); }
await runtime.close();
process.exit(0);
