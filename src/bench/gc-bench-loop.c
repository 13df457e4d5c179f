/* gc-bench-loop.c: gochat-bench's event loop — one epoll set, one thread
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <sys/epoll.h>
#include <time.h>
#include <unistd.h>

#include <gio/gio.h>

#include "gc-bench-loop.h"

/* Ready fds taken per epoll_wait(); more stay ready for the next one. */
#define MAX_EVENTS 512

typedef struct {
  GSource source;
} EpollSource;

struct _GcBenchLoop
{
  int                 epoll_fd;
  GSource            *source;      /* the epoll fd in the main context, or NULL */
  int                 n_events;
  int                 next_event;
  struct epoll_event  events[MAX_EVENTS];
  guint8              read_buffer[GC_BENCH_LOOP_READ_SIZE];
};

gint64
gc_bench_now_ns (void)
{
  struct timespec now;

  clock_gettime (CLOCK_MONOTONIC, &now);
  return (gint64) now.tv_sec * G_GINT64_CONSTANT (1000000000) + now.tv_nsec;
}

static gboolean
epoll_source_dispatch (GSource     *source,
                       GSourceFunc  callback,
                       gpointer     user_data)
{
  /* Nothing to do here: gc_bench_loop_iterate() dispatches the epoll set
   * once the context iteration returns, for both wake-up reasons (the fd
   * or the ready time). */
  g_source_set_ready_time (source, -1);
  return G_SOURCE_CONTINUE;
}

static GSourceFuncs epoll_source_funcs = {
  .dispatch = epoll_source_dispatch,
};

GcBenchLoop *
gc_bench_loop_new (gboolean   use_main_context,
                   GError   **error)
{
  g_autoptr(GcBenchLoop) self = g_new0 (GcBenchLoop, 1);

  self->epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  if (self->epoll_fd < 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "epoll_create1: %s", g_strerror (saved_errno));
      return NULL;
    }

  if (use_main_context)
    {
      self->source = g_source_new (&epoll_source_funcs, sizeof (EpollSource));
      g_source_set_static_name (self->source, "gochat-bench epoll");
      g_source_add_unix_fd (self->source, self->epoll_fd, G_IO_IN);
      g_source_attach (self->source, NULL);
    }

  return g_steal_pointer (&self);
}

void
gc_bench_loop_free (GcBenchLoop *self)
{
  if (self == NULL)
    return;

  if (self->source != NULL)
    {
      g_source_destroy (self->source);
      g_source_unref (self->source);
    }
  if (self->epoll_fd >= 0)
    close (self->epoll_fd);
  g_free (self);
}

void
gc_bench_watch_init (GcBenchWatch     *watch,
                     GcBenchWatchFunc  func)
{
  watch->func = func;
  watch->fd = -1;
  watch->events = 0;
}

gboolean
gc_bench_loop_add (GcBenchLoop   *self,
                   GcBenchWatch  *watch,
                   int            fd,
                   guint32        events,
                   GError       **error)
{
  struct epoll_event event = { .events = events, .data.ptr = watch };

  g_return_val_if_fail (watch->fd == -1, FALSE);

  if (epoll_ctl (self->epoll_fd, EPOLL_CTL_ADD, fd, &event) != 0)
    {
      int saved_errno = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved_errno),
                   "epoll_ctl (ADD): %s", g_strerror (saved_errno));
      return FALSE;
    }

  watch->fd = fd;
  watch->events = events;
  return TRUE;
}

void
gc_bench_loop_modify (GcBenchLoop  *self,
                      GcBenchWatch *watch,
                      guint32       events)
{
  struct epoll_event event = { .events = events, .data.ptr = watch };

  if (watch->fd == -1 || watch->events == events)
    return;

  if (epoll_ctl (self->epoll_fd, EPOLL_CTL_MOD, watch->fd, &event) != 0)
    g_warning ("epoll_ctl (MOD, %d): %s", watch->fd, g_strerror (errno));
  watch->events = events;
}

void
gc_bench_loop_remove (GcBenchLoop  *self,
                      GcBenchWatch *watch)
{
  if (watch->fd == -1)
    return;

  if (epoll_ctl (self->epoll_fd, EPOLL_CTL_DEL, watch->fd, NULL) != 0)
    g_warning ("epoll_ctl (DEL, %d): %s", watch->fd, g_strerror (errno));
  watch->fd = -1;
  watch->events = 0;

  /* The batch being dispatched may still name it. */
  for (int i = self->next_event; i < self->n_events; i++)
    {
      if (self->events[i].data.ptr == watch)
        self->events[i].data.ptr = NULL;
    }
}

static void
loop_dispatch (GcBenchLoop *self,
               int          timeout_ms)
{
  int n = epoll_wait (self->epoll_fd, self->events, MAX_EVENTS, timeout_ms);

  if (n < 0)
    {
      if (errno != EINTR)
        g_warning ("epoll_wait: %s", g_strerror (errno));
      return;
    }

  self->n_events = n;
  for (self->next_event = 0; self->next_event < self->n_events; )
    {
      struct epoll_event *event = &self->events[self->next_event++];
      GcBenchWatch *watch = event->data.ptr;

      if (watch != NULL)
        watch->func (watch, event->events);
    }
  self->n_events = 0;
  self->next_event = 0;
}

void
gc_bench_loop_iterate (GcBenchLoop *self,
                       gint64       deadline_ns)
{
  int timeout_ms = -1;

  if (deadline_ns >= 0)
    {
      gint64 left_ns = deadline_ns - gc_bench_now_ns ();

      /* Rounded up: waking before the deadline would only spin. */
      timeout_ms = left_ns <= 0 ? 0 : (int) MIN ((left_ns + 999999) / 1000000, G_MAXINT);
    }

  if (self->source == NULL)
    {
      loop_dispatch (self, timeout_ms);
      return;
    }

  g_source_set_ready_time (self->source,
                           timeout_ms < 0 ? -1 :
                           g_get_monotonic_time () + (gint64) timeout_ms * 1000);
  g_main_context_iteration (NULL, TRUE);
  loop_dispatch (self, 0);
}

guint8 *
gc_bench_loop_get_read_buffer (GcBenchLoop *self)
{
  return self->read_buffer;
}
