#!/usr/bin/env python3
"""Integration test: the real agent binary in --connect mode against a test peer.

The peer listens on a unix socket, starts the agent (unprivileged: as nobody when this runs
as root), and speaks docs/guest-protocol.md to it. Every frame the agent sends is checked
(header, DATA size, and that it never has more than its credit window outstanding).

    python3 tests/integration.py dist/scaibunker-agent
"""
import os
import random
import select
import shutil
import socket
import stat
import struct
import subprocess
import sys
import tempfile
import time

HELLO, OPEN, REPLY, DATA, EOF, CREDIT, CONTROL, DONE, ERROR = range(1, 10)
K = dict(OP=1, ARGV=2, ENV=3, CWD=4, UID=5, GID=6, TIMEOUT_MS=7, COLS=8, ROWS=9, STDIN=10,
         PATH=11, MODE=12, PATH2=13, RECURSIVE=14, PID=15, EXIT_CODE=16, SIGNAL=17,
         TIMED_OUT=18, SIZE=19, TYPE=20, MTIME_MS=21, ENTRY=22, NAME=23, ERR_CODE=24,
         ERR_MESSAGE=25, ERRNO=26, PROTO_VERSION=27, AGENT_VERSION=28, HOSTNAME=29,
         MACHINE_ID=30, ENTROPY=31, TIME_MS=32, UPTIME_MS=33, CANCEL=34, TRUNCATED=35,
         MEM_TOTAL_KIB=36, MEM_AVAILABLE_KIB=37, USER=38, NET=39)
HDR = struct.Struct('<HBBIIBBH')
WINDOW = 256 * 1024
DATA_MAX = 64 * 1024
FRAME_MAX = 256 * 1024


class Failure(Exception):
    pass


def expect(cond, what):
    if not cond:
        raise Failure(what)


def tlv(*fields):
    out = bytearray()
    for key, value in fields:
        for v in value if isinstance(value, list) else [value]:
            if isinstance(v, str):
                v = v.encode()
            elif isinstance(v, int):
                v = struct.pack('<q' if v < 0 else '<Q', v)
            out += struct.pack('<HI', K[key], len(v)) + v
    return bytes(out)


class Fields:
    def __init__(self, payload):
        self.f = {}
        at = 0
        while at < len(payload):
            expect(len(payload) - at >= 6, 'truncated TLV from the agent')
            key, n = struct.unpack_from('<HI', payload, at)
            expect(at + 6 + n <= len(payload), 'TLV runs past the payload')
            self.f.setdefault(key, []).append(payload[at + 6:at + 6 + n])
            at += 6 + n

    def has(self, key):
        return K[key] in self.f

    def raw(self, key):
        return self.f[K[key]][0]

    def all(self, key):
        return self.f.get(K[key], [])

    def u64(self, key):
        return struct.unpack('<Q', self.raw(key))[0]

    def i64(self, key):
        return struct.unpack('<q', self.raw(key))[0]

    def str(self, key):
        return self.raw(key).decode()

    def __repr__(self):
        return repr({k: v for k, v in self.f.items()})


class Frame:
    def __init__(self, type, stream, channel, payload):
        self.type, self.stream, self.channel, self.payload = type, stream, channel, payload

    @property
    def fields(self):
        return Fields(self.payload)

    def __repr__(self):
        return f'Frame(type={self.type}, stream={self.stream}, ch={self.channel}, len={len(self.payload)})'


