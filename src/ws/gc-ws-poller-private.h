/* gc-ws-poller-private.h: the contract between GcWsPoller and GcWsConnection
 *
 * A connection embeds a GcWsPollerEntry so that registering with the poller
 * and moving between its work lists costs no allocation. The poller calls
 * back into the connection (gc_ws_connection_handle_*) only from its own
 * dispatch or from a per-connection source on the portable path, always in
 * the poller's main context.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gc-ws-connection.h"
#include "gc-ws-poller.h"

G_BEGIN_DECLS

/* Reads per connection per wake-up stop after this many bytes, so that
 * one busy peer cannot starve the others; it is also the size of the
 * poller's shared read buffer. */
#define GC_WS_POLLER_READ_BUDGET (64 * 1024)

typedef struct {
  GcWsConnection *connection;   /* borrowed: the entry lives inside it */
  GList           all_link;     /* data = this entry, in every list */
  GList           pending_link;
  GList           flush_link;
  GSource        *in_source;    /* portable back end only (so: set iff it watches) */
  GSource        *out_source;   /* portable back end only, while blocked */
  int             fd;           /* in the epoll set; -1 otherwise */
  guint           registered : 1;
  guint           pending : 1;
  guint           flushing : 1;
  guint           want_write : 1;
} GcWsPollerEntry;

/* Registration. @socket may be %NULL (or the poller may lack epoll): the
 * connection is then watched through a pollable source on @input. With
 * @pending, the new entry starts on the pending list: the stream (a
 * wrapper) may already hold bytes; bytes waiting in the socket itself
 * are reported by the poll (level-triggered). */
void          gc_ws_poller_add              (GcWsPoller            *self,
                                             GcWsPollerEntry       *entry,
                                             GcWsConnection        *connection,
                                             GSocket               *socket,
                                             GPollableInputStream  *input,
                                             gboolean               pending);
/* Safe at any time, including from a handler running inside the dispatch
 * that still has this entry among its ready events. */
void          gc_ws_poller_remove           (GcWsPoller            *self,
                                             GcWsPollerEntry       *entry);

/* Read again on the next iteration even if the fd does not poll readable
 * (bytes may wait inside a TLS or buffering wrapper). */
void          gc_ws_poller_set_pending      (GcWsPoller            *self,
                                             GcWsPollerEntry       *entry);
/* Flush the connection's write queue at the end of the current dispatch,
 * or on the next iteration when called from outside one. */
void          gc_ws_poller_queue_flush      (GcWsPoller            *self,
                                             GcWsPollerEntry       *entry);
/* Watch for writability (the write queue is blocked) or stop doing so. */
void          gc_ws_poller_set_want_write   (GcWsPoller            *self,
                                             GcWsPollerEntry       *entry,
                                             GPollableOutputStream *output,
                                             gboolean               want_write);
/* A connection armed a timer that fires at @deadline (monotonic µs). */
void          gc_ws_poller_schedule         (GcWsPoller            *self,
                                             gint64                 deadline);

/* The monotonic time of the current dispatch (cheap), or now. */
gint64        gc_ws_poller_get_time         (GcWsPoller            *self);
/* The shared read buffer, GC_WS_POLLER_READ_BUDGET bytes; %NULL while
 * another read holds it (a handler running a nested main loop). */
guint8       *gc_ws_poller_acquire_read_buffer (GcWsPoller         *self);
void          gc_ws_poller_release_read_buffer (GcWsPoller         *self);
/* Counts writev calls, so that tests can check coalescing. */
void          gc_ws_poller_count_write_call (GcWsPoller            *self);

/* Implemented by GcWsConnection for the poller. */
void          gc_ws_connection_handle_readable (GcWsConnection     *self);
void          gc_ws_connection_handle_writable (GcWsConnection     *self);
/* The earliest timer deadline, or G_MAXINT64 when no timer is armed. */
gint64        gc_ws_connection_get_deadline    (GcWsConnection     *self);
void          gc_ws_connection_handle_timers   (GcWsConnection     *self,
                                                gint64              now);

/* For tests. */

/* A poller on the portable back end, which other platforms build as their
 * native one, so that it is tested on Linux too. */
GcWsPoller   *gc_ws_poller_new_portable     (GMainContext          *context);
/* Whether the poller runs on the build's native back end (epoll), not
 * the portable one. */
gboolean      gc_ws_poller_uses_epoll       (GcWsPoller            *self);
/* Connections registered (a test checks none is left behind). */
guint         gc_ws_poller_get_n_connections (GcWsPoller           *self);
guint64       gc_ws_poller_get_write_calls  (GcWsPoller            *self);

G_END_DECLS
