import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { listNetns, runIn, type WorkerDaemon } from '@scaibunker/worker';
import { startFakeInternet, type FakeInternet } from './fake-internet.js';
import { startPlatform, type Platform } from './in-process-platform.js';

/**
 * Bunker networks with real VMs, on a worker whose uplink is a namespace this test made, with
 * a fake internet behind it (a resolver and HTTP hosts of its own): no guest packet can reach
 * any other network.
 */
describe('bunker network profiles', () => {
  let platform: Platform;
  let internet: FakeInternet;
  let daemon: WorkerDaemon;
  const call = async (method: string, path: string, body?: unknown) => (await platform.call(method, path, body)).body;
  const sh = async (bunkerId: string, script: string) => {
    const answer = await call('POST', `/bunkers/${bunkerId}/exec`, { command: ['sh', '-c', script], timeout_s: 20 });
    if (answer.status !== 'ok') throw new Error(`exec failed: ${JSON.stringify(answer.error)}`);
    return answer.data as { exit_code: number; stdout: string; stderr: string };
  };
  const create = async (body: Record<string, unknown>) => {
    const answer = await call('POST', '/bunkers', { image: 'minimal', memory_mb: 128, cpu_millicores: 250, ...body });
    if (answer.status !== 'ok') throw new Error(`create failed: ${JSON.stringify(answer.error)}`);
    if (answer.data.status !== 'running') throw new Error(`not running: ${answer.data.failure_reason}`);
    return answer.data as { id: string };
  };
  const workerOptions = () => ({ cpuMillicores: 16_000, network: { uplinkNetns: internet.uplinkNetns, resolver: internet.resolver, registries: ['registry.example.test'] } });
  const workerNetns = async () => (await listNetns('sb-')).filter((name) => name.includes('bnk_'));

  beforeAll(async () => {
    internet = await startFakeInternet({
      records: { 'api.example.test': '198.51.100.10', 'a.pkg.example.test': '198.51.100.11', 'evil.example.test': '198.51.100.66', 'registry.example.test': '198.51.100.20' },
      http: [{ address: '198.51.100.10' }, { address: '198.51.100.11' }, { address: '198.51.100.66' }, { address: '198.51.100.20' }],
    });
    platform = await startPlatform();
    daemon = await platform.startWorker('worker', workerOptions());
  }, 180_000);
  afterAll(async () => {
    await platform?.close();
    await internet?.close();
  });

  it('isolated: the guest has no interface but lo', async () => {
    const bunker = await create({});
    const { stdout } = await sh(bunker.id, 'ls /sys/class/net');
    expect(stdout.split(/\s+/).filter(Boolean)).toEqual(['lo']);
    await call('DELETE', `/bunkers/${bunker.id}`);
  }, 60_000);

  it('unrestricted: the guest has its own MAC and address, resolves names and reaches the internet’s hosts', async () => {
    const [a, b] = [await create({ network_profile: 'unrestricted' }), await create({ network_profile: 'unrestricted' })];
    const nicOf = async (id: string) => (await sh(id, 'cat /sys/class/net/eth0/address; ip -4 -o addr show dev eth0')).stdout;
    const [nicA, nicB] = [await nicOf(a.id), await nicOf(b.id)];
    expect(nicA).toMatch(/^02:[0-9a-f:]{14}\n.*inet 100\.96\.\d+\.\d+\/16/);
    expect(nicA.split('\n')[0]).not.toBe(nicB.split('\n')[0]);
    expect(/inet (\S+)/.exec(nicA)![1]).not.toBe(/inet (\S+)/.exec(nicB)![1]);

    const byAddress = await sh(a.id, 'timeout 5 wget -q -O - http://198.51.100.10/');
    expect(byAddress.stdout).toContain('hello from 198.51.100.10');
    const byName = await sh(a.id, 'timeout 5 wget -q -O - http://api.example.test/');
    expect(byName.stdout).toContain('hello from 198.51.100.10 (api.example.test)');
    await internet.waitFor((e) => e.kind === 'dns' && e.name === 'api.example.test');

    // Never from a forged source address (it would slip past the egress audit).
    const own = /inet 100\.96\.(\d+)\.(\d+)/.exec(nicA)!;
    const forged = `100.96.${own[1]}.${Number(own[2]) + 1}`;
    const spoof = await call('POST', `/bunkers/${a.id}/exec`, { command: ['sh', '-c', `ip addr add ${forged}/30 dev eth0 && printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 5 nc -s ${forged} 198.51.100.10 80; echo "forged=$?"`], user: 'root', timeout_s: 20 });
    expect(spoof.data.stdout).toMatch(/forged=[1-9]/);
    expect(spoof.data.stdout).not.toContain('hello from');
    // Never the link network (the uplink host, other bunkers) nor link-local addresses.
    const linkB = /inet 100\.96\.(\d+)\.(\d+)/.exec(nicB)!;
    const blocked = await sh(a.id, `timeout 5 wget -q -O - http://100.97.0.1/ ; echo "uplink=$?"; timeout 5 wget -q -O - http://100.97.${linkB[1]}.${Number(linkB[2])}/ ; echo "peer=$?"; timeout 5 wget -q -O - http://169.254.169.254/ ; echo "metadata=$?"`);
    expect(blocked.stdout).toMatch(/uplink=[1-9].*peer=[1-9].*metadata=[1-9]/s);
    for (const bunker of [a, b]) await call('DELETE', `/bunkers/${bunker.id}`);
    expect(await workerNetns()).toEqual([]);
  }, 120_000);

  it('allowlisted: only the listed names resolve and connect; everything else fails and each refusal is logged', async () => {
    const bunker = await create({ network_profile: 'allowlisted', network_allowlist: ['API.example.test', '*.pkg.example.test'] });
    expect((await call('GET', `/bunkers/${bunker.id}`)).data.network_allowlist).toEqual(['api.example.test', '*.pkg.example.test']);
    expect((await sh(bunker.id, 'timeout 5 wget -q -O - http://api.example.test/')).stdout).toContain('hello from 198.51.100.10 (api.example.test)');
    expect((await sh(bunker.id, 'timeout 5 wget -q -O - http://a.pkg.example.test/')).stdout).toContain('hello from 198.51.100.11 (a.pkg.example.test)');

    const evil = await sh(bunker.id, 'timeout 5 wget -q -O - http://evil.example.test/; echo "exit=$?"');
    expect(evil.stdout).toMatch(/exit=[1-9]/);
    const hardCoded = await sh(bunker.id, 'timeout 5 wget -q -O - http://198.51.100.66/; echo "exit=$?"');
    expect(hardCoded.stdout).toMatch(/exit=[1-9]/);
    const otherResolver = await sh(bunker.id, 'nslookup -timeout=2 evil.example.test 198.51.100.53; echo "exit=$?"');
    expect(otherResolver.stdout).toMatch(/exit=[1-9]/);
    // The unlisted host never saw a request, and the fake resolver never saw the refused name.
    expect(internet.events.some((e) => e.kind === 'http' && e.address === '198.51.100.66')).toBe(false);
    expect(internet.events.some((e) => e.kind === 'dns' && e.name === 'evil.example.test')).toBe(false);

    let network = (await call('GET', `/bunkers/${bunker.id}/network`)).data;
    for (const end = Date.now() + 10_000; network.denied.connections < 2 && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 200));
      network = (await call('GET', `/bunkers/${bunker.id}/network`)).data;
    }
    expect(network).toMatchObject({ profile: 'allowlisted', allowlist: ['api.example.test', '*.pkg.example.test'], guest: { address: expect.stringMatching(/^100\.96\./) } });
    expect(network.denied.names).toBeGreaterThanOrEqual(1);
    expect(network.recent_denials).toEqual(expect.arrayContaining([
      expect.objectContaining({ kind: 'dns', name: 'evil.example.test' }),
      expect.objectContaining({ kind: 'connection', protocol: 'tcp', destination: '198.51.100.66', port: 80 }),
      expect.objectContaining({ kind: 'connection', protocol: 'udp', destination: '198.51.100.53', port: 53 }),
    ]));
    await call('DELETE', `/bunkers/${bunker.id}`);
  }, 120_000);

  it('registry: only the worker’s registries resolve', async () => {
    const bunker = await create({ network_profile: 'registry' });
    expect((await sh(bunker.id, 'timeout 5 wget -q -O - http://registry.example.test/')).stdout).toContain('hello from 198.51.100.20');
    expect((await sh(bunker.id, 'timeout 5 wget -q -O - http://api.example.test/; echo "exit=$?"')).stdout).toMatch(/exit=[1-9]/);
    await call('DELETE', `/bunkers/${bunker.id}`);
  }, 60_000);

  it('unrestricted with egress audit: three HTTP requests are three flow records with their byte counts', async () => {
    expect((await call('PUT', '/v1/modules/scaibunker/config', { egress_audit: true })).status).toBe('ok');
    const bunker = await create({ network_profile: 'unrestricted' });
    expect((await call('GET', `/bunkers/${bunker.id}`)).data.egress_audit).toBe(true);
    const sizes = [1000, 20_000, 300_000];
    for (const size of sizes) expect((await sh(bunker.id, `timeout 5 wget -q -O - http://198.51.100.11/bytes/${size} | wc -c`)).stdout.trim()).toBe(String(size));
    // A flow's record comes when it ends: conntrack reports a closed TCP flow within seconds.
    const httpFlows = async () => {
      const flows: any[] = [];
      let cursor: string | null = null;
      do {
        const page: any = (await platform.call('GET', `/bunkers/${bunker.id}/egress-audit?limit=2${cursor ? `&cursor=${cursor}` : ''}`)).body;
        flows.push(...page.data);
        cursor = page.next_cursor;
      } while (cursor);
      return flows.filter((f) => f.dport === 80 && f.dst === '198.51.100.11');
    };
    let flows = await httpFlows();
    for (const end = Date.now() + 30_000; flows.length < 3 && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 500));
      flows = await httpFlows();
    }
    expect(flows).toHaveLength(3);
    const served = internet.events.filter((e) => e.kind === 'http' && e.address === '198.51.100.11' && e.url.startsWith('/bytes/'));
    for (const [i, size] of sizes.entries()) {
      const flow = flows[i];
      expect(flow).toMatchObject({ bunker_id: bunker.id, protocol: 'tcp', src: expect.stringMatching(/^100\.96\./), verdict: 'allowed', dns_name: null });
      // IP bytes: the payload, the HTTP header (~150 bytes) and the IP and TCP headers (20 + 32 a packet).
      const response = size + 150;
      expect(flow.bytes_in, JSON.stringify(flow)).toBeGreaterThan(response);
      expect(flow.bytes_in, JSON.stringify(flow)).toBeLessThan(response + 100 + flow.packets_in * 60);
      expect(flow.bytes_out).toBeGreaterThan(100);
      expect(flow.bytes_out).toBeLessThan(400 + flow.packets_out * 80);
      expect(Date.parse(flow.end)).toBeGreaterThanOrEqual(Date.parse(flow.start));
      expect(served.some((e) => e.kind === 'http' && e.url === `/bytes/${size}`)).toBe(true);
    }
    // A name the guest resolved is on its flows.
    await sh(bunker.id, 'timeout 5 wget -q -O /dev/null http://api.example.test/');
    await call('DELETE', `/bunkers/${bunker.id}`); // its last flows are written as it ends
    const audit = (await call('GET', `/bunkers/${bunker.id}/egress-audit?limit=200`)).data as any[];
    expect(audit.filter((f) => f.dport === 80 && f.dst === '198.51.100.10')).toEqual([expect.objectContaining({ dns_name: 'api.example.test' })]);
    // The query itself is on the record too: names can carry data out.
    expect(audit).toEqual(expect.arrayContaining([expect.objectContaining({ protocol: 'dns', dns_name: 'api.example.test (type 1)', verdict: 'allowed' })]));
    expect((await call('PUT', '/v1/modules/scaibunker/config', { egress_audit: false })).status).toBe('ok');
  }, 90_000);

  it('transit: bunkers of one tenant exchange frames on its bridge; spoof_guard drops a forged source MAC unless turned off (audited); other tenants cannot attach', async () => {
    const bridge = (await call('POST', '/bridges', { name: 'lan' }));
    expect(bridge.status).toBe('ok');
    const lan = bridge.data as { id: string; worker_id: string };
    const transit = (extra: Record<string, unknown> = {}) => create({ network_profile: 'transit', interfaces: [{ if_name: 'lan0', bridge_name: 'lan', ...extra }] });
    const [a, b] = [await transit({ mac: '02:00:00:00:0a:01' }), await transit()];
    // A MAC another live bunker has on the bridge would be a way past its spoof guard.
    const twin = await call('POST', '/bunkers', { image: 'minimal', network_profile: 'transit', interfaces: [{ if_name: 'lan0', bridge_name: 'lan', mac: '02:00:00:00:0a:01' }] });
    expect(twin.error).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ field: 'interfaces[0].mac', message: expect.stringContaining('another live bunker') }] });
    expect((await call('GET', `/bunkers/${a.id}`)).data.interfaces).toEqual([{ if_name: 'lan0', bridge_id: lan.id, bridge_name: 'lan', mac: '02:00:00:00:0a:01', spoof_guard: true }]);
    const root = async (bunkerId: string, script: string) => {
      const answer = await call('POST', `/bunkers/${bunkerId}/exec`, { command: ['sh', '-c', script], user: 'root', timeout_s: 20 });
      if (answer.status !== 'ok') throw new Error(`exec failed: ${JSON.stringify(answer.error)}`);
      return answer.data as { exit_code: number; stdout: string; stderr: string };
    };
    // The guest sees its interface under its own name, with its MAC, beside eth0.
    expect((await root(a.id, 'cat /sys/class/net/lan0/address; ls /sys/class/net')).stdout.split(/\s+/).filter(Boolean)).toEqual(['02:00:00:00:0a:01', 'eth0', 'lan0', 'lo']);
    await root(a.id, 'ip addr add 192.168.50.1/24 dev lan0');
    await root(b.id, 'ip addr add 192.168.50.2/24 dev lan0');
    expect((await root(a.id, 'ping -c 2 -W 3 192.168.50.2')).exit_code).toBe(0);

    // A forged source MAC: with spoof_guard on, nothing of it crosses the bridge (ARP included).
    const forge = 'ip neigh flush dev lan0; ip link set lan0 down; ip link set lan0 address 02:66:66:66:66:66; ip link set lan0 up';
    await root(a.id, forge);
    expect((await root(a.id, 'ping -c 2 -W 2 192.168.50.2')).exit_code).not.toBe(0);
    // With spoof_guard off (scaibunker:l2_transparency; the admin holds it) the same forgery passes, and is on the record.
    const open = await transit({ spoof_guard: false });
    await root(open.id, `ip addr add 192.168.50.3/24 dev lan0; ${forge}`);
    expect((await root(open.id, 'ping -c 2 -W 3 192.168.50.2')).exit_code).toBe(0);
    const audit = (await call('GET', `/v1/audit?action=bunker.interface.spoof_guard_off`)).data as { target_id: string }[];
    expect(audit.map((row) => row.target_id)).toContain(open.id);

    // Another tenant neither sees the bridge nor attaches to it.
    const tenant = (await call('POST', '/v1/tenants', { slug: 'other-tenant', name: 'Other' })).data;
    const user = (await call('POST', '/v1/users', { email: 'other@example.test', display_name: 'Other', role: 'tenant_admin', tenant_id: tenant.id })).data;
    const key = (await call('POST', '/v1/api-keys', { name: 'other', user_id: user.id })).data.secret as string;
    expect((await platform.call('GET', `/bridges/${lan.id}`, undefined, key)).body.error?.code).toBe('NOT_FOUND');
    expect((await platform.call('GET', '/bridges', undefined, key)).body.data).toEqual([]);
    const foreign = await platform.call('POST', '/bunkers', { image: 'minimal', memory_mb: 128, cpu_millicores: 250, network_profile: 'transit', interfaces: [{ if_name: 'lan0', bridge_name: 'lan' }] }, key);
    expect(foreign.body.error).toMatchObject({ code: 'VALIDATION_ERROR', details: [{ field: 'interfaces[0].bridge_name' }] });
    // A user who may use transit but lacks scaibunker:l2_transparency keeps spoof_guard on.
    const plain = (await call('POST', '/v1/users', { email: 'plain@example.test', display_name: 'Plain', role: 'tenant_user' })).data;
    expect((await call('POST', `/v1/users/${plain.id}/permissions`, { permission: 'scaibunker:network:transit' })).status).toBe('ok');
    const userKey = (await call('POST', '/v1/api-keys', { name: 'plain', user_id: plain.id })).data.secret as string;
    const denied = await platform.call('POST', '/bunkers', { image: 'minimal', network_profile: 'transit', interfaces: [{ if_name: 'lan0', bridge_name: 'lan', spoof_guard: false }] }, userKey);
    expect(denied.body.error?.code).toBe('AUTHZ_PERMISSION_DENIED');
    expect(denied.body.error?.message).toContain('scaibunker:l2_transparency');

    // A bridge in use cannot go; once its bunkers are gone it does, with its namespace.
    expect((await call('DELETE', `/bridges/${lan.id}`)).error?.code).toBe('CONFLICT');
    for (const bunker of [a, b, open]) await call('DELETE', `/bunkers/${bunker.id}`);
    expect((await call('DELETE', `/bridges/${lan.id}`)).status).toBe('ok');
    expect((await listNetns('sbbr-')).some((name) => name.endsWith(lan.id))).toBe(false);
  }, 180_000);

  it('bandwidth_mbit: 10 caps both directions at 10 Mbit/s (within 20 %)', async () => {
    const bunker = await create({ network_profile: 'unrestricted', bandwidth_mbit: 10 });
    expect((await call('GET', `/bunkers/${bunker.id}`)).data.bandwidth_mbit).toBe(10);
    const bytes = 6_250_000; // 5 s at 10 Mbit/s
    // Timed inside the guest around the transfer alone, in the uptime's hundredths of a second.
    const now = `$(awk '{ printf "%d", $1 * 100 }' /proc/uptime)`;
    const timed = (command: string) => `s=${now}; ${command} || exit 1; e=${now}; echo $(( (e - s) * 10 ))`;
    const down = await sh(bunker.id, timed(`timeout 20 wget -q -O /dev/null http://198.51.100.10/bytes/${bytes}`));
    expect(down.exit_code).toBe(0);
    // busybox wget sends no body with --post-file: nc carries the request.
    const post = `{ printf 'POST /upload HTTP/1.0\\r\\nContent-Length: ${bytes}\\r\\n\\r\\n'; head -c ${bytes} /dev/zero; } | timeout 20 nc 198.51.100.10 80 > /dev/null`;
    const up = await sh(bunker.id, timed(post));
    expect(up.exit_code).toBe(0);
    const uploaded = await internet.waitFor((e) => e.kind === 'http' && e.url === '/upload');
    expect(uploaded, JSON.stringify(uploaded)).toMatchObject({ received: bytes });
    for (const [direction, ms] of [['down', Number(down.stdout.trim())], ['up', Number(up.stdout.trim())]] as const) {
      const mbit = (bytes * 8) / (ms / 1000) / 1e6;
      console.info(`bandwidth_mbit 10, ${direction}: ${mbit.toFixed(2)} Mbit/s (${bytes} bytes in ${ms} ms)`);
      expect(mbit, `${direction}: ${mbit.toFixed(2)} Mbit/s over ${ms} ms`).toBeGreaterThan(8);
      expect(mbit, `${direction}: ${mbit.toFixed(2)} Mbit/s over ${ms} ms`).toBeLessThan(12);
    }
    await call('DELETE', `/bunkers/${bunker.id}`);
  }, 90_000);

  it('a worker killed mid-way leaves nothing behind: its restart adopts live bunkers’ networks and removes the rest', async () => {
    const kept = await create({ network_profile: 'unrestricted' });
    // The lost one has a bandwidth cap (qdiscs) and a transit interface (a tap in its bridge's namespace).
    const bridge = (await call('POST', '/bridges', { name: 'crash-lan' })).data as { id: string };
    const lost = await create({ network_profile: 'transit', interfaces: [{ if_name: 'lan0', bridge_name: 'crash-lan' }], bandwidth_mbit: 50 });
    const bridgeNetns = (await listNetns('sbbr-')).find((name) => name.endsWith(bridge.id))!;
    const bridgeTaps = async () => (await runIn(bridgeNetns, 'ip', ['-o', 'link', 'show'])).stdout.match(/\bt\d+x\d+\b/g) ?? [];
    expect(await bridgeTaps()).toHaveLength(1);
    const ofThese = async () => (await workerNetns()).filter((name) => name.endsWith(kept.id) || name.endsWith(lost.id));
    expect(await ofThese()).toHaveLength(2);
    const lostVmm = daemon.bunkers.locate(lost.id).pid;
    // Its link's device in the uplink: sbv<slot>, the slot read off its guest address (100.96.x.y = slot * 4 + 2).
    const guest = (await call('GET', `/bunkers/${lost.id}/network`)).data.guest.address.split('.').map(Number) as number[];
    const lostDevice = `sbv${(guest[2]! * 256 + guest[3]! - 2) / 4}`;
    expect((await runIn(internet.uplinkNetns, 'ip', ['-o', 'link', 'show'])).stdout).toContain(`${lostDevice}@`);
    await daemon.stop({ keepBunkers: true });
    process.kill(lostVmm, 'SIGKILL');
    daemon = await platform.startWorker('worker', workerOptions());
    const left = await ofThese();
    expect(left).toHaveLength(1);
    expect(left[0]).toContain(kept.id);
    // The uplink holds the worker's one table, and nothing of the lost bunker's link.
    expect((await runIn(internet.uplinkNetns, 'nft', ['list', 'tables'])).stdout.trim()).toBe('table ip scaibunker_uplink');
    expect((await runIn(internet.uplinkNetns, 'ip', ['-o', 'link', 'show'])).stdout).not.toContain(`${lostDevice}@`);
    expect(await bridgeTaps()).toEqual([]);
    expect((await sh(kept.id, 'timeout 5 wget -q -O - http://198.51.100.11/')).stdout).toContain('hello from 198.51.100.11');
    await call('DELETE', `/bunkers/${kept.id}`);
    expect(await ofThese()).toEqual([]);
    expect((await call('DELETE', `/bridges/${bridge.id}`)).status).toBe('ok');
  }, 120_000);
});