class Peer:
    """The host side, checking the agent's framing and flow control as it reads."""

    def __init__(self, conn):
        self.sock = conn
        self.buf = bytearray()
        self.queue = []
        self.outstanding = {}  # (stream, channel) -> DATA bytes received and not granted back
        self.max_outstanding = 0
        self.credit = {}  # stream -> what we may still send on channel 0

    def send(self, type, stream, payload=b'', channel=0):
        assert len(payload) <= FRAME_MAX, 'the test built an oversize frame'
        self.sock.sendall(HDR.pack(0x5342, 1, type, stream, len(payload), channel, 0, 0) + payload)

    def open(self, stream, *fields):
        self.credit[stream] = WINDOW
        self.send(OPEN, stream, tlv(*fields))

    def grant(self, stream, channel, n):
        if n:
            self.outstanding[(stream, channel)] -= n
            self.send(CREDIT, stream, struct.pack('<I', n), channel)

    def _fill(self, timeout):
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return False
        chunk = self.sock.recv(1 << 20)
        expect(chunk, 'the agent closed the link')
        self.buf += chunk
        while len(self.buf) >= 16:
            magic, ver, type, stream, n, ch, flags, res = HDR.unpack_from(self.buf)
            expect(magic == 0x5342 and ver == 1 and 1 <= type <= 9 and ch <= 2 and flags == 0
                   and res == 0 and n <= FRAME_MAX, f'bad header from the agent: {bytes(self.buf[:16])!r}')
            if len(self.buf) < 16 + n:
                break
            f = Frame(type, stream, ch, bytes(self.buf[16:16 + n]))
            del self.buf[:16 + n]
            self._account(f)
            if f.type != CREDIT:  # fully handled by the accounting
                self.queue.append(f)
        return True

    def _account(self, f):
        if f.type == DATA:
            expect(f.channel in (1, 2) and len(f.payload) <= DATA_MAX, f'bad DATA {f}')
            key = (f.stream, f.channel)
            self.outstanding[key] = self.outstanding.get(key, 0) + len(f.payload)
            self.max_outstanding = max(self.max_outstanding, self.outstanding[key])
            expect(self.outstanding[key] <= WINDOW, f'agent exceeded its window on {key}')
        elif f.type == CREDIT:
            expect(f.channel == 0 and len(f.payload) == 4, f'bad CREDIT {f}')
            self.credit[f.stream] = self.credit.get(f.stream, 0) + struct.unpack('<I', f.payload)[0]

    def next(self, pred=lambda f: True, timeout=15):
        end = time.monotonic() + timeout
        while True:
            for i, f in enumerate(self.queue):
                if pred(f):
                    return self.queue.pop(i)
            left = end - time.monotonic()
            if left <= 0:
                raise Failure('timed out waiting for a frame')
            self._fill(left)

    def quiet(self, pred, seconds):
        """True if no frame matching pred arrives within seconds."""
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            if any(pred(f) for f in self.queue):
                return False
            self._fill(max(0, end - time.monotonic()))
        return not any(pred(f) for f in self.queue)

    def take(self, pred):
        for i, f in enumerate(self.queue):
            if pred(f):
                return self.queue.pop(i)
        return None

    def run(self, stream, stdin=None, timeout=30, on_reply=None):
        """Drives one stream to its end: sends stdin within credit, grants all output."""
        res = dict(replies=[], out={1: bytearray(), 2: bytearray()}, eof=set(), end=None, order=[])
        sent, eof_sent = 0, stdin is None
        end = time.monotonic() + timeout
        while res['end'] is None:
            if time.monotonic() > end:
                raise Failure(f'stream {stream} did not end')
            if stdin is not None and sent < len(stdin):
                n = min(self.credit.get(stream, 0), DATA_MAX, len(stdin) - sent)
                if n > 0:
                    self.send(DATA, stream, stdin[sent:sent + n])
                    self.credit[stream] -= n
                    sent += n
                    continue
            elif not eof_sent:
                self.send(EOF, stream)
                eof_sent = True
            f = self.take(lambda f: f.stream == stream)
            if f is None:
                self._fill(0.1)
                continue
            res['order'].append(f.type)
            if f.type == REPLY:
                res['replies'].append(f.fields)
                if on_reply:
                    on_reply(f.fields)
            elif f.type == DATA:
                expect(f.channel not in res['eof'], 'DATA after EOF')
                res['out'][f.channel] += f.payload
                self.grant(stream, f.channel, len(f.payload))
            elif f.type == EOF:
                res['eof'].add(f.channel)
            elif f.type in (DONE, ERROR):
                res['end'] = f
        return res

    def result(self, stream, *fields, stdin=None, timeout=30):
        self.open(stream, *fields)
        return self.run(stream, stdin=stdin, timeout=timeout)


def done(res):
    f = res['end']
    expect(f.type == DONE, f'expected DONE, got ERROR {f.fields!r}' if f.type == ERROR else f'got {f}')
    return f.fields


def error(res, code):
    f = res['end']
    expect(f.type == ERROR, f'expected ERROR {code}, got DONE')
    got = f.fields.str('ERR_CODE')
    expect(got == code, f'expected {code}, got {got}: {f.fields.str("ERR_MESSAGE")}')
    return f.fields


def gone(pgid, seconds=3):
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.02)
    return False


# ---- the tests ---------------------------------------------------------------------------

