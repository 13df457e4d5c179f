/* gc-bench-loop.h: gochat-bench's event loop — one epoll set, one thread
 *
 * The load generator must never be the bottleneck, so plain connections
 * are driven straight from epoll_wait(): no GSource, no poll() walk over
 * thousands of fds. TLS goes through GIO, whose handshakes complete in
 * the thread-default GMainContext; a loop made for TLS therefore waits in
 * that context instead, with the epoll fd as one of its sources, and
 * dispatches the same ready list.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct _GcBenchLoop GcBenchLoop;
typedef struct _GcBenchWatch GcBenchWatch;

/* Called with the epoll events (EPOLLIN, EPOLLOUT, EPOLLERR, EPOLLHUP)
 * that are ready on the watch's fd. */
typedef void (*GcBenchWatchFunc) (GcBenchWatch *watch,
                                  guint32       events);

/**
 * GcBenchWatch:
 * @func: the handler
 * @fd: the watched fd, -1 while not watched
 * @events: the events asked for
 *
 * Embedded in whatever owns the fd, so that watching costs no
 * allocation. Zero-initialise, then set @func.
 */
struct _GcBenchWatch
{
  GcBenchWatchFunc func;
  int              fd;
  guint32          events;
};

GcBenchLoop *gc_bench_loop_new        (gboolean       use_main_context,
                                       GError       **error);
void         gc_bench_loop_free       (GcBenchLoop   *self);

/* Monotonic time in nanoseconds. */
gint64       gc_bench_now_ns          (void);

void         gc_bench_watch_init      (GcBenchWatch  *watch,
                                       GcBenchWatchFunc func);
/* Starts watching @fd for @events (level-triggered). */
gboolean     gc_bench_loop_add        (GcBenchLoop   *self,
                                       GcBenchWatch  *watch,
                                       int            fd,
                                       guint32        events,
                                       GError       **error);
void         gc_bench_loop_modify     (GcBenchLoop   *self,
                                       GcBenchWatch  *watch,
                                       guint32        events);
/* Safe from a handler, for any watch, including ones still in the batch
 * being dispatched. Call it before closing the fd. */
void         gc_bench_loop_remove     (GcBenchLoop   *self,
                                       GcBenchWatch  *watch);

/* Waits until at least one fd is ready or @deadline_ns (monotonic; -1:
 * no deadline) passes, then dispatches what is ready. On a loop made for
 * the main context, GLib sources run too. */
void         gc_bench_loop_iterate    (GcBenchLoop   *self,
                                       gint64         deadline_ns);

/* The shared read buffer, GC_BENCH_LOOP_READ_SIZE bytes: handlers read
 * into it and must not keep pointers into it. */
#define GC_BENCH_LOOP_READ_SIZE (64 * 1024)
guint8      *gc_bench_loop_get_read_buffer (GcBenchLoop *self);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcBenchLoop, gc_bench_loop_free)

G_END_DECLS
