#!/usr/bin/env python3
"""Writes the seed corpus (fuzz/corpus/*.bin): valid conversations, and a few broken ones."""
import os
import struct

HELLO, OPEN, REPLY, DATA, EOF, CREDIT, CONTROL, DONE, ERROR = range(1, 10)
KEYS = dict(OP=1, ARGV=2, ENV=3, CWD=4, UID=5, GID=6, TIMEOUT_MS=7, COLS=8, ROWS=9, STDIN=10,
            PATH=11, MODE=12, PATH2=13, RECURSIVE=14, SIGNAL=17, HOSTNAME=29, MACHINE_ID=30,
            ENTROPY=31, TIME_MS=32, CANCEL=34, PROTO_VERSION=27)


def frame(type, stream, payload=b'', channel=0):
    return struct.pack('<HBBIIBBH', 0x5342, 1, type, stream, len(payload), channel, 0, 0) + payload


def tlv(*fields):
    out = b''
    for key, value in fields:
        if isinstance(value, str):
            value = value.encode()
        elif isinstance(value, int):
            value = struct.pack('<Q', value)
        out += struct.pack('<HI', KEYS[key], len(value)) + value
    return out


def credit(stream, n, channel=1):
    return frame(CREDIT, stream, struct.pack('<I', n), channel)


SEEDS = {
    'hello': frame(HELLO, 0, tlv(('PROTO_VERSION', 1))),
    'ping': frame(OPEN, 1, tlv(('OP', 'ping'))),
    'exec': frame(OPEN, 2, tlv(('OP', 'exec'), ('ARGV', 'sh'), ('ARGV', '-c'), ('ARGV', 'cat'),
                              ('ENV', 'A=1'), ('CWD', '/tmp'), ('STDIN', 1), ('TIMEOUT_MS', 1000)))
    + frame(DATA, 2, b'hello\n') + credit(2, 4096) + credit(2, 10, 2) + frame(EOF, 2),
    'exec_pty': frame(OPEN, 3, tlv(('OP', 'exec'), ('ARGV', 'sh'), ('COLS', 80), ('ROWS', 24)))
    + frame(CONTROL, 3, tlv(('COLS', 100), ('ROWS', 30))) + frame(CONTROL, 3, tlv(('SIGNAL', 15)))
    + frame(CONTROL, 3, tlv(('CANCEL', 1))),
    'files': frame(OPEN, 4, tlv(('OP', 'write'), ('PATH', '/tmp/f'), ('MODE', 0o600), ('UID', 0)))
    + frame(DATA, 4, b'x' * 100) + frame(EOF, 4)
    + frame(OPEN, 5, tlv(('OP', 'read'), ('PATH', '/tmp/f'))) + credit(5, 65536)
    + frame(OPEN, 6, tlv(('OP', 'stat'), ('PATH', '/tmp/f')))
    + frame(OPEN, 7, tlv(('OP', 'list'), ('PATH', '/tmp')))
    + frame(OPEN, 8, tlv(('OP', 'mkdir'), ('PATH', '/tmp/a/b'), ('RECURSIVE', 1)))
    + frame(OPEN, 9, tlv(('OP', 'rename'), ('PATH', '/tmp/f'), ('PATH2', '/tmp/g')))
    + frame(OPEN, 10, tlv(('OP', 'remove'), ('PATH', '/tmp/a'), ('RECURSIVE', 1))),
    'system': frame(OPEN, 11, tlv(('OP', 'freeze'))) + frame(OPEN, 12, tlv(('OP', 'thaw')))
    + frame(OPEN, 13, tlv(('OP', 'identity'), ('HOSTNAME', 'box'),
                          ('MACHINE_ID', '0123456789abcdef0123456789abcdef'),
                          ('ENTROPY', bytes(64)), ('TIME_MS', 1700000000000)))
    + frame(OPEN, 14, tlv(('OP', 'shutdown'))),
    'garbage_then_ping': b'\x00garbage BS\x01\x63' + frame(OPEN, 1, tlv(('OP', 'ping'))),
    'bad_tlv': frame(OPEN, 1, tlv(('OP', 'ping'))[:-1]) + frame(OPEN, 1, b'\x01\x00\xff\xff\xff\xff'),
    'in_use': frame(OPEN, 2, tlv(('OP', 'exec'), ('ARGV', 'cat'))) + frame(OPEN, 2, tlv(('OP', 'ping'))),
}

if __name__ == '__main__':
    here = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'corpus')
    os.makedirs(here, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(here, name + '.bin'), 'wb') as f:
            f.write(data)
