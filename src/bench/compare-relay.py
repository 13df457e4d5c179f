#!/usr/bin/python3
# compare-relay.py: the four workloads of the README's Performance table,
# gochat-server against the Node.js reference relay, medians of N runs
#
# Every run starts a fresh server process (gochat-server with its
# per-client limits lifted, or node-relay.js) on a free port, runs
# gochat-bench against it with --server-pid, and reads the JSON report.
# Runs alternate between the two servers so that both see the same
# machine load. Prints a Markdown table and, with --json, every report.
#
# Usage: compare-relay.py --build-dir _build-release --relay-modules /tmp/relay/node_modules
#
# Workload 5 is joins only: what a join costs the server, from accept to
# welcome and the join events to the room. --baseline-build-dir adds the
# gochat-server of another build (say an older commit) to every run,
# measured by the same gochat-bench.
#
# SPDX-License-Identifier: GPL-3.0-or-later

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
RELAY_JS = os.path.join(HERE, 'node-relay.js')

# The per-client limits of gochat-server exist against abuse; a benchmark
# of 1000 clients from one address would trip them.
GOCHAT_ARGS = ['--join-per-second=0', '--rate-burst=1000000', '--rate-per-second=1000000',
               '--max-connections=20000', '--room-max-members=1000']

WORKLOADS = {
    1: ('1 room × 50 clients × 200 messages, window 1',
        ['--clients=50', '--rooms=1', '--messages=200', '--window=1', '--size=64']),
    2: ('100 rooms × 10 clients × 100 messages, window 1',
        ['--clients=1000', '--rooms=100', '--messages=100', '--window=1', '--size=64']),
    3: ('workload 1 beside 10,000 idle connections in 100 rooms',
        ['--clients=50', '--rooms=1', '--messages=200', '--window=1', '--size=64']),
    4: ('1000 clients in 100 rooms at 2 messages/s (20 each)',
        ['--clients=1000', '--rooms=100', '--messages=20', '--rate=2', '--size=64']),
    5: ('5000 clients joining 100 rooms, joins only',
        ['--clients=5000', '--rooms=100', '--messages=0', '--timeout=60']),
}
IDLE_ARGS = ['--clients=10000', '--rooms=100', '--messages=0', '--hold', '--connect-concurrency=128']


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_listening(port, process, timeout=10.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError('server exited with %d' % process.returncode)
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError('server not listening on %d' % port)


def start_server(kind, args):
    port = free_port()
    if kind in ('gochat', 'baseline'):
        build_dir = args.build_dir if kind == 'gochat' else args.baseline_build_dir
        cmd = [os.path.join(build_dir, 'src', 'server', 'gochat-server'),
               '--bind=127.0.0.1', '--port=%d' % port] + GOCHAT_ARGS
        env = None
    else:
        cmd = ['node', args.relay_js, str(port)]
        env = dict(os.environ, NODE_PATH=args.relay_modules)
    process = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
    wait_listening(port, process)
    return process, port


def stop(process):
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def bench_cmd(args, kind, port, pid, extra):
    return ([os.path.join(args.build_dir, 'src', 'bench', 'gochat-bench'),
             '--url=ws://127.0.0.1:%d' % port,
             '--protocol=%s' % ('relay' if kind == 'relay' else 'gochat'),
             '--server-pid=%d' % pid, '--json', '--quiet'] + extra)


def run_one(args, kind, workload):
    process, port = start_server(kind, args)
    idle = None
    try:
        report = {}
        if workload == 3:
            idle = subprocess.Popen(bench_cmd(args, kind, port, process.pid, IDLE_ARGS),
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            line = idle.stdout.readline()
            if not line:
                raise RuntimeError('idle clients failed: %s' % idle.stderr.read())
            report['idle'] = json.loads(line)
        result = subprocess.run(bench_cmd(args, kind, port, process.pid, WORKLOADS[workload][1]),
                                capture_output=True, text=True, timeout=600)
        if result.returncode != 0:
            raise RuntimeError('gochat-bench exited %d: %s %s' % (result.returncode, result.stdout,
                                                                 result.stderr))
        report.update(json.loads(result.stdout))
        return report
    finally:
        if idle is not None:
            idle.terminate()
            idle.wait()
        stop(process)


def load():
    with open('/proc/loadavg') as f:
        return ' '.join(f.read().split()[:3])


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument('--build-dir', required=True)
    parser.add_argument('--relay-modules', required=True,
                        help='node_modules folder holding ws (npm install ws)')
    parser.add_argument('--relay-js', default=RELAY_JS)
    parser.add_argument('--runs', type=int, default=3)
    parser.add_argument('--workloads', default='1,2,3,4')
    parser.add_argument('--json', help='write every report to this file')
    parser.add_argument('--baseline-build-dir',
                        help='also run the gochat-server of this build (e.g. an older commit)')
    args = parser.parse_args()
    args.build_dir = os.path.abspath(args.build_dir)
    kinds = ('gochat', 'relay')
    if args.baseline_build_dir:
        args.baseline_build_dir = os.path.abspath(args.baseline_build_dir)
        kinds = ('baseline', 'gochat', 'relay')

    workloads = [int(w) for w in args.workloads.split(',')]
    reports = {}
    print('load average at start: %s' % load(), file=sys.stderr)
    for w in workloads:
        for i in range(args.runs):
            for kind in kinds:
                report = run_one(args, kind, w)
                reports.setdefault((w, kind), []).append(report)
                server = report['server']
                if w == 5:
                    print('workload 5 %-8s run %d: %6.1f µs CPU per join, %6.0f joins/CPU-s, '
                          'join events %d of %d, load %s'
                          % (kind, i + 1, server['cpu_us_per_join'], server['joins_per_cpu_second'],
                             report['connect']['join_events'],
                             report['connect']['expected_join_events'], load()), file=sys.stderr)
                    continue
                print('workload %d %-8s run %d: %8.0f deliveries/CPU-s, %8.0f deliveries/s, '
                      'p99 %.2f ms, lost %d, load %s'
                      % (w, kind, i + 1, server['deliveries_per_cpu_second'],
                         report['deliveries_per_second'], report['latency_ms']['p99'],
                         report['lost'], load()), file=sys.stderr)
    print('load average at end: %s' % load(), file=sys.stderr)

    def med(w, kind, get):
        return statistics.median(get(r) for r in reports[(w, kind)])

    def per_cpu(report):
        return report['server']['deliveries_per_cpu_second']

    def change(w, kind):
        if 1 not in workloads:
            return ''
        return ' (%+.0f %%)' % (100.0 * (med(w, kind, per_cpu) / med(1, kind, per_cpu) - 1))

    if args.baseline_build_dir:
        print('| workload | baseline gochat-server | gochat-server | change |')
        print('|---|---|---|---|')
        for w in workloads:
            if w == 5:
                b = med(w, 'baseline', lambda r: r['server']['cpu_us_per_join'])
                g = med(w, 'gochat', lambda r: r['server']['cpu_us_per_join'])
                print('| 5. %s: server CPU per join | %.1f µs | %.1f µs | %.2f× cheaper |'
                      % (WORKLOADS[w][0], b, g, b / g))
            elif w != 3:
                b = med(w, 'baseline', per_cpu)
                g = med(w, 'gochat', per_cpu)
                print('| %d. %s: deliveries per server CPU-second | %.0f | %.0f | %+.0f %% |'
                      % (w, WORKLOADS[w][0], b, g, 100.0 * (g / b - 1)))
        print()

    print('| workload | gochat-server | relay | ratio |')
    print('|---|---|---|---|')
    for w in workloads:
        if w == 5:
            for label, get, fmt in (
                    ('server CPU per join', lambda r: r['server']['cpu_us_per_join'], '%.1f µs'),
                    ('joins per server CPU-second', lambda r: r['server']['joins_per_cpu_second'],
                     '%.0f')):
                g = med(w, 'gochat', get)
                r = med(w, 'relay', get)
                print('| 5. %s: %s | %s | %s | %.2f× |'
                      % (WORKLOADS[w][0], label, fmt % g, fmt % r, g / r))
            continue
        g = med(w, 'gochat', per_cpu)
        r = med(w, 'relay', per_cpu)
        if w == 3:
            growth = [med(w, kind, lambda r: r['idle']['server']['rss_growth_per_connection_bytes'])
                      for kind in ('gochat', 'relay')]
            print('| 3. 10,000 idle connections in 100 rooms: server RSS growth per connection '
                  '| %.2f KiB | %.2f KiB | |' % (growth[0] / 1024, growth[1] / 1024))
            print('| 3. workload 1 beside them: deliveries per server CPU-second '
                  '(change from workload 1) | %.0f%s | %.0f%s | %.1f× |'
                  % (g, change(w, 'gochat'), r, change(w, 'relay'), g / r))
            continue
        print('| %d. %s: deliveries per server CPU-second | %.0f | %.0f | %.1f× |'
              % (w, WORKLOADS[w][0], g, r, g / r))
        if w == 4:
            g99 = med(w, 'gochat', lambda r: r['latency_ms']['p99'])
            r99 = med(w, 'relay', lambda r: r['latency_ms']['p99'])
            print('| 4. delivery latency p99 | %.2f ms | %.2f ms | |' % (g99, r99))

    if args.json:
        with open(args.json, 'w') as f:
            json.dump({'%d-%s' % k: v for k, v in reports.items()}, f, indent=1)


if __name__ == '__main__':
    main()
