import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer, type IncomingHttpHeaders, type Server as HttpServer } from 'node:http';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { detectCgroupManager } from '../cgroup/cgroup-limits.js';
import { AGENT_VSOCK_PORT, FirecrackerDriver, snapshotMemoryPath } from './firecracker-driver.js';
import type { VmHandle, VmSpec } from './vmm-driver.js';

interface RecordedRequest {
  method: string;
  path: string;
  body: unknown;
  headers: IncomingHttpHeaders;
}

type Answer = { status: number; body?: unknown } | undefined;

/**
 * A stand-in for the Firecracker binary's API server (no Firecracker can be installed here):
 * HTTP on a unix socket that records every request and answers 204, or what `respond` says
 * (for instance `{ fault_message }` with 400, as Firecracker reports a refusal).
 */
async function fakeFirecrackerApi(path: string, respond: (request: RecordedRequest) => Answer = () => undefined) {
  const requests: RecordedRequest[] = [];
  const server: HttpServer = createHttpServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const request = { method: req.method ?? '', path: req.url ?? '', body: text ? JSON.parse(text) : undefined, headers: req.headers };
      requests.push(request);
      const answer = respond(request) ?? { status: 204 };
      if (answer.body === undefined) res.writeHead(answer.status).end();
      else res.writeHead(answer.status, { 'Content-Type': 'application/json' }).end(JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { requests, close: () => new Promise((r) => server.close(r)) };
}

/**
 * A stand-in for the firecracker executable (static, as Firecracker's releases are, so that it
 * runs in the real jail with nothing of the host's). In its work dir (its cwd) it records its
 * uid and arguments, links the API socket path it is given (`--api-sock PATH`) to the fake API
 * server named in stand-in.api, and idles as a VMM does until killed. If stand-in.fail
 * exists, it prints that to stderr and exits 1, as a Firecracker failing at start does.
 * Needs what the jailer needs (root, a /dev/kvm node to bind, nothing uses it) and gcc with a
 * static libc.
 */
const STAND_IN_SOURCE = `
#include <stdio.h>
#include <unistd.h>
int main(int argc, char **argv)
{
	char text[4096] = "";
	FILE *f = fopen("stand-in.fail", "r");
	if (f) {
		text[fread(text, 1, sizeof text - 1, f)] = 0;
		fputs(text, stderr);
		return 1;
	}
	if (!(f = fopen("stand-in.argv", "w"))) return 2;
	fprintf(f, "%u\\n", getuid());
	for (int i = 1; i < argc; i++) fprintf(f, "%s\\n", argv[i]);
	fclose(f);
	if (argc < 3 || !(f = fopen("stand-in.api", "r")) || !fgets(text, sizeof text, f) || symlink(text, argv[2])) return 3;
	for (;;) pause();
}
`;

const JAILER_BUILD = fileURLToPath(new URL('../../jailer/build.sh', import.meta.url));
const JAIL_UID = 200_917;

describe('FirecrackerDriver against a stand-in Firecracker, in the real jail', () => {
  let tools: string;
  let jailerPath: string;
  let standIn: string;
  let root: string;
  let workDir: string;
  let apiPath: string;
  let spec: VmSpec;
  const cleanups: (() => Promise<unknown>)[] = [];

  beforeAll(() => {
    tools = mkdtempSync(join(tmpdir(), 'fc-stand-in-'));
    jailerPath = execFileSync('bash', [JAILER_BUILD], { encoding: 'utf8' }).trim().split('\n').pop()!;
    writeFileSync(join(tools, 'stand-in.c'), STAND_IN_SOURCE);
    standIn = join(tools, 'firecracker');
    execFileSync('gcc', ['-static', '-O1', '-o', standIn, join(tools, 'stand-in.c')]);
  });

  afterAll(() => rmSync(tools, { recursive: true, force: true }));

  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'fc-driver-'));
    mkdirSync(join(root, 'jail'));
    workDir = join(root, 'vm');
    mkdirSync(workDir, { mode: 0o700 });
    chownSync(workDir, JAIL_UID, JAIL_UID);
    apiPath = join(root, 'fake-api.sock');
    writeFileSync(join(workDir, 'stand-in.api'), apiPath);
    // The jail binds the kernel in: it must exist, though nothing boots it here.
    writeFileSync(join(root, 'vmlinux'), 'not a kernel');
    spec = {
      id: `fc-test-${process.pid}-${Date.now()}`, workDir, kernelPath: join(root, 'vmlinux'), diskPath: join(workDir, 'disk.raw'), diskFormat: 'raw',
      sharedFiles: [], memoryMb: 256, vcpus: 2, cpuMillicores: 1500, hostname: 'box-7', jailUid: JAIL_UID,
    };
  });

  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
    rmSync(root, { recursive: true, force: true });
  });

  async function driverWith(respond?: (request: RecordedRequest) => Answer) {
    const api = await fakeFirecrackerApi(apiPath, respond);
    cleanups.push(api.close);
    const driver = new FirecrackerDriver({
      firecrackerBinary: standIn, jail: { jailerPath, rootDir: join(root, 'jail') }, tscKhz: 2_100_000, cgroups: await detectCgroupManager(),
    });
    return { driver, api };
  }

  function track(vm: VmHandle): VmHandle {
    cleanups.push(() => vm.kill());
    return vm;
  }

  const calls = (requests: RecordedRequest[]) => requests.map(({ method, path, body }) => ({ method, path, body }));

  it('boots with exactly the documented request sequence and bodies', async () => {
    const { driver, api } = await driverWith();
    const vm = track(await driver.boot(spec));
    expect(calls(api.requests)).toEqual([
      { method: 'PUT', path: '/machine-config', body: { vcpu_count: 2, mem_size_mib: 256 } },
      { method: 'PUT', path: '/boot-source', body: { kernel_image_path: spec.kernelPath, boot_args: driver.bootArgs(spec) } },
      { method: 'PUT', path: '/drives/rootfs', body: { drive_id: 'rootfs', path_on_host: 'disk.raw', is_root_device: true, is_read_only: false, cache_type: 'Unsafe' } },
      { method: 'PUT', path: '/vsock', body: { guest_cid: 3, uds_path: 'v.sock' } },
      { method: 'PUT', path: '/entropy', body: {} },
      { method: 'PUT', path: '/actions', body: { action_type: 'InstanceStart' } },
    ]);
    for (const { headers } of api.requests) {
      // Firecracker's micro_http reads bodies by Content-Length only.
      expect(headers['content-type']).toBe('application/json');
      expect(headers['content-length']).toBeDefined();
      expect(headers['transfer-encoding']).toBeUndefined();
    }
    // The VMM runs as the jail uid, in its cgroup, with the API socket in its work dir, and
    // sees its kernel and work dir but nothing else of the host's (the fake API server here).
    expect(readFileSync(join(workDir, 'stand-in.argv'), 'utf8').trim().split('\n')).toEqual([String(JAIL_UID), '--api-sock', join(workDir, 'fc.sock')]);
    expect(readFileSync(`/proc/${vm.pid}/cgroup`, 'utf8')).toContain(`scaibunker/${spec.id}`);
    const inJail = (path: string) => existsSync(`/proc/${vm.pid}/root${path}`);
    expect([spec.kernelPath, workDir, '/dev/kvm'].map(inJail)).toEqual([true, true, true]);
    expect([apiPath, '/etc/passwd', '/usr'].map(inJail)).toEqual([false, false, false]);
  });

  it('boots the agent on vsock with QEMU’s console, quiet and timer arguments', async () => {
    const { driver } = await driverWith();
    const args = driver.bootArgs(spec).split(' ');
    expect(args).toEqual(expect.arrayContaining([
      'console=ttyS0', 'quiet', 'init=/sbin/scaibunker-agent', 'rootfstype=ext4', 'reboot=k', 'panic=-1',
      'random.trust_cpu=on', 'tsc=reliable', 'no_timer_check', 'tsc_early_khz=2100000',
      'scaibunker.transport=vsock', 'scaibunker.hostname=box-7',
    ]));
    expect(args).not.toContain('nolapic_timer'); // two vCPUs
    expect(driver.bootArgs({ ...spec, vcpus: 1 }).split(' ')).toContain('nolapic_timer');
  });

  it('gives Firecracker the initramfs when the spec has one, bound into its jail', async () => {
    const { driver, api } = await driverWith();
    const initrdPath = join(root, 'initrd.img');
    writeFileSync(initrdPath, 'not an initramfs');
    const vm = track(await driver.boot({ ...spec, initrdPath }));
    expect(api.requests.find((r) => r.path === '/boot-source')?.body).toMatchObject({ initrd_path: initrdPath });
    expect(existsSync(`/proc/${vm.pid}/root${initrdPath}`)).toBe(true);
  });

  it('pauses and resumes with PATCH /vm', async () => {
    const { driver, api } = await driverWith();
    const vm = track(await driver.boot(spec));
    api.requests.length = 0;
    await vm.pause();
    await vm.resume();
    expect(calls(api.requests)).toEqual([
      { method: 'PATCH', path: '/vm', body: { state: 'Paused' } },
      { method: 'PATCH', path: '/vm', body: { state: 'Resumed' } },
    ]);
  });

  it('saves a full snapshot in the work dir and copies state and memory out, read-only', async () => {
    // As Firecracker does: it writes both files at the paths it is given.
    const { driver, api } = await driverWith((request) => {
      const body = request.body as { snapshot_path: string; mem_file_path: string };
      if (request.path === '/snapshot/create') {
        writeFileSync(body.snapshot_path, 'device state');
        writeFileSync(body.mem_file_path, Buffer.alloc(64 * 1024, 7));
      }
      return undefined;
    });
    const vm = track(await driver.boot(spec));
    api.requests.length = 0;
    const statePath = join(root, 'template', 'state.bin');
    mkdirSync(join(root, 'template'));
    // A running VM: saveState pauses it first (Firecracker snapshots only a paused VM).
    await vm.saveState(statePath);
    expect(calls(api.requests)).toEqual([
      { method: 'PATCH', path: '/vm', body: { state: 'Paused' } },
      { method: 'PUT', path: '/snapshot/create', body: { snapshot_type: 'Full', snapshot_path: join(workDir, 'snapshot.state'), mem_file_path: join(workDir, 'snapshot.mem') } },
    ]);
    expect(readFileSync(statePath, 'utf8')).toBe('device state');
    expect(readFileSync(snapshotMemoryPath(statePath))).toEqual(Buffer.alloc(64 * 1024, 7));
    for (const path of [statePath, snapshotMemoryPath(statePath)]) {
      expect(statSync(path).mode & 0o777).toBe(0o444);
      expect(statSync(path).uid).toBe(0);
    }
    expect(existsSync(join(workDir, 'snapshot.state')) || existsSync(join(workDir, 'snapshot.mem'))).toBe(false);
  });

  it('never copies out a symlink the jail left in place of the snapshot', async () => {
    const { driver } = await driverWith((request) => {
      if (request.path === '/snapshot/create') {
        const body = request.body as { snapshot_path: string; mem_file_path: string };
        writeFileSync(join(root, 'host-secret'), 'secret');
        symlinkSync(join(root, 'host-secret'), body.snapshot_path);
        writeFileSync(body.mem_file_path, 'memory');
      }
      return undefined;
    });
    const vm = track(await driver.boot(spec));
    await expect(vm.saveState(join(root, 'state.bin'))).rejects.toThrow(/ELOOP/);
    expect(existsSync(join(root, 'state.bin'))).toBe(false);
  });

  it('restores with PUT /snapshot/load alone, state and memory bound into the jail, no kernel', async () => {
    const { driver, api } = await driverWith();
    const statePath = join(root, 'state.bin');
    writeFileSync(statePath, 'device state');
    writeFileSync(snapshotMemoryPath(statePath), 'memory');
    const vm = track(await driver.restore(spec, statePath));
    expect(calls(api.requests)).toEqual([
      { method: 'PUT', path: '/snapshot/load', body: { snapshot_path: statePath, mem_backend: { backend_type: 'File', backend_path: `${statePath}.mem` }, resume_vm: true } },
    ]);
    const inJail = (path: string) => existsSync(`/proc/${vm.pid}/root${path}`);
    expect([statePath, `${statePath}.mem`, spec.kernelPath].map(inJail)).toEqual([true, true, false]);
  });

  it('surfaces Firecracker’s fault_message as a boot failure and stops the VMM', async () => {
    const { driver, api } = await driverWith((request) =>
      request.path === '/drives/rootfs' ? { status: 400, body: { fault_message: 'Unable to open the block device: No such file or directory (os error 2)' } } : undefined);
    const error = await driver.boot(spec).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'VM_BOOT_FAILED' });
    expect((error as Error).message).toBe(
      `Booting ${spec.id} on Firecracker failed: Firecracker refused PUT /drives/rootfs (HTTP 400): Unable to open the block device: No such file or directory (os error 2)`);
    expect(api.requests.map((r) => r.path)).toEqual(['/machine-config', '/boot-source', '/drives/rootfs']);
  });

  it('surfaces a fault on a running VM (pause) with Firecracker’s message', async () => {
    const { driver } = await driverWith((request) =>
      request.path === '/vm' ? { status: 400, body: { fault_message: 'The requested operation is not supported after starting the microVM.' } } : undefined);
    const vm = track(await driver.boot(spec));
    await expect(vm.pause()).rejects.toThrow('Firecracker refused PATCH /vm (HTTP 400): The requested operation is not supported after starting the microVM.');
  });

  it('refuses a qcow2 disk before starting anything', async () => {
    const { driver } = await driverWith();
    await expect(driver.boot({ ...spec, diskFormat: 'qcow2', diskPath: join(workDir, 'disk.qcow2') })).rejects.toMatchObject({
      code: 'VM_BOOT_FAILED', message: expect.stringMatching(/raw disk images only.*qcow2/),
    });
    expect(existsSync(join(workDir, 'stand-in.argv'))).toBe(false);
  });

  it('refuses a disk outside the work dir (a restore elsewhere could not find it)', async () => {
    const { driver } = await driverWith();
    await expect(driver.boot({ ...spec, diskPath: join(root, 'shared.raw') })).rejects.toThrow(/must lie inside its work directory/);
  });

  it('reports a Firecracker that exits at start, with its stderr', async () => {
    writeFileSync(join(workDir, 'stand-in.fail'), 'Error: RunWithApi(FailedToBindSocket("fc.sock"))\n');
    const { driver } = await driverWith();
    await expect(driver.boot(spec)).rejects.toMatchObject({
      code: 'VM_BOOT_FAILED', message: 'Firecracker exited with 1 at start: Error: RunWithApi(FailedToBindSocket("fc.sock"))',
    });
  });

  it('reports a jail that cannot be built (a missing kernel) with the jailer’s words', async () => {
    const { driver } = await driverWith();
    await expect(driver.boot({ ...spec, kernelPath: join(root, 'missing-vmlinux') })).rejects.toMatchObject({
      code: 'VM_BOOT_FAILED', message: expect.stringMatching(/exited with 126 at start: scaibunker-jailer: lstat .*missing-vmlinux/),
    });
  });

  it('grows the raw disk, then tells Firecracker with PATCH /drives/rootfs', async () => {
    writeFileSync(spec.diskPath, Buffer.alloc(1024 * 1024));
    const { driver, api } = await driverWith();
    const vm = track(await driver.boot(spec));
    api.requests.length = 0;
    await vm.growDisk(8);
    expect(statSync(spec.diskPath).size).toBe(8 * 1024 * 1024);
    expect(calls(api.requests)).toEqual([{ method: 'PATCH', path: '/drives/rootfs', body: { drive_id: 'rootfs', path_on_host: 'disk.raw' } }]);
    await expect(vm.growDisk(4)).rejects.toThrow(/never shrunk/);
  });

  it('reaches the agent through the work dir’s vsock socket with CONNECT 1024', async () => {
    const { driver } = await driverWith();
    const vm = track(await driver.boot(spec));
    // Stands in for Firecracker's vsock muxer: answers the CONNECT line, then the "agent" speaks at once.
    const lines: string[] = [];
    const muxer: Server = createServer((socket: Socket) => {
      socket.once('data', (chunk: Buffer) => {
        lines.push(chunk.toString());
        socket.write('OK 1073741824\nHELLO');
      });
    });
    await new Promise<void>((resolve) => muxer.listen(join(workDir, 'v.sock'), resolve));
    cleanups.push(() => new Promise((r) => muxer.close(r)));
    const link = await vm.connectAgent();
    cleanups.push(async () => link.destroy());
    expect(lines).toEqual([`CONNECT ${AGENT_VSOCK_PORT}\n`]);
    const first = await new Promise<Buffer>((resolve) => link.once('data', resolve));
    expect(first.toString()).toBe('HELLO');
  });

  it('stops connecting to the agent once the VMM has exited', async () => {
    const { driver } = await driverWith();
    const vm = await driver.boot(spec);
    const connecting = vm.connectAgent();
    await vm.kill();
    await expect(connecting).rejects.toThrow(/Firecracker exited/);
  });
});
