#!/usr/bin/env python3
"""Opt-in smoke test of PID-1 mode: boots a QEMU microVM whose init is the agent.

    python3 tests/vm_smoke.py dist/scaibunker-agent /path/to/vmlinux [--kvm]

Needs qemu-system-x86_64, mkfs.ext4 and a static busybox (Debian: busybox-static). The
root filesystem is busybox plus the agent; the QEMU command line follows the worker's
(packages/worker/src/vmm/qemu-driver.ts). Checks the PID-1 duties, the virtio port (the
host connecting late, leaving, coming back), freeze/thaw, identity and shutdown.
"""
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import integration as T  # noqa: E402
from integration import expect, done, error  # noqa: E402


def rootfs(base, agent):
    root = os.path.join(base, 'root')
    for d in ('bin', 'sbin', 'etc', 'root'):
        os.makedirs(os.path.join(root, d))
    busybox = shutil.which('busybox')
    shutil.copy(busybox, os.path.join(root, 'bin', 'busybox'))
    applets = subprocess.run([busybox, '--list'], capture_output=True, text=True, check=True).stdout.split()
    for a in applets:
        if a != 'busybox':
            os.symlink('busybox', os.path.join(root, 'bin', a))
    shutil.copy(agent, os.path.join(root, 'sbin', 'scaibunker-agent'))
    with open(os.path.join(root, 'etc', 'passwd'), 'w') as f:
        f.write('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/sh\n')
    image = os.path.join(base, 'root.img')
    subprocess.run(['mkfs.ext4', '-q', '-d', root, image, '64M'], check=True, stdout=subprocess.DEVNULL)
    return image


def boot(base, kernel, image, kvm):
    cmdline = ('console=ttyS0 root=/dev/vda rootfstype=ext4 rw init=/sbin/scaibunker-agent quiet '
               'reboot=t panic=-1 random.trust_cpu=on nolapic_timer scaibunker.hostname=smoke-1')
    args = ['qemu-system-x86_64', '-M', 'microvm,rtc=on,acpi=off',
            '-accel', 'kvm' if kvm else 'tcg,thread=multi', '-cpu', 'host' if kvm else 'max',
            '-m', '256M', '-smp', '1', '-nodefaults', '-no-user-config', '-nographic', '-no-reboot',
            '-chardev', f'file,id=console,path={base}/console.log', '-serial', 'chardev:console',
            '-kernel', kernel, '-append', cmdline,
            '-drive', f'id=root,file={image},format=raw,if=none,cache=unsafe',
            '-device', 'virtio-blk-device,drive=root',
            # max_ports=1 leaves no room: id 0 is reserved for a virtconsole
            '-device', 'virtio-serial-device,max_ports=2',
            '-chardev', f'socket,id=agent,path={base}/agent.sock,server=on,wait=off',
            '-device', 'virtserialport,chardev=agent,name=org.scaibunker.agent.0',
            '-device', 'virtio-rng-device']
    return subprocess.Popen(args, stderr=open(os.path.join(base, 'qemu.stderr'), 'w'))


def connect(base):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(os.path.join(base, 'agent.sock'))
    return T.Peer(s)


