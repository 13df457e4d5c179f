/* gc-ws-poller.c: one main-loop source for many WebSocket connections
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-ws-poller-backend.h"

/* The back end this build polls with (see gc-ws-poller-backend.h). */
#ifdef HAVE_EPOLL
#define NATIVE_BACKEND (&gc_ws_poller_backend_epoll)
#else
#define NATIVE_BACKEND (&gc_ws_poller_backend_portable)
#endif

/* Timers are coarse: the connections are walked at most once per tick,
 * which bounds the cost of many staggered keepalive deadlines. */
#define TICK_US (250 * G_TIME_SPAN_MILLISECOND)

struct _GcWsPoller
{
  GObject       parent_instance;

  GMainContext *context;      /* borrowed, like a GSource's; NULL once gone */
  GSource      *source;       /* owned by the context; NULL once gone */
  gboolean      is_default;   /* owned by default_pollers */

  GQueue        connections;  /* of GcWsPollerEntry */
  GQueue        pending;
  GQueue        flush;

  guint8       *read_buffer;
  gboolean      read_buffer_busy;
  gboolean      dispatching;
  gint64        now;
  gint64        last_tick;
  guint64       write_calls;

  const GcWsPollerBackend *backend;
  gpointer      backend_state;
};

typedef struct {
  GSource     source;
  GcWsPoller *poller;         /* borrowed; NULL once the poller is gone */
} GcWsPollerSource;

G_DEFINE_FINAL_TYPE (GcWsPoller, gc_ws_poller, G_TYPE_OBJECT)

/* Thread-default context → its poller (strong ref, dropped when the
 * context is finalized and destroys the poller's source). */
static GMutex default_pollers_lock;
static GHashTable *default_pollers;

static gboolean
poller_has_work (GcWsPoller *self)
{
  return self->pending.length > 0 || self->flush.length > 0;
}

static gboolean
poller_source_prepare (GSource *source,
                       int     *timeout)
{
  GcWsPoller *self = ((GcWsPollerSource *) source)->poller;

  *timeout = -1;
  return self != NULL && poller_has_work (self);
}

static gboolean
poller_source_check (GSource *source)
{
  GcWsPoller *self = ((GcWsPollerSource *) source)->poller;

  if (self == NULL)
    return FALSE;
  if (poller_has_work (self))
    return TRUE;
  return self->backend->check != NULL && self->backend->check (self->backend_state, source);
}

static void
poller_tick (GcWsPoller *self)
{
  g_autoptr(GPtrArray) due = NULL;
  gint64 next = G_MAXINT64;

  self->last_tick = self->now;
  g_source_set_ready_time (self->source, -1);

  /* Collect first, act second: acting emits signals whose handlers may
   * close or drop any connection, which would break the walk. */
  for (GList *l = self->connections.head; l != NULL; l = l->next)
    {
      GcWsPollerEntry *entry = l->data;
      gint64 deadline = gc_ws_connection_get_deadline (entry->connection);

      if (deadline <= self->now)
        {
          if (due == NULL)
            due = g_ptr_array_new_with_free_func (g_object_unref);
          g_ptr_array_add (due, g_object_ref (entry->connection));
        }
      else
        {
          next = MIN (next, deadline);
        }
    }

  for (guint i = 0; due != NULL && i < due->len; i++)
    {
      GcWsConnection *connection = g_ptr_array_index (due, i);
      gint64 deadline;

      gc_ws_connection_handle_timers (connection, self->now);
      deadline = gc_ws_connection_get_deadline (connection);
      next = MIN (next, deadline);
    }

  if (next != G_MAXINT64)
    gc_ws_poller_schedule (self, next);
}

static void
poller_dispatch_pending (GcWsPoller *self)
{
  /* Only those pending now: a connection that stays pending waits for
   * the next iteration, so that the others get their turn. */
  guint n = self->pending.length;

  while (n-- > 0 && self->pending.head != NULL)
    {
      GcWsPollerEntry *entry = self->pending.head->data;
      GcWsConnection *connection = g_object_ref (entry->connection);

      g_queue_unlink (&self->pending, &entry->pending_link);
      entry->pending = FALSE;
      gc_ws_connection_handle_readable (connection);
      g_object_unref (connection);
    }
}

static void
poller_dispatch_flush (GcWsPoller *self)
{
  while (self->flush.head != NULL)
    {
      GcWsPollerEntry *entry = self->flush.head->data;
      GcWsConnection *connection = g_object_ref (entry->connection);

      g_queue_unlink (&self->flush, &entry->flush_link);
      entry->flushing = FALSE;
      gc_ws_connection_handle_writable (connection);
      g_object_unref (connection);
    }
}

