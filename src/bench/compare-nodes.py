#!/usr/bin/python3
# compare-nodes.py: issue 13's figures — one gochat-server without Redis
# against two nodes sharing rooms through one redis-server, in one run
#
# Starts redis-server on a unix socket in a temp dir (TCP off, no
# persistence), then for each run: one gochat-server alone, and two
# gochat-server --redis nodes, each measured by gochat-bench with every
# --server-pid (and --redis-pid) so that deliveries per CPU-second count
# the nodes and Redis together. Runs alternate so that both setups see
# the same machine load. The workload (issue 13): 100 clients, 10 rooms
# each split 5/5 over the nodes, 64-byte text, window 4; and, for
# comparison, the same with each room wholly on one node (--spread=rooms,
# what a load balancer that keeps rooms together would give). A last run
# SIGKILLs one node part-way (--kill-node-after) and checks that no
# acknowledged message is missing for a client still connected.
#
# Usage: compare-nodes.py --build-dir _build-release [--runs 3] [--messages 400]
#
# SPDX-License-Identifier: GPL-3.0-or-later

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

# Per-client limits exist against abuse; 100 clients from one address
# would trip them.
GOCHAT_ARGS = ['--join-per-second=0', '--rate-burst=1000000', '--rate-per-second=1000000',
               '--max-connections=20000', '--room-max-members=1000']


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_for(check, what, process, timeout=20.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError('%s exited with %d' % (what, process.returncode))
        if check():
            return
        time.sleep(0.05)
    raise RuntimeError('%s did not start' % what)


def listening(port):
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=0.5):
            return True
    except OSError:
        return False


def healthy(port):
    # A --redis node listens before it holds its lease; /healthz says when
    # it serves.
    try:
        with socket.create_connection(('127.0.0.1', port), timeout=0.5) as s:
            s.sendall(b'GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n')
            answer = b''
            while True:
                chunk = s.recv(4096)
                if not chunk:
                    break
                answer += chunk
            return answer.startswith(b'HTTP/1.1 200')
    except OSError:
        return False


class Redis:
    def __init__(self, tmp):
        self.socket = os.path.join(tmp, 'r.sock')
        self.process = subprocess.Popen(
            ['redis-server', '--port', '0', '--unixsocket', self.socket, '--unixsocketperm', '700',
             '--save', '', '--appendonly', 'no', '--dir', tmp],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        wait_for(lambda: os.path.exists(self.socket), 'redis-server', self.process)
        self.url = 'unix://' + self.socket

    def flush(self):
        # Between runs: no room, member or lease of an earlier run is left.
        subprocess.run(['redis-cli', '-s', self.socket, 'FLUSHALL'], check=True,
                       stdout=subprocess.DEVNULL)

    def stop(self):
        stop(self.process)


def start_node(args, redis_url=None):
    port = free_port()
    cmd = [os.path.join(args.build_dir, 'src', 'server', 'gochat-server'),
           '--bind=127.0.0.1', '--port=%d' % port] + GOCHAT_ARGS
    if redis_url is not None:
        cmd += ['--redis', redis_url]
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    wait_for(lambda: healthy(port), 'gochat-server', process)
    return process, port


def stop(process):
    if process.poll() is not None:
        return
    process.terminate()
    try:
        process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def bench(args, nodes, redis_pid=None, extra=()):
    cmd = [os.path.join(args.build_dir, 'src', 'bench', 'gochat-bench'), '--json', '--quiet',
           '--clients=%d' % args.clients, '--rooms=%d' % args.rooms,
           '--messages=%d' % args.messages, '--window=%d' % args.window, '--size=64',
           '--timeout=30']
    for process, port in nodes:
        cmd += ['--url=ws://127.0.0.1:%d' % port, '--server-pid=%d' % process.pid]
    if redis_pid is not None:
        cmd.append('--redis-pid=%d' % redis_pid)
    cmd += list(extra)
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=900)
    if not result.stdout:
        raise RuntimeError('gochat-bench exited %d: %s' % (result.returncode, result.stderr))
    report = json.loads(result.stdout)
    report['exit_status'] = result.returncode
    return report


def run_single(args):
    node = start_node(args)
    try:
        return bench(args, [node])
    finally:
        stop(node[0])


def run_redis(args, redis, kill_after=None, spread='members'):
    redis.flush()
    nodes = []
    try:
        for _ in range(2):
            nodes.append(start_node(args, redis.url))
        extra = ['--spread=' + spread]
        if kill_after:
            extra.append('--kill-node-after=%g' % kill_after)
        return bench(args, nodes, redis.process.pid, extra)
    finally:
        for process, _ in nodes:
            stop(process)


def load():
    with open('/proc/loadavg') as f:
        return ' '.join(f.read().split()[:3])