def output(suite, script):
    r = suite.exec(['sh', '-c', script])
    done(r)
    return bytes(r['out'][1]).decode()


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    agent, kernel, kvm = os.path.abspath(sys.argv[1]), sys.argv[2], '--kvm' in sys.argv
    base = tempfile.mkdtemp(prefix='scaibunker-vm-')
    qemu = None
    try:
        qemu = boot(base, kernel, rootfs(base, agent), kvm)
        sock = os.path.join(base, 'agent.sock')
        for _ in range(500):
            if os.path.exists(sock):
                break
            time.sleep(0.01)
        time.sleep(2)  # the host arrives after the agent is up: it must be noticed
        peer = connect(base)
        suite = T.Suite(peer, '/tmp')
        t0 = time.monotonic()
        hello = peer.next(lambda f: f.type == T.HELLO, timeout=60).fields
        expect(hello.str('AGENT_VERSION') == '0.1.0', 'HELLO')
        print(f'ok   HELLO {time.monotonic() - t0:.3f}s after connecting')

        info = output(suite, 'cat /proc/1/comm; hostname; cut -d" " -f2 /proc/mounts | sort | tr "\\n" " "; '
                             'echo; ip -o addr show lo; echo HOME=$HOME; ls -d /dev/fd /dev/ptmx')
        for want in ('scaibunker-agen', 'smoke-1', '/dev/pts', '/dev/shm', '/proc', '/run', '/sys',
                     '/tmp', '127.0.0.1/8', 'HOME=/root', '/dev/fd'):
            expect(want in info, f'{want!r} missing from:\n{info}')
        print('ok   PID-1 duties (mounts, lo, hostname, /dev links)')

        r = suite.exec(['sh', '-c', 'stty size'], ('COLS', 120), ('ROWS', 40))
        expect(done(r) and bytes(r['out'][1]) == b'40 120\r\n', repr(r['out']))
        r = suite.exec(['id', '-u'], ('UID', 65534), ('GID', 65534))
        expect(done(r) and bytes(r['out'][1]) == b'65534\n', repr(r['out']))
        data = os.urandom(2 * 1024 * 1024)
        done(suite.op('write', ('PATH', '/root/blob'), stdin=data))
        r = suite.op('read', ('PATH', '/root/blob'))
        expect(done(r) and bytes(r['out'][1]) == data, 'round trip')
        print('ok   PTY, UID drop, 2 MiB write/read')

        done(suite.op('freeze'))
        error(suite.op('write', ('PATH', '/root/x'), stdin=b'x'), 'BUSY')
        expect('rw' in output(suite, 'grep " / " /proc/mounts'), 'exec while frozen')
        done(suite.op('thaw'))
        done(suite.op('identity', ('HOSTNAME', 'smoke-2'), ('MACHINE_ID', 'ABCDEF0123456789abcdef0123456789'),
                      ('ENTROPY', os.urandom(256)), ('TIME_MS', 1_800_000_000_000)))
        ident = output(suite, 'hostname; cat /etc/machine-id; date +%s').split()
        expect(ident[:2] == ['smoke-2', 'abcdef0123456789abcdef0123456789'], repr(ident))
        expect(abs(int(ident[2]) - 1_800_000_000) < 60, repr(ident))
        print('ok   freeze/thaw, identity')

        output(suite, '(sleep 0.2 &); true')  # an orphan, reparented to PID 1
        time.sleep(0.5)
        expect(output(suite, 'ps -o stat | grep -c "^Z" || true').strip() == '0', 'zombies')
        print('ok   orphans reaped')

        s = suite.sid()
        peer.open(s, ('OP', 'exec'), ('ARGV', ['sleep', '100']))
        peer.next(lambda f: f.stream == s and f.type == T.REPLY)
        peer.sock.close()  # the host goes away with a stream open
        time.sleep(0.3)
        peer = suite.p = connect(base)
        t0 = time.monotonic()
        peer.next(lambda f: f.type == T.HELLO, timeout=5)
        expect(output(suite, 'ps -o comm | grep -c "^sleep" || true').strip() == '0', 'old stream survived')
        print(f'ok   host away and back: HELLO {time.monotonic() - t0:.3f}s after reconnecting, old streams ended')

        t0 = time.monotonic()
        done(suite.op('shutdown'))
        expect(qemu.wait(timeout=30) == 0, f'QEMU exit status {qemu.returncode}')
        print(f'ok   shutdown: QEMU exited {time.monotonic() - t0:.2f}s after DONE')
    finally:
        if qemu and qemu.poll() is None:
            qemu.kill()
            qemu.wait()
        console = os.path.join(base, 'console.log')
        if os.path.exists(console) and os.environ.get('SHOW_CONSOLE'):
            print(open(console).read())
        shutil.rmtree(base, ignore_errors=True)


if __name__ == '__main__':
    main()