static gboolean
poller_source_dispatch (GSource     *source,
                        GSourceFunc  callback,
                        gpointer     user_data)
{
  GcWsPoller *self = ((GcWsPollerSource *) source)->poller;
  gint64 ready_time;

  if (self == NULL)
    return G_SOURCE_REMOVE;

  /* Handlers may drop the last reference to the poller. */
  g_object_ref (self);
  self->dispatching = TRUE;
  self->now = g_source_get_time (source);

  /* Read first, then judge idleness: after a stall longer than a
   * connection's idle timeout, what its peer sent meanwhile is waiting
   * (issue 14.6). */
  ready_time = g_source_get_ready_time (source);
  if (self->backend->dispatch != NULL)
    self->backend->dispatch (self->backend_state);
  poller_dispatch_pending (self);
  if (ready_time != -1 && ready_time <= self->now)
    poller_tick (self);
  /* Last, so that everything the handlers above queued goes out in one
   * writev per connection. */
  poller_dispatch_flush (self);

  self->dispatching = FALSE;
  g_object_unref (self);

  return G_SOURCE_CONTINUE;
}

/* Runs when the context lets go of the source: either the poller
 * destroyed it, or the context itself is being finalized. */
static void
poller_source_finalize (GSource *source)
{
  GcWsPoller *self = ((GcWsPollerSource *) source)->poller;

  if (self == NULL)
    return;

  self->source = NULL;
  if (self->is_default)
    {
      g_mutex_lock (&default_pollers_lock);
      g_hash_table_remove (default_pollers, self->context);
      g_mutex_unlock (&default_pollers_lock);
      self->is_default = FALSE;
      self->context = NULL;
      g_object_unref (self);
      return;
    }
  self->context = NULL;
}

static GSourceFuncs poller_source_funcs = {
  .prepare = poller_source_prepare,
  .check = poller_source_check,
  .dispatch = poller_source_dispatch,
  .finalize = poller_source_finalize,
};

static void
gc_ws_poller_finalize (GObject *object)
{
  GcWsPoller *self = GC_WS_POLLER (object);

  g_warn_if_fail (self->connections.length == 0);

  if (self->source != NULL)
    {
      GSource *source = self->source;

      ((GcWsPollerSource *) source)->poller = NULL;
      self->source = NULL;
      g_source_destroy (source);
    }

  if (self->backend_state != NULL)
    self->backend->close (self->backend_state);
  g_free (self->read_buffer);

  G_OBJECT_CLASS (gc_ws_poller_parent_class)->finalize (object);
}

static void
gc_ws_poller_class_init (GcWsPollerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = gc_ws_poller_finalize;
}

static void
gc_ws_poller_init (GcWsPoller *self)
{
}

static GcWsPoller *
poller_new (GMainContext            *context,
            const GcWsPollerBackend *backend)
{
  GcWsPoller *self = g_object_new (GC_TYPE_WS_POLLER, NULL);
  GSource *source;

  if (context == NULL)
    context = g_main_context_default ();
  self->context = context;

  source = g_source_new (&poller_source_funcs, sizeof (GcWsPollerSource));
  ((GcWsPollerSource *) source)->poller = self;
  g_source_set_name (source, "GcWsPoller");

  if (backend->open != NULL)
    {
      self->backend_state = backend->open (source);
      if (self->backend_state == NULL)
        backend = &gc_ws_poller_backend_portable;
    }
  self->backend = backend;

  g_source_attach (source, context);
  self->source = source;
  g_source_unref (source);

  return self;
}

/**
 * gc_ws_poller_new:
 * @context: (nullable): the context to attach to
 *
 * Returns: (transfer full): a new poller
 */
GcWsPoller *
gc_ws_poller_new (GMainContext *context)
{
  return poller_new (context, NATIVE_BACKEND);
}

GcWsPoller *
gc_ws_poller_new_portable (GMainContext *context)
{
  return poller_new (context, &gc_ws_poller_backend_portable);
}

GcWsPoller *
gc_ws_poller_get_default (void)
{
  g_autoptr(GMainContext) context = g_main_context_ref_thread_default ();
  GcWsPoller *poller;

  g_mutex_lock (&default_pollers_lock);
  if (default_pollers == NULL)
    default_pollers = g_hash_table_new (NULL, NULL);
  poller = g_hash_table_lookup (default_pollers, context);
  if (poller == NULL)
    {
      poller = poller_new (context, NATIVE_BACKEND);
      poller->is_default = TRUE;
      g_hash_table_insert (default_pollers, context, poller);
    }
  g_mutex_unlock (&default_pollers_lock);

  return poller;
}

GMainContext *
gc_ws_poller_get_context (GcWsPoller *self)
{
  g_return_val_if_fail (GC_IS_WS_POLLER (self), NULL);

  return self->context;
}

guint
gc_ws_poller_get_n_connections (GcWsPoller *self)
{
  g_return_val_if_fail (GC_IS_WS_POLLER (self), 0);

  return self->connections.length;
}

