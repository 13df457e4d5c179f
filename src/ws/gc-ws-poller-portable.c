/* gc-ws-poller-portable.c: a pollable GSource per connection
 *
 * What every platform has: GLib polls each connection's stream itself.
 * Each wake-up then costs O(all connections), which is why Linux builds
 * use gc-ws-poller-epoll.c instead; here this back end also watches what
 * epoll cannot (a stream without a socket fd).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-ws-poller-backend.h"

static gboolean
entry_readable_cb (GObject  *stream,
                   gpointer  user_data)
{
  GcWsPollerEntry *entry = user_data;
  g_autoptr(GcWsConnection) connection = g_object_ref (entry->connection);

  gc_ws_connection_handle_readable (connection);
  return G_SOURCE_CONTINUE;
}

static gboolean
entry_writable_cb (GObject  *stream,
                   gpointer  user_data)
{
  GcWsPollerEntry *entry = user_data;
  g_autoptr(GcWsConnection) connection = g_object_ref (entry->connection);

  gc_ws_connection_handle_writable (connection);
  return G_SOURCE_CONTINUE;
}

static GSource *
entry_attach_source (GcWsPoller          *poller,
                     GSource             *source,
                     GcWsPollerEntry     *entry,
                     GPollableSourceFunc  func)
{
  GMainContext *context = gc_ws_poller_get_context (poller);

  g_source_set_callback (source, G_SOURCE_FUNC (func), entry, NULL);
  g_source_set_static_name (source, "GcWsConnection");
  if (context != NULL)
    g_source_attach (source, context);
  return source;
}

static void
destroy_source (GSource **source)
{
  if (*source != NULL)
    {
      g_source_destroy (*source);
      g_clear_pointer (source, g_source_unref);
    }
}

static gboolean
portable_add (gpointer              state,
              GcWsPoller           *poller,
              GcWsPollerEntry      *entry,
              GSocket              *socket,
              GPollableInputStream *input)
{
  entry->in_source = entry_attach_source (poller,
                                          g_pollable_input_stream_create_source (input, NULL),
                                          entry, entry_readable_cb);
  return TRUE;
}

static void
portable_remove (gpointer         state,
                 GcWsPollerEntry *entry)
{
  destroy_source (&entry->in_source);
  destroy_source (&entry->out_source);
}

static void
portable_update_write (gpointer               state,
                       GcWsPoller            *poller,
                       GcWsPollerEntry       *entry,
                       GPollableOutputStream *output)
{
  if (entry->want_write && entry->out_source == NULL)
    entry->out_source = entry_attach_source (poller,
                                             g_pollable_output_stream_create_source (output, NULL),
                                             entry, entry_writable_cb);
  else if (!entry->want_write)
    destroy_source (&entry->out_source);
}

const GcWsPollerBackend gc_ws_poller_backend_portable = {
  .add = portable_add,
  .remove = portable_remove,
  .update_write = portable_update_write,
};

