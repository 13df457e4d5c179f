#!/usr/bin/python3
# redis-script-cost.py: what issue 13's message script costs Redis, with
# fixed batches, free of the machine's load
#
# Starts redis-server under callgrind (valgrind) on a unix socket in a
# temp dir, with two subscribers on every room's channel (two nodes),
# loads GC_REDIS_ROOMS_LUA_MESSAGES from gc-redis-rooms-scripts.h as the
# tree has it, and sends the same calls a node sends: ROOMS_PER_CALL
# rooms a call, MESSAGES a room (64-byte text, a node's JSON tail), from
# SENDERS members, the history stream kept at KEEP messages. Redis's
# instructions are counted from after a warm-up to the last answer, and
# reported per room batch and per message. Batch sizes in a real run move
# with the load (compare-nodes.py gives those figures); these do not, so
# two trees compare exactly (trees whose script takes KEYS seq members
# history hcount per room: c0b5090 and later).
#
# Usage: redis-script-cost.py [--source-dir .] [--rooms-per-call 5]
#        [--messages 10] [--senders 4] [--calls 80] [--keep 1000]
#
# SPDX-License-Identifier: GPL-3.0-or-later

import argparse
import ast
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

ROOMS = 10


def script_text(source_dir):
    """The message script: the C string literals of its macro, joined."""
    path = os.path.join(source_dir, 'src/server/redis/gc-redis-rooms-scripts.h')
    lines = open(path, encoding='utf-8').read().split('\n')
    start = next(i for i, line in enumerate(lines)
                 if line.startswith('#define GC_REDIS_ROOMS_LUA_MESSAGES'))
    text = []
    for line in lines[start + 1:]:
        body = re.sub(r'/\*.*?\*/', '', line)
        for literal in re.findall(r'"(?:[^"\\]|\\.)*"', body):
            text.append(ast.literal_eval(literal))
        if not line.rstrip().endswith('\\'):
            break
    return ''.join(text).encode()


def command(*args):
    out = [b'*%d\r\n' % len(args)]
    for arg in args:
        arg = arg if isinstance(arg, bytes) else str(arg).encode()
        out.append(b'$%d\r\n%s\r\n' % (len(arg), arg))
    return b''.join(out)


def reply_end(buf, pos):
    """Where the RESP reply at @pos ends, or None if it is not all there."""
    end = buf.find(b'\r\n', pos)
    if end < 0:
        return None
    kind = buf[pos:pos + 1]
    if kind in (b'+', b'-', b':'):
        return end + 2
    length = int(buf[pos + 1:end])
    if kind == b'$':
        stop = end + 2 + max(length, 0) + (2 if length >= 0 else 0)
        return stop if stop <= len(buf) else None
    pos = end + 2
    for _ in range(max(length, 0)):
        pos = reply_end(buf, pos)
        if pos is None:
            return None
    return pos


class Connection:
    def __init__(self, path):
        self.sock = socket.socket(socket.AF_UNIX)
        self.sock.connect(path)
        self.buf = b''

    def call(self, *args):
        self.sock.sendall(command(*args))
        while True:
            end = reply_end(self.buf, 0) if self.buf else None
            if end is not None:
                reply, self.buf = self.buf[:end], self.buf[end:]
                if reply.startswith(b'-'):
                    sys.exit('redis: %s' % reply.decode(errors='replace').strip())
                return reply
            self.buf += self.sock.recv(1 << 20)


def field(data):
    return b'%d:%s' % (len(data), data)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--source-dir', default=os.path.join(os.path.dirname(__file__), '../..'))
    parser.add_argument('--rooms-per-call', type=int, default=5)
    parser.add_argument('--messages', type=int, default=10)
    parser.add_argument('--senders', type=int, default=4)
    parser.add_argument('--calls', type=int, default=80)
    parser.add_argument('--keep', type=int, default=1000)
    options = parser.parse_args()
    if not shutil.which('valgrind') or not shutil.which('redis-server'):
        sys.exit('needs valgrind and redis-server')

    script = script_text(options.source_dir)
    tmp = tempfile.mkdtemp(prefix='gc-script-cost-')
    sock_path = os.path.join(tmp, 'r.sock')
    out = os.path.join(tmp, 'callgrind.out')
    redis = subprocess.Popen(['valgrind', '--tool=callgrind', '--callgrind-out-file=' + out,
                              'redis-server', '--port', '0', '--unixsocket', sock_path,
                              '--save', '', '--appendonly', 'no', '--dir', tmp],
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 60
        while not os.path.exists(sock_path):
            if time.monotonic() > deadline or redis.poll() is not None:
                sys.exit('redis-server did not start')
            time.sleep(0.1)
        time.sleep(0.5)
        conn = Connection(sock_path)
        subscribers = [Connection(sock_path) for _ in range(2)]
        for sub in subscribers:
            sub.sock.sendall(command('SUBSCRIBE', *['gc:{r%d}:ch' % r for r in range(ROOMS)]))
        sha = conn.call('SCRIPT', 'LOAD', script).split(b'\r\n')[1].decode()

        senders = []
        for r in range(ROOMS):
            conn.call('SET', 'gc:{r%d}:seq' % r, '1796000000000000')
            for k in range(options.senders):
                user_id = b'U%015d' % (r * 100 + k)
                name = b'c%d' % (r * 100 + k)
                prefix = field(user_id) + field(name)
                conn.call('HSET', 'gc:{r%d}:members' % r, name,
                          prefix + field(b'node-a') + field(b'1796000000000004') + field(b'0'))
                senders.append((name, prefix, user_id))

        def body(r):
            items = []
            for i in range(options.messages):
                name, prefix, user_id = senders[r * options.senders + i % options.senders]
                tail = (b',"from":{"id":"%s","name":"%s"},"kind":"text","text":"%s","client_id":"%d.%d"}'
                        % (user_id, name, b'x' * 64, r, i))
                items.append(field(b'7:message' + prefix + field(tail)))
            return b''.join(items)

        bodies = [body(r) for r in range(ROOMS)]

        def send(call):
            keys, argv = [], [options.keep, options.rooms_per_call]
            for j in range(options.rooms_per_call):
                r = (call * options.rooms_per_call + j) % ROOMS
                room = senders[r * options.senders:(r + 1) * options.senders]
                keys += ['gc:{r%d}:%s' % (r, k) for k in ('seq', 'members', 'history', 'hcount')]
                argv += (['gc:{r%d}:ch' % r, options.messages, options.senders] +
                         [s[0] for s in room] + [s[1] for s in room] + [bodies[r]])
            conn.call('EVALSHA', sha, len(keys), *keys, *argv)

        for call in range(20):
            send(call)
        subprocess.run(['callgrind_control', '-z', str(redis.pid)], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
        for call in range(options.calls):
            send(call)
        subprocess.run(['callgrind_control', '-d', str(redis.pid)], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, check=True)
    finally:
        redis.terminate()
        redis.wait()

    dumps = sorted(f for f in os.listdir(tmp) if f.startswith('callgrind.out.'))
    total = 0
    with open(os.path.join(tmp, dumps[-1])) as dump:
        for line in dump:
            if line.startswith('summary:') or line.startswith('totals:'):
                total = int(line.split()[1])
                break
    batches = options.calls * options.rooms_per_call
    print('%d calls of %d rooms x %d messages (%d senders, keep %d): %d instructions, '
          '%d per room batch, %d per message'
          % (options.calls, options.rooms_per_call, options.messages, options.senders, options.keep,
             total, total // batches, total // (batches * options.messages)))
    shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
