/* gc-bench-run.h: one gochat-bench run — connect, send, match, measure
 *
 * A run opens its clients (client i joins room i mod R, on node
 * (i / R) mod N of the N URLs, so that every room is split across the
 * nodes), waits until all
 * of them are in, then has each send its messages, closed-loop (a window
 * of own messages in flight, each released by the server's echo) or at
 * a fixed rate, and matches every delivery to its sender, sequence number
 * and send time; gochat messages also by their id, which must be the same
 * at every client and rise at each (one order per room, on any node).
 * With server pids it samples the servers' (and Redis's) CPU time and
 * memory from /proc around each phase. It may SIGKILL one node during
 * the messages and check that every message a client saw acknowledged
 * reached every client still connected.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "gc-bench-histogram.h"
#include "gc-bench-proc.h"

G_BEGIN_DECLS

/* How clients are spread over several URLs (nodes). */
typedef enum {
  GC_BENCH_SPREAD_MEMBERS,    /* each room's members in turn: every room split over the nodes */
  GC_BENCH_SPREAD_ROOMS,      /* room r wholly on node r mod N */
} GcBenchSpread;

typedef enum {
  GC_BENCH_PROTOCOL_GOCHAT,   /* /joinRoom, protocol v1 requests and events */
  GC_BENCH_PROTOCOL_RELAY,    /* ?room_code=R, raw text relayed to the room */
} GcBenchProtocol;

/**
 * GcBenchOptions:
 * @url: ws:// or wss:// URL of the server (the first of @urls)
 * @urls: (nullable): the nodes' URLs, @n_urls of them; %NULL: @url only
 * @n_urls: 0 or the length of @urls
 * @spread: how the clients are spread over @urls
 * @protocol: what the server speaks
 * @clients: connections, at most %GC_BENCH_MAX_CLIENTS
 * @rooms: rooms, 1 to @clients
 * @messages: messages each client sends; 0 only connects
 * @rate: messages per second per client; 0 for closed loop
 * @window: closed loop: own messages in flight per client
 * @size: bytes of chat text per message, at least
 *   %GC_BENCH_MIN_TEXT_SIZE
 * @server_pid: the server process to sample, or 0 (the first of
 *   @server_pids)
 * @server_pids: (nullable): the nodes' processes, @n_server_pids of them,
 *   in the order of @urls; their CPU is summed
 * @n_server_pids: 0 or the length of @server_pids
 * @redis_pid: the Redis server the nodes share, sampled too, or 0
 * @kill_node_after_s: > 0: SIGKILL the last node (the last of
 *   @server_pids, serving the clients of the last URL) this long into
 *   the messages
 * @connect_concurrency: upgrades in progress at once
 * @timeout_s: give up when nothing happens for this long
 * @tls_ca_file: (nullable): CAs to trust for wss://
 * @insecure: accept any certificate for wss://
 * @progress: report progress on stderr once a second
 */
/**
 * GcBenchProcess:
 * @pid: the process
 * @start: before the first connect
 * @connected: once all clients joined
 * @end: at the end of the messages (or just before it was killed)
 */
typedef struct {
  int                pid;
  GcBenchProcSample  start;
  GcBenchProcSample  connected;
  GcBenchProcSample  end;
} GcBenchProcess;

typedef struct {
  const char      *url;
  GcBenchProtocol  protocol;
  guint            clients;
  guint            rooms;
  guint            messages;
  double           rate;
  guint            window;
  guint            size;
  int              server_pid;
  const char     **urls;
  guint            n_urls;
  GcBenchSpread    spread;
  const int       *server_pids;
  guint            n_server_pids;
  int              redis_pid;
  double           kill_node_after_s;
  guint            connect_concurrency;
  guint            timeout_s;
  const char      *tls_ca_file;
  gboolean         insecure;
  gboolean         progress;
} GcBenchOptions;