def checks(report):
    return ('lost %d, duplicated %d, out of order %d, reordered %d, id mismatches %d, '
            'disconnected %d, exit %d'
            % (report['lost'], report['duplicated'], report['out_of_order'], report['reordered'],
               report['id_mismatches'], report['disconnected'], report['exit_status']))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('--build-dir', required=True)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--clients', type=int, default=100)
    parser.add_argument('--rooms', type=int, default=10)
    parser.add_argument('--messages', type=int, default=400)
    parser.add_argument('--window', type=int, default=4)
    parser.add_argument('--kill-after', type=float, default=1.0,
                        help='the kill run: seconds into the messages (0: no kill run)')
    parser.add_argument('--kill-messages', type=int, default=3000,
                        help='the kill run: messages per client (enough to outlast the kill)')
    parser.add_argument('--json', help='write every report to this file')
    args = parser.parse_args()
    args.build_dir = os.path.abspath(args.build_dir)
    if shutil.which('redis-server') is None or shutil.which('redis-cli') is None:
        sys.exit('compare-nodes.py: needs redis-server and redis-cli (Debian: redis-server)')

    tmp = tempfile.mkdtemp(prefix='gochat-nodes-')
    redis = Redis(tmp)
    reports = {'single': [], 'redis': [], 'rooms': [], 'kill': []}
    loads = [load()]
    try:
        print('load average at start: %s' % loads[0], file=sys.stderr)
        for i in range(args.runs):
            single = run_single(args)
            reports['single'].append(single)
            print('one node    run %d: %8.0f deliveries/CPU-s (node %.2f s CPU), %s, load %s'
                  % (i + 1, single['server']['deliveries_per_cpu_second'],
                     single['server']['cpu_seconds'], checks(single), load()), file=sys.stderr)
            loads.append(load())
            pair = run_redis(args, redis)
            reports['redis'].append(pair)
            print('2 nodes+Redis run %d: %8.0f deliveries/CPU-s (nodes %.2f s, Redis %.2f s CPU), '
                  'Redis %.2f µs per message, %s, load %s'
                  % (i + 1, pair['total']['deliveries_per_cpu_second'],
                     pair['server']['cpu_seconds'], pair['redis']['cpu_seconds'],
                     pair['redis']['cpu_us_per_message'], checks(pair), load()), file=sys.stderr)
            loads.append(load())
            whole = run_redis(args, redis, spread='rooms')
            reports['rooms'].append(whole)
            print('2 nodes+Redis, rooms whole, run %d: %8.0f deliveries/CPU-s, Redis %.2f µs per '
                  'message, %s, load %s'
                  % (i + 1, whole['total']['deliveries_per_cpu_second'],
                     whole['redis']['cpu_us_per_message'], checks(whole), load()), file=sys.stderr)
            loads.append(load())
        if args.kill_after > 0:
            saved = args.messages
            args.messages = args.kill_messages
            killed = run_redis(args, redis, args.kill_after)
            args.messages = saved
            reports['kill'].append(killed)
            kill = killed['kill']
            print('kill run: node killed %s at %.2f s, %d clients cut off, %d acknowledged messages '
                  'missing at clients still connected, %d never acknowledged; %s'
                  % ('yes' if kill['killed'] else 'NO', kill['seconds'], kill['clients_cut_off'],
                     kill['acked_lost'], kill['unacked'], checks(killed)), file=sys.stderr)
        loads.append(load())
        print('load average at end: %s' % loads[-1], file=sys.stderr)
    finally:
        redis.stop()
        shutil.rmtree(tmp, ignore_errors=True)

    def med(kind, get):
        return statistics.median(get(r) for r in reports[kind])

    single = med('single', lambda r: r['server']['deliveries_per_cpu_second'])
    pair = med('redis', lambda r: r['total']['deliveries_per_cpu_second'])
    pair_nodes = med('redis', lambda r: r['server']['deliveries_per_cpu_second'])
    redis_us = med('redis', lambda r: r['redis']['cpu_us_per_message'])
    whole = med('rooms', lambda r: r['total']['deliveries_per_cpu_second'])
    whole_redis_us = med('rooms', lambda r: r['redis']['cpu_us_per_message'])
    clean = all(r['exit_status'] == 0 for kind in ('single', 'redis', 'rooms')
                for r in reports[kind])
    print('%d clients, %d rooms split over the nodes, %d messages each, window %d, 64-byte text; '
          'medians of %d runs; load average %s … %s'
          % (args.clients, args.rooms, args.messages, args.window, args.runs, loads[0], loads[-1]))
    print()
    print('| figure | value | target |')
    print('|---|---|---|')
    print('| one node, no Redis: deliveries per CPU-second | %.0f | |' % single)
    print('| 2 nodes + Redis: deliveries per CPU-second (nodes and Redis) | %.0f (%.2f×) | ≥ 0.6× |'
          % (pair, pair / single))
    print('| 2 nodes + Redis: deliveries per node CPU-second (Redis left out) | %.0f (%.2f×) | |'
          % (pair_nodes, pair_nodes / single))
    print('| Redis CPU per chat message | %.2f µs | ≤ 10 µs |' % redis_us)
    print('| 2 nodes + Redis, each room wholly on one node (--spread=rooms): deliveries per '
          'CPU-second, nodes and Redis | %.0f (%.2f×; Redis %.2f µs per message) | |'
          % (whole, whole / single, whole_redis_us))
    print('| lost, duplicated, reordered, id mismatches (all runs) | %s | none |'
          % ('none' if clean else 'SOME: see the runs above'))
    if reports['kill']:
        k = reports['kill'][0]
        print('| node SIGKILLed after %g s: acknowledged messages missing at clients still '
              'connected | %d (%d clients cut off, %d messages never acknowledged) | 0 |'
              % (args.kill_after, k['kill']['acked_lost'], k['kill']['clients_cut_off'],
                 k['kill']['unacked']))

    if args.json:
        with open(args.json, 'w') as f:
            json.dump(reports, f, indent=1)


if __name__ == '__main__':
    main()