class Suite:
    def __init__(self, peer, work):
        self.p = peer
        self.work = work
        self.next_id = 1

    def sid(self):
        self.next_id += 1
        return self.next_id

    def exec(self, argv, *extra, stdin=None, timeout=30):
        fields = [('OP', 'exec'), ('ARGV', argv)] + list(extra)
        if stdin is not None:
            fields.append(('STDIN', 1))
        return self.p.result(self.sid(), *fields, stdin=stdin, timeout=timeout)

    def op(self, op, *fields, stdin=None):
        return self.p.result(self.sid(), ('OP', op), *fields, stdin=stdin)

    def path(self, *parts):
        return os.path.join(self.work, *parts)

    def test_hello(self):
        h = self.p.next(lambda f: f.type == HELLO, timeout=5).fields
        expect(h.u64('PROTO_VERSION') == 1 and h.str('AGENT_VERSION') == '0.1.0', repr(h))
        expect(h.has('UPTIME_MS'), 'HELLO without UPTIME_MS')
        self.p.send(HELLO, 0, tlv(('PROTO_VERSION', 1)))
        h = self.p.next(lambda f: f.type == HELLO, timeout=5).fields
        expect(h.u64('PROTO_VERSION') == 1, 'no HELLO answered')

    def test_ping(self):
        d = done(self.op('ping'))
        expect(d.u64('UPTIME_MS') > 0 and d.u64('MEM_TOTAL_KIB') > 0, repr(d))
        expect(0 < d.u64('MEM_AVAILABLE_KIB') <= d.u64('MEM_TOTAL_KIB'), repr(d))

    def test_exec(self):
        r = self.exec(['sh', '-c', 'echo hi; echo err >&2; exit 3'])
        d = done(r)
        expect(r['replies'] and r['replies'][0].u64('PID') > 1, 'no REPLY PID')
        expect(r['order'][0] == REPLY, f'REPLY must come first: {r["order"]}')
        expect(bytes(r['out'][1]) == b'hi\n' and bytes(r['out'][2]) == b'err\n', repr(r['out']))
        expect(r['eof'] == {1, 2}, 'EOF missing')
        expect(d.i64('EXIT_CODE') == 3 and d.u64('SIGNAL') == 0 and d.u64('TIMED_OUT') == 0, repr(d))

    def test_exec_env_cwd(self):
        out = bytes(self.exec(['env'])['out'][1]).decode().splitlines()
        expect('PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' in out, repr(out))
        expect(any(line.startswith('HOME=') for line in out), repr(out))
        expect(not any(line.startswith('TERM=') for line in out), 'TERM without a PTY')
        out = bytes(self.exec(['env'], ('ENV', ['FOO=bar', 'PATH=/bin:/usr/bin', 'HOMEX=1']))['out'][1])
        lines = out.decode().splitlines()
        expect('FOO=bar' in lines and 'PATH=/bin:/usr/bin' in lines and 'HOMEX=1' in lines, repr(lines))
        expect(any(line.startswith('HOME=') for line in lines), 'HOMEX replaced HOME')
        expect(sum(line.startswith('PATH=') for line in lines) == 1, 'PATH twice')
        many = [f'V{i}=x' for i in range(15000)]  # most of a frame
        out = bytes(self.exec(['sh', '-c', 'env | grep -c "^V"'], ('ENV', many))['out'][1])
        expect(out == b'15000\n', repr(out))
        expect(bytes(self.exec(['pwd'], ('CWD', '/tmp'))['out'][1]) == b'/tmp\n', 'CWD')
        expect(bytes(self.exec(['pwd'])['out'][1]) == b'/\n', 'default cwd')

    def test_uid_gid(self):
        me = int(bytes(self.exec(['id', '-u'])['out'][1]))
        r = self.exec(['sh', '-c', 'id -u; id -g; id -G; echo $HOME'], ('UID', 65534), ('GID', 65534))
        if me == 0:
            expect(bytes(r['out'][1]).split() == [b'65534'] * 3 + [b'/nonexistent'], repr(r['out']))
        else:  # an unprivileged agent cannot drop to another user: setgroups() fails
            expect(error(r, 'SPAWN_FAILED').u64('ERRNO') == 1, 'EPERM expected')

    def test_user(self):
        me = int(bytes(self.exec(['id', '-u'])['out'][1]))
        error(self.exec(['true'], ('USER', 'no-such-account')), 'NO_SUCH_USER')
        if me != 0:
            return  # dropping to another account needs root
        script = ['sh', '-c', 'id -u; id -g; echo $HOME; pwd']
        root = bytes(self.exec(script, ('USER', 'root'))['out'][1]).split()
        expect(root == [b'0', b'0', b'/root', b'/root'], repr(root))
        # nobody's home does not exist: the command starts in /
        for name in ('nobody', '65534'):
            nobody = bytes(self.exec(script, ('USER', name))['out'][1]).split()
            expect(nobody == [b'65534', b'65534', b'/nonexistent', b'/'], repr(nobody))
        stand_in = bytes(self.exec(script, ('USER', 'no-such-account'), ('UID', 4242), ('GID', 4243))['out'][1]).split()
        expect(stand_in == [b'4242', b'4243', b'/', b'/'], repr(stand_in))
        cwd = bytes(self.exec(['pwd'], ('USER', 'root'), ('CWD', '/tmp'))['out'][1])
        expect(cwd == b'/tmp\n', repr(cwd))

    def test_seal(self):
        done(self.op('seal'))
        error(self.exec(['true']), 'SEALED')
        error(self.op('stat', ('PATH', '/')), 'SEALED')
        done(self.op('ping'))  # the host's own operations still answer
        error(self.op('identity', ('HOSTNAME', '')), 'BAD_REQUEST')  # a failed identity leaves it sealed
        error(self.exec(['true']), 'SEALED')
        done(self.op('identity', ('HOSTNAME', 'clone-1')))
        done(self.exec(['true']))

    def test_stdin_cat(self):
        data = random.randbytes(3 * 1024 * 1024 + 17)
        r = self.exec(['cat'], stdin=data)
        done(r)
        expect(bytes(r['out'][1]) == data, 'cat did not echo stdin byte for byte')
        r = self.exec(['sh', '-c', 'read x; echo "got $x"'], stdin=b'line\n')
        expect(bytes(r['out'][1]) == b'got line\n', repr(r['out']))

    def test_stdin_closed_early(self):
        # the child exits without reading: the rest of stdin is dropped, not buffered forever
        r = self.exec(['true'], stdin=random.randbytes(1024 * 1024))
        expect(done(r).i64('EXIT_CODE') == 0, 'true failed')

    def test_flow_control(self):
        total = 10 * 1024 * 1024
        s = self.sid()
        self.p.open(s, ('OP', 'exec'), ('ARGV', ['head', '-c', str(total), '/dev/zero']))
        got = 0
        # take the whole first window without granting: the agent must stop there
        while got < WINDOW:
            try:
                f = self.p.next(lambda f: f.stream == s and f.type == DATA, timeout=10)
            except Failure:
                raise Failure(f'first window stalled at {got} bytes')
            got += len(f.payload)
        expect(got == WINDOW, f'first window overrun: {got}')
        expect(self.p.quiet(lambda f: f.stream == s and f.type == DATA, 0.5),
               'the agent sent DATA without credit')
        # then consume slowly, granting in small pieces, as a slow reader would
        pending = got
        while True:
            grant = min(pending, 32 * 1024)
            self.p.grant(s, 1, grant)
            pending -= grant
            try:
                f = self.p.next(lambda f: f.stream == s and f.type in (DATA, EOF, DONE, ERROR), timeout=10)
            except Failure:
                raise Failure(f'stalled at {got} bytes with {pending} ungranted')
            if f.type == DATA:
                got += len(f.payload)
                pending += len(f.payload)
                expect(not any(f.payload), 'not zeros')
                if random.random() < 0.01:
                    time.sleep(0.02)
            elif f.type == EOF:
                continue
            else:
                expect(f.type == DONE and f.fields.i64('EXIT_CODE') == 0, repr(f.fields))
                break
        expect(got == total, f'got {got} of {total} bytes')
        expect(self.p.max_outstanding <= WINDOW, 'window exceeded')

    def test_both_channels(self):
        n = 3 * 1024 * 1024
        r = self.exec(['sh', '-c', f'head -c {n} /dev/zero & head -c {n} /dev/zero >&2; wait'])
        done(r)
        expect(len(r['out'][1]) == n and len(r['out'][2]) == n, f'{len(r["out"][1])} {len(r["out"][2])}')

    def test_pipelined(self):
        first = self.next_id + 1
        self.next_id += 2000
        burst = b''.join(HDR.pack(0x5342, 1, OPEN, first + i, len(payload), 0, 0, 0) + payload
                         for i, payload in enumerate([tlv(('OP', 'ping'))] * 2000))
        self.p.sock.sendall(burst)
        for i in range(2000):
            f = self.p.next(lambda f, s=first + i: f.stream == s and f.type in (DONE, ERROR), timeout=10)
            expect(f.type == DONE, f'stream {first + i}: {f.fields!r}')

    def test_timeout(self):
        t0 = time.monotonic()
        pid = []
        s = self.sid()
        self.p.open(s, ('OP', 'exec'), ('ARGV', ['sh', '-c', 'sleep 100 & sleep 100']), ('TIMEOUT_MS', 300))
        r = self.p.run(s, on_reply=lambda f: pid.append(f.u64('PID')))
        d = done(r)
        expect(d.u64('TIMED_OUT') == 1 and d.u64('SIGNAL') == 9 and d.i64('EXIT_CODE') == -1, repr(d))
        expect(time.monotonic() - t0 < 5, 'timeout took too long')
        expect(gone(pid[0]), 'process group still alive after TIMEOUT_MS')

    def test_signal_cancel(self):
        for control, sig in ((('SIGNAL', 15),), 15), ((('CANCEL', 1),), 9):
            s = self.sid()
            pid = []

            def started(f, s=s, control=control):
                pid.append(f.u64('PID'))
                self.p.send(CONTROL, s, tlv(*control))

            self.p.open(s, ('OP', 'exec'), ('ARGV', ['sh', '-c', 'sleep 100 & sleep 100']))
            d = done(self.p.run(s, on_reply=started, timeout=10))
            expect(d.u64('SIGNAL') == sig and d.i64('EXIT_CODE') == -1, repr(d))
            expect(gone(pid[0]), 'process group survived')

    def test_grandchild_keeps_pipe(self):
        t0 = time.monotonic()
        r = self.exec(['sh', '-c', 'sleep 100 & echo done'])
        done(r)
        expect(bytes(r['out'][1]) == b'done\n', repr(r['out']))
        expect(time.monotonic() - t0 < 3, 'a background child held the stream open')

    def test_spawn_failed(self):
        for argv, extra in ((['/nonexistent/binary'], ()), (['no-such-command-scaibunker'], ()),
                            (['true'], (('CWD', '/nonexistent'),))):
            e = error(self.exec(argv, *extra), 'SPAWN_FAILED')
            expect(e.u64('ERRNO') == 2, repr(e))

    def test_pty(self):
        r = self.exec(['sh', '-c', 'stty size; echo $TERM; tty >/dev/null && echo tty'],
                      ('COLS', 100), ('ROWS', 30))
        done(r)
        out = bytes(r['out'][1])
        expect(out == b'30 100\r\nxterm-256color\r\ntty\r\n', repr(out))
        expect(not r['out'][2] and 2 not in r['eof'], 'stderr frames with a PTY')

        s = self.sid()

        def resize(f):
            self.p.send(CONTROL, s, tlv(('COLS', 132), ('ROWS', 43)))
            self.p.send(DATA, s, b'go\n')

        self.p.open(s, ('OP', 'exec'), ('ARGV', ['sh', '-c', 'read x; stty size']),
                    ('COLS', 80), ('ROWS', 24))
        r = self.p.run(s, on_reply=resize)
        done(r)
        expect(b'43 132' in bytes(r['out'][1]), repr(r['out'][1]))

    def test_files(self):
        data = random.randbytes(3 * 1024 * 1024 + 5)
        f = self.path('blob.bin')
        d = done(self.op('write', ('PATH', f), ('MODE', 0o600), stdin=data))
        expect(d.u64('SIZE') == len(data), repr(d))
        r = self.op('read', ('PATH', f))
        done(r)
        expect(r['replies'][0].u64('SIZE') == len(data), 'read SIZE')
        expect(stat.S_ISREG(r['replies'][0].u64('MODE')), 'read MODE')
        expect(bytes(r['out'][1]) == data and r['eof'] == {1}, 'read back differs')
        st = done(self.op('stat', ('PATH', f)))
        expect(st.str('TYPE') == 'file' and st.u64('SIZE') == len(data), repr(st))
        expect(st.u64('MODE') & 0o7777 == 0o600, oct(st.u64('MODE')))
        expect(abs(st.u64('MTIME_MS') / 1000 - time.time()) < 60, 'MTIME_MS')
        # replaced atomically; nothing left beside it
        done(self.op('write', ('PATH', f), stdin=b'small'))
        expect(open(f, 'rb').read() == b'small', 'overwrite')
        expect(stat.S_IMODE(os.stat(f).st_mode) == 0o644, 'default MODE')
        expect(os.listdir(self.work) == ['blob.bin'], repr(os.listdir(self.work)))
        r = self.op('read', ('PATH', self.path('empty')), stdin=None)
        error(r, 'NOT_FOUND')
        done(self.op('write', ('PATH', self.path('empty')), stdin=b''))
        r = self.op('read', ('PATH', self.path('empty')))
        expect(done(r) is not None and bytes(r['out'][1]) == b'' and r['eof'] == {1}, 'empty file')

    def test_cancel_upload(self):
        f = self.path('cancelled')
        open(f, 'w').write('old')
        s = self.sid()
        self.p.open(s, ('OP', 'write'), ('PATH', f))
        self.p.send(DATA, s, b'new content')
        self.p.send(CONTROL, s, tlv(('CANCEL', 1)))
        e = error(self.p.run(s), 'IO')
        expect(e.u64('ERRNO') == 125, repr(e))
        temps = [n for n in os.listdir(self.work) if n.startswith('.scaibunker-')]
        expect(open(f).read() == 'old' and not temps, f'upload not undone: {temps}')
        os.unlink(f)

    def test_file_errors(self):
        error(self.op('read', ('PATH', self.work)), 'IS_A_DIRECTORY')
        error(self.op('write', ('PATH', self.work), stdin=b'x'), 'IS_A_DIRECTORY')
        error(self.op('write', ('PATH', self.path('no', 'such', 'dir')), stdin=b'x'), 'NOT_FOUND')
        error(self.op('stat', ('PATH', 'relative/path')), 'BAD_REQUEST')
        error(self.op('stat', ('PATH', self.path('missing'))), 'NOT_FOUND')
        error(self.op('list', ('PATH', self.path('blob.bin'))), 'NOT_A_DIRECTORY')
        error(self.op('remove', ('PATH', self.path('missing'))), 'NOT_FOUND')
        error(self.op('rename', ('PATH', self.path('missing')), ('PATH2', self.path('x'))), 'NOT_FOUND')
        error(self.op('mkdir', ('PATH', self.path('a', 'b'))), 'NOT_FOUND')

    def test_dirs(self):
        top = self.path('tree')
        done(self.op('mkdir', ('PATH', top + '/a/b//c/'), ('RECURSIVE', 1)))
        st = done(self.op('stat', ('PATH', top + '/a/b/c')))
        expect(st.str('TYPE') == 'dir' and st.u64('MODE') & 0o7777 == 0o755, repr(st))
        done(self.op('mkdir', ('PATH', top + '/a/b/c'), ('RECURSIVE', 1)))
        error(self.op('mkdir', ('PATH', top + '/a/b/c')), 'EXISTS')
        done(self.op('mkdir', ('PATH', top + '/m'), ('MODE', 0o700)))
        expect(stat.S_IMODE(os.stat(top + '/m').st_mode) == 0o700, 'mkdir MODE')
        for name in ('q', 'p', 'r'):
            done(self.op('write', ('PATH', f'{top}/{name}'), stdin=name.encode() * 3))
        os.symlink('/etc', top + '/link')
        d = done(self.op('list', ('PATH', top)))
        entries = [Fields(e) for e in d.all('ENTRY')]
        names = [e.str('NAME') for e in entries]
        expect(names == ['a', 'link', 'm', 'p', 'q', 'r'], repr(names))
        expect([e.str('TYPE') for e in entries] == ['dir', 'symlink', 'dir', 'file', 'file', 'file'],
               repr([e.str('TYPE') for e in entries]))
        expect(entries[3].u64('SIZE') == 3 and d.u64('TRUNCATED') == 0, 'list SIZE/TRUNCATED')
        expect(done(self.op('stat', ('PATH', top + '/link'))).str('TYPE') == 'symlink', 'lstat')

        done(self.op('rename', ('PATH', top + '/p'), ('PATH2', top + '/z')))
        error(self.op('stat', ('PATH', top + '/p')), 'NOT_FOUND')
        expect(open(top + '/z').read() == 'ppp', 'rename')

        outside = self.path('outside')
        os.mkdir(outside)
        open(outside + '/keep', 'w').write('keep')
        os.symlink(outside, top + '/a/b/c/to-outside')
        error(self.op('remove', ('PATH', top)), 'NOT_EMPTY')
        done(self.op('remove', ('PATH', top), ('RECURSIVE', 1)))
        error(self.op('stat', ('PATH', top)), 'NOT_FOUND')
        expect(open(outside + '/keep').read() == 'keep', 'remove followed a symlink')
        shutil.rmtree(outside)

    def test_list_truncated(self):
        top = self.path('many')
        os.mkdir(top)
        names = [f'f{i:05d}' for i in range(10050)]
        for n in random.sample(names, len(names)):
            open(os.path.join(top, n), 'w').close()
        d = done(self.op('list', ('PATH', top)))
        got = [Fields(e).str('NAME') for e in d.all('ENTRY')]
        expect(d.u64('TRUNCATED') == 1 and 1000 < len(got) <= 10000, f'{len(got)} entries')
        expect(got == names[:len(got)], 'not the first names in order')
        shutil.rmtree(top)

    def test_malformed(self):
        self.p.sock.sendall(b'\x00' * 40 + b'BS\x01\x02garbage' + bytes(range(256)))
        self.p.sock.sendall(HDR.pack(0x5342, 1, OPEN, 9, FRAME_MAX + 1, 0, 0, 0))  # length over the limit
        self.p.sock.sendall(HDR.pack(0x5342, 2, OPEN, 9, 0, 0, 0, 0))  # version 2
        self.p.send(REPLY, 9)  # host may not send REPLY
        d = done(self.op('ping'))
        expect(d.has('UPTIME_MS'), 'ping after garbage')
        bad = [self.p.next(lambda f: f.stream == 0 and f.type == ERROR, timeout=2).fields for _ in range(2)]
        expect(all(b.str('ERR_CODE') == 'BAD_FRAME' for b in bad), repr(bad))
        while any(f.stream == 0 and f.type == ERROR for f in self.p.queue):
            self.p.next(lambda f: f.stream == 0 and f.type == ERROR)

        s = self.sid()
        self.p.send(OPEN, s, tlv(('OP', 'ping'))[:-1])  # a TLV cut short
        error(self.p.run(s), 'BAD_REQUEST')
        error(self.op('launch-missiles'), 'UNKNOWN_OP')
        error(self.exec(['sh'], ('ENV', 'NOEQUALS')), 'BAD_REQUEST')
        s = self.sid()
        self.p.send(OPEN, s, tlv(('OP', 'stat'), ('PATH', b'/tmp\x00/x')))
        error(self.p.run(s), 'BAD_REQUEST')

    def test_stream_in_use(self):
        s = self.sid()
        self.p.open(s, ('OP', 'exec'), ('ARGV', ['cat']), ('STDIN', 1))
        self.p.send(OPEN, s, tlv(('OP', 'ping')))
        e = self.p.next(lambda f: f.stream == s and f.type == ERROR).fields
        expect(e.str('ERR_CODE') == 'STREAM_IN_USE', repr(e))
        r = self.p.run(s, stdin=b'still here\n')
        expect(done(r) and bytes(r['out'][1]) == b'still here\n', 'the live stream went on')

    def test_concurrent(self):
        ids = {}
        for i in range(40):
            s = self.sid()
            ids[s] = f'stream {i}\n'.encode()
            self.p.open(s, ('OP', 'exec'), ('ARGV', ['sh', '-c', f'sleep 0.{i % 3}; echo stream {i}']))
        for s, want in ids.items():
            r = self.p.run(s)
            expect(done(r) and bytes(r['out'][1]) == want, f'stream {s}: {r["out"]!r}')

    def test_busy(self):
        ids = [self.sid() for _ in range(1024)]
        for i, s in enumerate(ids):
            self.p.open(s, ('OP', 'write'), ('PATH', self.path(f'busy{i}')))
        error(self.op('ping'), 'BUSY')
        for s in ids:
            self.p.send(EOF, s)
        for s in ids:
            expect(self.p.next(lambda f: f.stream == s and f.type in (DONE, ERROR)).type == DONE, 'write')
        expect(len(os.listdir(self.work)) >= 1024, 'files')
        for i in range(1024):
            os.unlink(self.path(f'busy{i}'))

    def test_host_test_system_ops(self):
        done(self.op('identity', ('HOSTNAME', 'sandbox'), ('MACHINE_ID', '0123456789abcdef0123456789abcdef'),
                     ('ENTROPY', os.urandom(64)), ('TIME_MS', int(time.time() * 1000))))
        expect(socket.gethostname() != 'sandbox', 'identity touched the host')
        error(self.op('identity', ('MACHINE_ID', 'xyz')), 'BAD_REQUEST')
        error(self.op('identity', ('NET', '52:54:00:0a:00:02 100.96.0.2/30 100.96.1.1 100.96.0.1')), 'BAD_REQUEST')
        s = self.sid()
        self.p.open(s, ('OP', 'write'), ('PATH', self.path('upload')))
        error(self.op('freeze'), 'BUSY')
        self.p.send(EOF, s)
        done(self.p.run(s))
        done(self.op('freeze'))
        done(self.op('freeze'))
        error(self.op('mkdir', ('PATH', self.path('frozen'))), 'BUSY')
        done(self.op('thaw'))
        done(self.op('thaw'))
        done(self.op('mkdir', ('PATH', self.path('frozen'))))
        os.rmdir(self.path('frozen'))
        os.unlink(self.path('upload'))

    def test_no_space(self):
        if os.geteuid() != 0:
            print('  (skipped: needs root to mount a small tmpfs)')
            return
        small = self.path('small')
        os.mkdir(small)
        if subprocess.call(['mount', '-t', 'tmpfs', '-o', 'size=1m,mode=0777', 'tmpfs', small]) != 0:
            print('  (skipped: mount failed)')
            return
        try:
            e = error(self.op('write', ('PATH', small + '/big'), stdin=random.randbytes(3 * 1024 * 1024)), 'NO_SPACE')
            expect(e.u64('ERRNO') == 28, repr(e))
            expect(os.listdir(small) == [], f'temporary file left: {os.listdir(small)}')
        finally:
            subprocess.call(['umount', small])
            os.rmdir(small)

    def test_hello_ends_streams(self):
        s = self.sid()
        pid = []
        self.p.open(s, ('OP', 'exec'), ('ARGV', ['sh', '-c', 'sleep 100 & sleep 100']))
        f = self.p.next(lambda f: f.stream == s and f.type == REPLY)
        pid.append(f.fields.u64('PID'))
        self.p.send(HELLO, 0, tlv(('PROTO_VERSION', 1)))
        self.p.next(lambda f: f.type == HELLO)
        expect(gone(pid[0]), 'a new session left the old exec running')
        expect(self.p.quiet(lambda f: f.stream == s and f.type in (DONE, ERROR), 0.3), 'old stream answered')
        self.p.queue = [f for f in self.p.queue if f.stream != s]


