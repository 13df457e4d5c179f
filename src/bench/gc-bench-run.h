/* gc-bench-run.h: one gochat-bench run — connect, send, match, measure
 *
 * A run opens its clients (client i joins room i mod R), waits until all
 * of them are in, then has each send its messages, closed-loop (a window
 * of own messages in flight, each released by the server's echo) or at
 * a fixed rate, and matches every delivery to its sender, sequence number
 * and send time. With a server pid it samples the server's CPU time and
 * memory from /proc around each phase.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "gc-bench-histogram.h"
#include "gc-bench-proc.h"

G_BEGIN_DECLS

typedef enum {
  GC_BENCH_PROTOCOL_GOCHAT,   /* /joinRoom, protocol v1 requests and events */
  GC_BENCH_PROTOCOL_RELAY,    /* ?room_code=R, raw text relayed to the room */
} GcBenchProtocol;

/**
 * GcBenchOptions:
 * @url: ws:// or wss:// URL of the server
 * @protocol: what the server speaks
 * @clients: connections, at most %GC_BENCH_MAX_CLIENTS
 * @rooms: rooms, 1 to @clients
 * @messages: messages each client sends; 0 only connects
 * @rate: messages per second per client; 0 for closed loop
 * @window: closed loop: own messages in flight per client
 * @size: bytes of chat text per message, at least
 *   %GC_BENCH_MIN_TEXT_SIZE
 * @server_pid: the server process to sample, or 0
 * @connect_concurrency: upgrades in progress at once
 * @timeout_s: give up when nothing happens for this long
 * @tls_ca_file: (nullable): CAs to trust for wss://
 * @insecure: accept any certificate for wss://
 * @progress: report progress on stderr once a second
 */
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
 * @misrouted: deliveries of a message from another room
 * @foreign: text messages not sent by this run
 * @disconnected: clients the server disconnected after they joined
 * @error_events: `error` events received; @first_error_code the code of
 *   the first (owned), %NULL if none
 * @message_seconds: from the first send to the last delivery
 * @latency: per delivery, from send to receipt, in ns
 * @has_server: whether the server samples are set
 * @server_start: before the first connect
 * @server_connected: once all clients joined
 * @server_end: at the end of the messages
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
  double             bench_cpu_seconds;

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
