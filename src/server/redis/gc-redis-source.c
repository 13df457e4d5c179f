/* gc-redis-source.c: a GSource driving one redisAsyncContext
 *
 * hiredis asks for reading and writing through its ev hooks; this source
 * polls the socket for reading whenever asked and, for writing, first just
 * tries in the next dispatch (so that every command queued during one
 * main-loop iteration leaves in one write), polling for POLLOUT only after
 * a write left bytes behind or while connect() is in progress.
 *
 * hiredis frees the context from inside redisAsyncHandleRead/Write on an
 * error, calling the cleanup hook on the way: the hook clears the source's
 * pointer, and dispatch checks it after every call into hiredis.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-redis-source-private.h"

typedef struct {
  GSource parent;
  redisAsyncContext *ac; /* NULL once hiredis freed it */
  gpointer fd_tag;
  gboolean want_read;
  gboolean want_write;
  gboolean write_blocked; /* wait for POLLOUT before writing */
  GIOCondition polled;
  GcRedisSourceReadFunc read_func;
  gpointer read_data;
} GcRedisSource;

static void
update_poll (GcRedisSource *self)
{
  GIOCondition events = 0;

  if (self->fd_tag == NULL)
    return;
  if (self->want_read)
    events |= G_IO_IN;
  if (self->want_write && self->write_blocked)
    events |= G_IO_OUT;
  if (events != self->polled)
    {
      self->polled = events;
      g_source_modify_unix_fd ((GSource *) self, self->fd_tag, events);
    }
}

static void
add_read (void *data)
{
  GcRedisSource *self = data;

  self->want_read = TRUE;
  update_poll (self);
}

static void
del_read (void *data)
{
  GcRedisSource *self = data;

  self->want_read = FALSE;
  update_poll (self);
}

/* Called for every command queued: only a flag, the write happens in the
 * next dispatch (prepare says the source is ready). */
static void
add_write (void *data)
{
  GcRedisSource *self = data;

  self->want_write = TRUE;
  update_poll (self);
}

static void
del_write (void *data)
{
  GcRedisSource *self = data;

  self->want_write = FALSE;
  self->write_blocked = FALSE;
  update_poll (self);
}

/* hiredis is freeing the context (possibly from inside our dispatch). */
static void
cleanup (void *data)
{
  GcRedisSource *self = data;

  self->ac = NULL;
  self->want_read = self->want_write = FALSE;
  if (self->fd_tag != NULL)
    {
      g_source_remove_unix_fd ((GSource *) self, self->fd_tag);
      self->fd_tag = NULL;
    }
  /* Destroying a source from its own dispatch is allowed: GLib drops it
   * once dispatch returns. */
  g_source_destroy ((GSource *) self);
}

static gboolean
source_prepare (GSource *source,
                int     *timeout)
{
  GcRedisSource *self = (GcRedisSource *) source;

  *timeout = -1;
  return self->ac != NULL && self->want_write && !self->write_blocked;
}

static gboolean
source_dispatch (GSource    *source,
                 GSourceFunc callback,
                 gpointer    user_data)
{
  GcRedisSource *self = (GcRedisSource *) source;
  GIOCondition revents = 0;

  if (self->fd_tag != NULL)
    revents = g_source_query_unix_fd (source, self->fd_tag);

  /* Read first: replies free room in hiredis's buffers, and an EOF or
   * error shows up here. */
  if (self->ac != NULL && (revents & (G_IO_IN | G_IO_HUP | G_IO_ERR)) != 0)
    {
      if (self->read_func != NULL && (self->ac->c.flags & REDIS_CONNECTED) != 0)
        self->read_func (self->read_data);
      else
        redisAsyncHandleRead (self->ac);
    }

  if (self->ac != NULL && self->want_write &&
      (!self->write_blocked || (revents & (G_IO_OUT | G_IO_HUP | G_IO_ERR)) != 0))
    {
      redisAsyncHandleWrite (self->ac);
      /* Still wanting to write after a write: the socket is full (or still
       * connecting); wait for POLLOUT rather than spin. */
      if (self->ac != NULL && self->want_write)
        {
          self->write_blocked = TRUE;
          update_poll (self);
        }
    }

  return G_SOURCE_CONTINUE;
}

static GSourceFuncs source_funcs = {
  .prepare = source_prepare,
  .dispatch = source_dispatch,
};

GSource *
gc_redis_source_new (redisAsyncContext *ac,
                     GMainContext      *context)
{
  GcRedisSource *self;

  g_return_val_if_fail (ac != NULL && ac->c.fd >= 0, NULL);
  g_return_val_if_fail (ac->ev.data == NULL, NULL);

  self = (GcRedisSource *) g_source_new (&source_funcs, sizeof (GcRedisSource));
  g_source_set_static_name ((GSource *) self, "GcRedisSource");
  /* GLib blocks a source that cannot recurse while it dispatches, which
   * takes its fd out of the poll and puts it back: two writes to the
   * context's eventfd and a spurious wakeup per dispatch, several per
   * batch of messages (issue 13). Dispatch never runs a nested loop. */
  g_source_set_can_recurse ((GSource *) self, TRUE);
  self->ac = ac;
  /* connect() may still be in progress: its end is POLLOUT. */
  self->write_blocked = TRUE;
  self->fd_tag = g_source_add_unix_fd ((GSource *) self, ac->c.fd, 0);

  ac->ev.data = self;
  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->ev.cleanup = cleanup;

  g_source_attach ((GSource *) self, context);
  return (GSource *) self;
}

void
gc_redis_source_set_read_func (GSource               *source,
                               GcRedisSourceReadFunc  func,
                               gpointer               data)
{
  GcRedisSource *self = (GcRedisSource *) source;

  g_return_if_fail (source != NULL);

  self->read_func = func;
  self->read_data = data;
}

gboolean
gc_redis_source_is_closed (GSource *source)
{
  g_return_val_if_fail (source != NULL, TRUE);

  return ((GcRedisSource *) source)->ac == NULL;
}