def connect_unix(path, seconds=5):
    end = time.monotonic() + seconds
    while True:
        conn = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            conn.connect(path)
            return conn
        except (FileNotFoundError, ConnectionRefusedError):
            conn.close()
            expect(time.monotonic() < end, f'nothing listens on {path}')
            time.sleep(0.02)


def closed_by_agent(conn, seconds=3):
    """True once the agent has closed conn (whatever frames it sent before are skipped)."""
    conn.settimeout(seconds)
    try:
        while conn.recv(1 << 16):
            pass
        return True
    except (ConnectionResetError, socket.timeout):
        return False


def listen_mode(agent, work, drop):
    """--listen: the vsock transport's connection handling, a unix socket standing in for the
    vsock port (this machine has no vsock transport to connect through)."""
    path = os.path.join(work, 'listen.sock')
    proc = subprocess.Popen([agent, '--listen', path], **drop)
    conns = []
    try:
        a = Peer(connect_unix(path))
        conns.append(a.sock)
        a.next(lambda f: f.type == HELLO)  # every connection starts a session
        a.open(2, ('OP', 'exec'), ('ARGV', ['sleep', '100']))
        pid = a.next(lambda f: f.stream == 2 and f.type == REPLY).fields.u64('PID')

        b = Peer(connect_unix(path))  # replaces a: a's streams end, a is closed
        conns.append(b.sock)
        b.next(lambda f: f.type == HELLO)
        expect(gone(pid), 'the replaced connection left its exec running')
        expect(closed_by_agent(a.sock), 'the replaced connection was not closed')
        done(b.result(3, ('OP', 'ping')))

        b.sock.close()  # the host goes away: the agent waits for the next one
        c = Peer(connect_unix(path))
        conns.append(c.sock)
        c.next(lambda f: f.type == HELLO)
        done(c.result(2, ('OP', 'ping')))
        done(c.result(4, ('OP', 'shutdown')))
        expect(proc.wait(timeout=5) == 0, f'agent exit status {proc.returncode}')
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        for conn in conns:
            conn.close()