gboolean
gc_ws_poller_uses_epoll (GcWsPoller *self)
{
  g_return_val_if_fail (GC_IS_WS_POLLER (self), FALSE);

  return self->backend != &gc_ws_poller_backend_portable;
}

guint64
gc_ws_poller_get_write_calls (GcWsPoller *self)
{
  g_return_val_if_fail (GC_IS_WS_POLLER (self), 0);

  return self->write_calls;
}

void
gc_ws_poller_count_write_call (GcWsPoller *self)
{
  self->write_calls++;
}

gint64
gc_ws_poller_get_time (GcWsPoller *self)
{
  return self->dispatching ? self->now : g_get_monotonic_time ();
}

guint8 *
gc_ws_poller_acquire_read_buffer (GcWsPoller *self)
{
  if (self->read_buffer_busy)
    return NULL;
  if (self->read_buffer == NULL)
    self->read_buffer = g_malloc (GC_WS_POLLER_READ_BUDGET);
  self->read_buffer_busy = TRUE;
  return self->read_buffer;
}

void
gc_ws_poller_release_read_buffer (GcWsPoller *self)
{
  self->read_buffer_busy = FALSE;
}

/* The back end watching @entry: the poller's, unless that one declined
 * it and the portable one took it (which gives every entry a source). */
static const GcWsPollerBackend *
entry_backend (GcWsPoller      *self,
               GcWsPollerEntry *entry)
{
  return entry->in_source != NULL ? &gc_ws_poller_backend_portable : self->backend;
}

static gpointer
entry_backend_state (GcWsPoller      *self,
                     GcWsPollerEntry *entry)
{
  return entry_backend (self, entry) == self->backend ? self->backend_state : NULL;
}

void
gc_ws_poller_add (GcWsPoller           *self,
                  GcWsPollerEntry      *entry,
                  GcWsConnection       *connection,
                  GSocket              *socket,
                  GPollableInputStream *input,
                  gboolean              pending)
{
  g_return_if_fail (!entry->registered);

  entry->connection = connection;
  entry->all_link.data = entry;
  entry->pending_link.data = entry;
  entry->flush_link.data = entry;
  entry->fd = -1;
  entry->registered = TRUE;
  g_queue_push_tail_link (&self->connections, &entry->all_link);

  /* What the poller's back end cannot watch, the portable one can. */
  if (!self->backend->add (self->backend_state, self, entry, socket, input))
    gc_ws_poller_backend_portable.add (NULL, self, entry, socket, input);

  if (pending)
    gc_ws_poller_set_pending (self, entry);
}

void
gc_ws_poller_remove (GcWsPoller      *self,
                     GcWsPollerEntry *entry)
{
  const GcWsPollerBackend *backend;

  if (!entry->registered)
    return;

  entry->registered = FALSE;
  g_queue_unlink (&self->connections, &entry->all_link);
  if (entry->pending)
    g_queue_unlink (&self->pending, &entry->pending_link);
  if (entry->flushing)
    g_queue_unlink (&self->flush, &entry->flush_link);
  entry->pending = FALSE;
  entry->flushing = FALSE;
  entry->want_write = FALSE;

  backend = entry_backend (self, entry);
  backend->remove (entry_backend_state (self, entry), entry);
}

void
gc_ws_poller_set_pending (GcWsPoller      *self,
                          GcWsPollerEntry *entry)
{
  if (!entry->registered || entry->pending)
    return;

  entry->pending = TRUE;
  g_queue_push_tail_link (&self->pending, &entry->pending_link);
}

void
gc_ws_poller_queue_flush (GcWsPoller      *self,
                          GcWsPollerEntry *entry)
{
  /* A blocked connection is flushed when it polls writable. */
  if (!entry->registered || entry->flushing || entry->want_write)
    return;

  entry->flushing = TRUE;
  g_queue_push_tail_link (&self->flush, &entry->flush_link);
}

void
gc_ws_poller_set_want_write (GcWsPoller            *self,
                             GcWsPollerEntry       *entry,
                             GPollableOutputStream *output,
                             gboolean               want_write)
{
  const GcWsPollerBackend *backend;

  if (!entry->registered || entry->want_write == !!want_write)
    return;

  entry->want_write = !!want_write;
  backend = entry_backend (self, entry);
  backend->update_write (entry_backend_state (self, entry), self, entry, output);
}

void
gc_ws_poller_schedule (GcWsPoller *self,
                       gint64      deadline)
{
  gint64 when;
  gint64 ready_time;

  if (self->source == NULL || deadline == G_MAXINT64)
    return;

  when = MAX (deadline, self->last_tick + TICK_US);
  ready_time = g_source_get_ready_time (self->source);
  if (ready_time == -1 || when < ready_time)
    g_source_set_ready_time (self->source, when);
}
