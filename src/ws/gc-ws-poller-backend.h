/* gc-ws-poller-backend.h: how GcWsPoller learns which connections are ready
 *
 * One interface, one implementation per file, the file chosen at build
 * time (as redis's ae.c picks ae_epoll.c or ae_select.c):
 * gc-ws-poller-epoll.c where epoll exists (one fd for every connection,
 * only the ready ones dispatched), gc-ws-poller-portable.c everywhere (a
 * pollable GSource per connection, which GLib's poll() walks on every
 * iteration). The portable back end is always built: it also watches a
 * connection the other cannot (no socket fd under its stream), and tests
 * run whole pollers on it (gc_ws_poller_new_portable()).
 *
 * Every call happens in the poller's main context.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gc-ws-poller-private.h"

G_BEGIN_DECLS

typedef struct {
  /* Sets up on the poller's @source; returns the back end's state, or
   * %NULL if it cannot work here (the poller then falls back to the
   * portable back end). %NULL for a back end that needs no state. */
  gpointer (*open)           (GSource               *source);
  void     (*close)          (gpointer               state);

  /* Starts watching @entry for reading; %FALSE if this back end cannot
   * (the portable one then does). */
  gboolean (*add)            (gpointer               state,
                              GcWsPoller            *poller,
                              GcWsPollerEntry       *entry,
                              GSocket               *socket,
                              GPollableInputStream  *input);
  /* Stops watching; safe from a handler inside this back end's dispatch. */
  void     (*remove)         (gpointer               state,
                              GcWsPollerEntry       *entry);
  /* Applies entry->want_write, which the poller has just changed. */
  void     (*update_write)   (gpointer               state,
                              GcWsPoller            *poller,
                              GcWsPollerEntry       *entry,
                              GPollableOutputStream *output);

  /* For the poller's GSource: is anything ready, and hand it out. %NULL
   * for a back end whose connections have sources of their own. */
  gboolean (*check)          (gpointer               state,
                              GSource               *source);
  void     (*dispatch)       (gpointer               state);
} GcWsPollerBackend;

/* gc-ws-poller-portable.c, built everywhere. */
extern const GcWsPollerBackend gc_ws_poller_backend_portable;
/* gc-ws-poller-epoll.c, built where sys/epoll.h exists (HAVE_EPOLL). */
extern const GcWsPollerBackend gc_ws_poller_backend_epoll;

G_END_DECLS