/**
 * GcBenchResults:
 * @joined: clients that joined (101 for relay, `welcome` for gochat)
 * @connect_seconds: from the first connect to the last join
 * @connect_time: per client, from connect() to joined, in ns
 * @join_events: gochat: `join` events received; the connect phase waits
 *   for all @expected_join_events (each client hears of every later
 *   joiner of its room), so that its server CPU time covers them
 * @expected_join_events: gochat: the `join` events due
 * @sent: messages sent
 * @refused: messages the server refused with an `error` event
 * @expected: deliveries due: each accepted message to every member of
 *   its room, sender included
 * @delivered: distinct deliveries received
 * @lost: @expected - @delivered, once the run waited for them
 * @unsettled: @expected - @delivered when a signal cut the run short
 * @duplicated: deliveries of a message a client had already received
 * @out_of_order: deliveries older than one already received from the
 *   same sender
 * @reordered: gochat: deliveries whose id was not above the previous one
 *   the same client received (each client sees its room in one order)
 * @id_mismatches: gochat: deliveries of a message with another id than
 *   its first delivery had (every client sees the same ids)
 * @misrouted: deliveries of a message from another room
 * @foreign: text messages not sent by this run
 * @disconnected: clients the server disconnected after they joined
 * @error_events: `error` events received; @first_error_code the code of
 *   the first (owned), %NULL if none
 * @message_seconds: from the first send to the last delivery
 * @latency: per delivery, from send to receipt, in ns
 * @has_server: whether the server samples are set
 * @server_start: before the first connect (the first node)
 * @server_connected: once all clients joined
 * @server_end: at the end of the messages
 * @nodes: every node's samples, @n_nodes of them (the first is also
 *   @server_*)
 * @has_redis: whether @redis is set
 * @redis: the Redis server's samples
 * @killed: a node was SIGKILLed (@killed_pid, @kill_seconds into the
 *   messages); its @killed_clients count neither as disconnected nor as
 *   receivers, and @lost counts only @acked_lost
 * @acked_lost: after a kill: messages a client saw acknowledged (its own
 *   echo arrived) that some client still connected in that room never
 *   received, counted once per such client
 * @unacked: after a kill: messages whose sender never saw their echo
 * @bench_cpu_seconds: this process's CPU time during the messages
 * @interrupted: SIGINT or SIGTERM cut the run short
 * @timed_out: deliveries stopped arriving before all were in
 */
typedef struct {
  guint              joined;
  double             connect_seconds;
  GcBenchHistogram  *connect_time;
  guint64            join_events;
  guint64            expected_join_events;

  guint64            sent;
  guint64            refused;
  guint64            expected;
  guint64            delivered;
  guint64            lost;
  guint64            unsettled;
  guint64            duplicated;
  guint64            out_of_order;
  guint64            reordered;
  guint64            id_mismatches;
  guint64            misrouted;
  guint64            foreign;
  guint              disconnected;
  guint64            error_events;
  char              *first_error_code;
  double             message_seconds;
  GcBenchHistogram  *latency;

  gboolean           has_server;
  GcBenchProcSample  server_start;
  GcBenchProcSample  server_connected;
  GcBenchProcSample  server_end;
  GcBenchProcess    *nodes;
  guint              n_nodes;
  gboolean           has_redis;
  GcBenchProcess     redis;
  double             bench_cpu_seconds;

  gboolean           killed;
  int                killed_pid;
  double             kill_seconds;
  guint              killed_clients;
  guint64            acked_lost;
  guint64            unacked;

  gboolean           interrupted;
  gboolean           timed_out;
} GcBenchResults;

typedef struct _GcBenchRun GcBenchRun;

/* Checks the options against this machine (file descriptors, memory),
 * resolves the URL and samples the server. */
GcBenchRun           *gc_bench_run_new         (const GcBenchOptions *options,
                                                GError              **error);
void                  gc_bench_run_free        (GcBenchRun           *self);

/* Opens every client and waits until all have joined. Fails on the first
 * client the server refuses or that cannot connect. */
gboolean              gc_bench_run_connect     (GcBenchRun           *self,
                                                GError              **error);
/* Sends the messages and waits for their deliveries. */
void                  gc_bench_run_send        (GcBenchRun           *self);
/* Keeps the clients connected (answering pings) until SIGINT or SIGTERM. */
void                  gc_bench_run_hold        (GcBenchRun           *self);
/* Closes every connection with a close frame. */
void                  gc_bench_run_close       (GcBenchRun           *self);

const GcBenchResults *gc_bench_run_get_results (GcBenchRun           *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcBenchRun, gc_bench_run_free)

G_END_DECLS