def main():
    if len(sys.argv) != 2:
        sys.exit('usage: integration.py AGENT')
    agent = os.path.abspath(sys.argv[1])
    base = tempfile.mkdtemp(prefix='scaibunker-agent-test-')
    os.chmod(base, 0o755)
    work = os.path.join(base, 'work')
    os.mkdir(work)
    os.chmod(work, 0o777)
    shutil.copy(agent, os.path.join(base, 'agent'))
    sock_path = os.path.join(base, 'agent.sock')
    listener = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    listener.bind(sock_path)
    os.chmod(sock_path, 0o777)
    listener.listen(1)

    drop = {}
    if os.geteuid() == 0 and not os.environ.get('AGENT_AS_ROOT'):
        drop = dict(user=65534, group=65534, extra_groups=[])
        print('running the agent as uid 65534 (unprivileged)')
    proc = subprocess.Popen([os.path.join(base, 'agent'), '--connect', sock_path], **drop)
    listener.settimeout(5)
    conn, _ = listener.accept()
    peer = Peer(conn)
    suite = Suite(peer, work)
    only = os.environ.get('TESTS', '').split(',')  # TESTS=test_pty,test_files runs just those
    tests = [name for name in Suite.__dict__ if name.startswith('test_') and
             (name == 'test_hello' or only == [''] or name in only)]
    failed = 0
    try:
        for name in tests:
            t0 = time.monotonic()
            try:
                getattr(suite, name)()
                print(f'ok   {name} ({time.monotonic() - t0:.2f}s)')
            except Failure as e:
                failed += 1
                print(f'FAIL {name}: {e}')
                if proc.poll() is not None:
                    break
        try:
            # shutdown in --connect mode answers, then the agent exits without touching the host
            done(suite.op('shutdown'))
            expect(proc.wait(timeout=5) == 0, f'agent exit status {proc.returncode}')
            print('ok   shutdown ends the agent (exit 0)')
        except (Failure, subprocess.TimeoutExpired) as e:
            failed += 1
            print(f'FAIL shutdown: {e}')
        try:
            listen_mode(os.path.join(base, 'agent'), work, drop)
            print('ok   --listen: one host at a time, a new one replaces the old, a closed one is waited for')
        except (Failure, subprocess.TimeoutExpired) as e:
            failed += 1
            print(f'FAIL --listen: {e}')
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        conn.close()
        listener.close()
        shutil.rmtree(base, ignore_errors=True)
    print(f'integration: {len(tests) + 2 - failed} passed, {failed} failed')
    sys.exit(1 if failed else 0)


if __name__ == '__main__':
    main()
