/* gc-handshake-watch.c: plain sockets waiting for their client
 *
 * A GSource per waiting socket costs a wake-up of the main loop each
 * time one is attached or destroyed (GLib 2.74 writes the context's
 * eventfd for both), and most joins wait for their request a moment
 * after the accept. So every plain socket that waits shares one GSource:
 * an epoll set whose members are one-shot, armed again while their
 * handshake wants more. Elsewhere than Linux there is no set, and
 * handshakes use a GSource each.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#ifdef __linux__
#include <sys/epoll.h>
#include <unistd.h>
#define HAVE_HANDSHAKE_EPOLL 1
#endif

#include "gc-handshake-watch-private.h"

#ifdef HAVE_HANDSHAKE_EPOLL
#define WATCH_EVENTS_PER_DISPATCH 64

typedef struct {
  GSource  source;
  int      epoll_fd;
} HandshakeWatch;

static gboolean
handshake_watch_dispatch (GSource     *source,
                          GSourceFunc  callback,
                          gpointer     user_data)
{
  HandshakeWatch *watch = (HandshakeWatch *) source;
  struct epoll_event events[WATCH_EVENTS_PER_DISPATCH];
  GcHandshake *ready[WATCH_EVENTS_PER_DISPATCH];
  int n = epoll_wait (watch->epoll_fd, events, G_N_ELEMENTS (events), 0);

  /* Held and marked first: one's callback may end another's handshake. */
  for (int i = 0; i < n; i++)
    {
      ready[i] = gc_handshake_ref (events[i].data.ptr);
      ready[i]->watch = GC_HANDSHAKE_WATCH_FIRED;
    }

  for (int i = 0; i < n; i++)
    {
      GcHandshake *hs = ready[i];

      if (hs->admission != NULL && hs->io_func != NULL && hs->io_func (hs) == G_SOURCE_CONTINUE &&
          hs->admission != NULL && hs->io_func != NULL && hs->watch == GC_HANDSHAKE_WATCH_FIRED)
        gc_handshake_watch_arm (source, hs);
      gc_handshake_unref (hs);
    }

  return G_SOURCE_CONTINUE;
}

static void
handshake_watch_finalize (GSource *source)
{
  close (((HandshakeWatch *) source)->epoll_fd);
}

static GSourceFuncs handshake_watch_funcs = {
  .dispatch = handshake_watch_dispatch,
  .finalize = handshake_watch_finalize,
};
#endif

GSource *
gc_handshake_watch_new (GMainContext *context)
{
#ifdef HAVE_HANDSHAKE_EPOLL
  int epoll_fd = epoll_create1 (EPOLL_CLOEXEC);
  GSource *source;

  if (epoll_fd < 0)
    return NULL;

  source = g_source_new (&handshake_watch_funcs, sizeof (HandshakeWatch));
  ((HandshakeWatch *) source)->epoll_fd = epoll_fd;
  g_source_add_unix_fd (source, epoll_fd, G_IO_IN);
  g_source_set_static_name (source, "[gochat] handshakes");
  g_source_attach (source, context);

  return source;
#else
  return NULL;
#endif
}

gboolean
gc_handshake_watch_arm (GSource     *watch,
                        GcHandshake *hs)
{
#ifdef HAVE_HANDSHAKE_EPOLL
  struct epoll_event event = { .events = EPOLLIN | EPOLLONESHOT, .data.ptr = hs };

  if (epoll_ctl (((HandshakeWatch *) watch)->epoll_fd,
                 hs->watch == GC_HANDSHAKE_WATCH_NONE ? EPOLL_CTL_ADD : EPOLL_CTL_MOD,
                 g_socket_get_fd (hs->socket), &event) != 0)
    return FALSE;
  hs->watch = GC_HANDSHAKE_WATCH_ARMED;

  return TRUE;
#else
  return FALSE;
#endif
}

void
gc_handshake_watch_disarm (GSource     *watch,
                           GcHandshake *hs)
{
#ifdef HAVE_HANDSHAKE_EPOLL
  if (hs->watch == GC_HANDSHAKE_WATCH_NONE)
    return;

  epoll_ctl (((HandshakeWatch *) watch)->epoll_fd, EPOLL_CTL_DEL,
             g_socket_get_fd (hs->socket), NULL);
  hs->watch = GC_HANDSHAKE_WATCH_NONE;
#endif
}
