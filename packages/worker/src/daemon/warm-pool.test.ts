import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testRuntime } from '../testing/test-runtime.js';
import type { VmRuntime } from '../runtime/vm-runtime.js';
import { BunkerHost } from './bunker-host.js';
import { WarmPool, parseWarmPool } from './warm-pool.js';

describe('warm pools', () => {
  it('parse image=size[:memoryMb[:cpuMillicores]] and refuse anything else', () => {
    expect(parseWarmPool('minimal=2, debian-python=1:1024:2000:4096')).toEqual([
      { image: 'minimal', size: 2, memoryMb: 512, cpuMillicores: 1000, diskMb: 1024 },
      { image: 'debian-python', size: 1, memoryMb: 1024, cpuMillicores: 2000, diskMb: 4096 },
    ]);
    expect(parseWarmPool(undefined)).toEqual([]);
    expect(() => parseWarmPool('minimal')).toThrow(/image=size/);
  });

  describe('with real VMs', () => {
    let runtime: VmRuntime;
    let pool: WarmPool;
    let host: BunkerHost;

    beforeAll(async () => {
      runtime = await testRuntime();
      pool = new WarmPool(runtime, [{ image: 'minimal', size: 1, memoryMb: 128, cpuMillicores: 1000, diskMb: 128 }], { warn: () => undefined });
      host = new BunkerHost(runtime, pool);
      await pool.fill();
    }, 180_000);
    afterAll(async () => { await host?.stopAll(); await pool?.stop(); });

    it('hands a waiting VM to a start of its shape, as that bunker, and refills behind it', async () => {
      expect(pool.sizes()).toEqual({ 'minimal:128m:1000mc:128d': 1 });
      expect(pool.reserved).toEqual({ cpuMillicores: 1000, memoryMb: 128 });
      const bunkerId = 'bnk_0123456789abcdefghjkmnpqrs';
      await host.start({ bunkerId, image: 'minimal', memoryMb: 128, cpuMillicores: 1000, diskMb: 256, envVars: {} });
      expect(pool.stats).toMatchObject({ hits: 1, misses: 0 });
      const result = await host.exec(bunkerId, { argv: ['sh', '-c', "hostname; df -m / | awk 'NR==2 {print $2}'"], env: {}, timeoutS: 10, outputCapBytes: 4096 });
      const [hostname, sizeMib] = result.stdout.trim().split('\n');
      expect(hostname).toBe('bnk-0123456789abcdefghjkmnpqrs');
      expect(Number(sizeMib)).toBeGreaterThan(200);
      for (let i = 0; i < 100 && pool.sizes()['minimal:128m:1000mc:128d'] === 0; i++) await new Promise((r) => setTimeout(r, 100));
      expect(pool.sizes()).toEqual({ 'minimal:128m:1000mc:128d': 1 });

      // Another shape is not served from the pool.
      const other = 'bnk_1123456789abcdefghjkmnpqrs';
      await host.start({ bunkerId: other, image: 'minimal', memoryMb: 96, cpuMillicores: 1000, diskMb: 64, envVars: {} });
      expect(pool.stats.hits).toBe(1);
      const proc = (await host.exec(other, { argv: ['hostname'], env: {}, timeoutS: 10, outputCapBytes: 4096 })).stdout;
      expect(proc.trim()).toBe('bnk-1123456789abcdefghjkmnpqrs');
    }, 180_000);
  });
});
