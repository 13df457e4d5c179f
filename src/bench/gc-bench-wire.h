/* gc-bench-wire.h: what gochat-bench puts on the wire and reads back
 *
 * Every chat text the bench sends starts with a marker naming its sender,
 * its sequence number and its send time, so that each delivery can be
 * matched without any per-message state in the bench. Server events are
 * scanned, not parsed into a tree: only the top-level members the bench
 * needs are located, which keeps reading cheaper than the server's work.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The longest marker: "CLIENT.SEQ.SENT_NS." in hex, with a client index
 * below GC_BENCH_MAX_CLIENTS, any 32-bit sequence number and a send time
 * below 2^56 ns (two years). Texts are at least this long. */
#define GC_BENCH_MAX_CLIENTS (1u << 20)
#define GC_BENCH_MARKER_MAX_LEN (5 + 1 + 8 + 1 + 14 + 1)
#define GC_BENCH_MIN_TEXT_SIZE 32

typedef struct {
  guint32 client;
  guint32 seq;
  guint64 sent_ns;   /* since the run started */
} GcBenchMarker;

/* Writes @size bytes of text starting with the marker into @out, padded
 * with letters; @size is at least GC_BENCH_MIN_TEXT_SIZE. */
void     gc_bench_text_format    (char                *out,
                                  gsize                size,
                                  const GcBenchMarker *marker);
/* Reads the marker at the start of @text; %FALSE if there is none. */
gboolean gc_bench_text_parse     (const char          *text,
                                  gsize                len,
                                  GcBenchMarker       *marker);

/* A protocol v1 `message` request carrying @text and the client_id
 * "CLIENT.SEQ" (hex), built by the protocol module's
 * gc_request_append_message() and appended to @out. @text must need no
 * JSON escaping (markers and padding do not). */
void     gc_bench_request_append (GString             *out,
                                  const char          *text,
                                  gsize                text_len,
                                  guint32              client,
                                  guint32              seq);
/* The same written to @out, which holds at least
 * gc_bench_request_max_size (@text_len) bytes; returns its length. */
gsize    gc_bench_request_max_size (gsize              text_len);
gsize    gc_bench_request_format (char                *out,
                                  const char          *text,
                                  gsize                text_len,
                                  guint32              client,
                                  guint32              seq);
/* Reads a client_id written by gc_bench_request_append(). */
gboolean gc_bench_client_id_parse (const char         *client_id,
                                   gsize               len,
                                   guint32            *client,
                                   guint32            *seq);

typedef enum {
  GC_BENCH_EVENT_OTHER,     /* leave, typing, … (ignored) */
  GC_BENCH_EVENT_WELCOME,
  GC_BENCH_EVENT_JOIN,
  GC_BENCH_EVENT_REFUSED,   /* a join refused after the upgrade */
  GC_BENCH_EVENT_MESSAGE,
  GC_BENCH_EVENT_ERROR,
} GcBenchEventType;

/**
 * GcBenchEvent:
 * @type: the event's `type`
 * @text: %GC_BENCH_EVENT_MESSAGE: the `text` string as it is on the wire
 *   (between the quotes, escapes not undone); %NULL if absent
 * @code: %GC_BENCH_EVENT_ERROR: the `code` string, raw; %NULL if absent
 * @ref: %GC_BENCH_EVENT_ERROR: the `ref` string, raw; %NULL if absent
 * @id: %GC_BENCH_EVENT_MESSAGE: the message's `id` (docs/protocol.md
 *   §4.3: strictly increasing within a room); 0 if absent
 *
 * The members of a server event the bench uses; the pointers point into
 * the scanned JSON.
 */
typedef struct {
  GcBenchEventType  type;
  const char       *text;
  gsize             text_len;
  const char       *code;
  gsize             code_len;
  const char       *ref;
  gsize             ref_len;
  guint64           id;
} GcBenchEvent;

/* Locates the top-level members of the JSON object @json, stopping once
 * it has those its type needs. Returns %FALSE if @json is not a JSON
 * object (as far as the scan goes) or has no string `type`. */
gboolean gc_bench_event_scan     (const char          *json,
                                  gsize                len,
                                  GcBenchEvent        *event);

G_END_DECLS
