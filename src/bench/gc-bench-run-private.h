/* gc-bench-run-private.h: what the two halves of GcBenchRun share
 *
 * gc-bench-run.c holds the run's life cycle, process limits, progress,
 * the clients' connections and the connect phase; gc-bench-run-messages.c
 * the message phase: sending, and matching every delivery.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <signal.h>

#include <gio/gio.h>

#include "gc-bench-connection.h"
#include "gc-bench-loop.h"
#include "gc-bench-run.h"
#include "gc-bench-wire.h"

G_BEGIN_DECLS

#define NS_PER_SECOND G_GINT64_CONSTANT (1000000000)
#define PROGRESS_INTERVAL_NS NS_PER_SECOND
/* File descriptors beyond the clients': stdio, epoll, signalfd, /proc
 * reads, GLib's wake-up fd, the TLS backend. */
#define RESERVED_FDS 32
/* Per-pair delivery state beyond this is refused: one room of 8000 is
 * about the limit. */
#define MAX_PAIR_BYTES (G_GUINT64_CONSTANT (1) << 30)

/* What receiver R has seen from sender S (both in the same room): the
 * next sequence number in order, and which of the 64 before it arrived,
 * so that a late arrival can be told from a duplicate. */
typedef struct {
  guint32 next;
  guint64 seen;   /* bit i: seq next - 1 - i arrived */
} PairState;

typedef struct {
  guint      n_members;
  PairState *pairs;   /* n_members × n_members, [receiver slot][sender slot] */
  /* With a node to kill: bit seq of pair (receiver, sender) set once the
   * receiver had that message, options.messages bits per pair, in the
   * order of @pairs. */
  guint64   *received;
} Room;

typedef struct {
  GcBenchRun        *run;
  GcBenchConnection *connection;
  guint              index;
  guint              room;
  guint              slot;            /* in the room */
  guint              node;            /* index of its URL */
  guint64            last_id;         /* gochat: the highest message id it received */
  guint64           *ids;             /* gochat: the id of each of its own messages, by
                                       * seq, as first delivered; 0 until then */
  guint32            sent;
  guint32            in_flight;
  gint64             connect_start_ns;
  gboolean           joined;
  gboolean           failed;
  gboolean           killed;          /* on the node this run killed */
} Client;

typedef enum {
  PHASE_IDLE,
  PHASE_CONNECT,
  PHASE_MESSAGES,
  PHASE_HOLD,
} Phase;

struct _GcBenchRun
{
  GcBenchOptions     options;
  char              *url;
  char              *tls_ca_file;
  GcBenchTarget    **targets;         /* one per URL */
  char             **urls;
  int               *server_pids;
  GcBenchLoop       *loop;
  GcBenchWatch       signal_watch;
  int                signal_fd;
  sigset_t           saved_mask;

  Client            *clients;
  Room              *rooms;
  char              *run_id;          /* makes room codes and names unique per run */

  Phase              phase;
  guint              started;         /* clients whose connect began */
  guint              connecting;      /* begun, not yet joined */
  GError            *error;           /* the connect phase's failure */
  guint64            in_flight;       /* messages sent, not yet echoed */
  gint64             kill_at_ns;      /* 0: no node to kill, or killed already */

  gint64             epoch_ns;        /* marker times count from here */
  gint64             phase_start_ns;
  gint64             last_activity_ns;
  gint64             last_delivery_ns;
  gint64             next_progress_ns;
  gboolean           progress_tty;
  gboolean           progress_shown;

  char              *text;            /* options.size bytes */
  GString           *request;

  GcBenchResults     results;
};
typedef enum {
  SAMPLE_START,
  SAMPLE_CONNECTED,
  SAMPLE_END,
} SamplePoint;

/* Samples every node and Redis; a process that is gone keeps the sample
 * before. */
void   gc_bench_run_sample_processes   (GcBenchRun          *self,
                                        SamplePoint          point);
void   gc_bench_run_kill_node          (GcBenchRun          *self);
void   gc_bench_run_progress_tick      (GcBenchRun          *self,
                                        gint64               now);
void   gc_bench_run_progress_end       (GcBenchRun          *self);
void   gc_bench_run_phase_begin        (GcBenchRun          *self,
                                        Phase                phase);
gint64 gc_bench_run_activity_deadline  (GcBenchRun          *self);

void   gc_bench_run_handle_delivery    (GcBenchRun          *self,
                                        Client              *receiver,
                                        const GcBenchMarker *marker,
                                        guint64              id,
                                        gint64               received_ns);
void   gc_bench_run_handle_error_event (GcBenchRun          *self,
                                        Client              *client,
                                        const GcBenchEvent  *event);

G_END_DECLS
