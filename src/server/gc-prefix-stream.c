/* gc-prefix-stream.c: a stream that first gives back bytes already read
 *
 * We read a TLS client's request head ourselves before libsoup may parse
 * it (gc-request-head.c); TLS cannot be peeked at, so libsoup gets the
 * TLS connection behind this, which gives those bytes again first.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-prefix-stream.h"

struct _GcPrefixInputStream
{
  GInputStream  parent_instance;

  GInputStream *base;
  GBytes       *prefix;     /* NULL once given */
  gsize         offset;
};

static void gc_prefix_input_stream_pollable_init (GPollableInputStreamInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (GcPrefixInputStream, gc_prefix_input_stream, G_TYPE_INPUT_STREAM,
                               G_IMPLEMENT_INTERFACE (G_TYPE_POLLABLE_INPUT_STREAM,
                                                      gc_prefix_input_stream_pollable_init))

/* Copies what is left of the prefix into @buffer; 0 once it is all given. */
static gsize
take_prefix (GcPrefixInputStream *self,
             void                *buffer,
             gsize                count)
{
  gsize len;
  const guint8 *data;

  if (self->prefix == NULL)
    return 0;

  data = g_bytes_get_data (self->prefix, &len);
  count = MIN (count, len - self->offset);
  memcpy (buffer, data + self->offset, count);
  self->offset += count;
  if (self->offset == len)
    g_clear_pointer (&self->prefix, g_bytes_unref);

  return count;
}

static gssize
gc_prefix_input_stream_read (GInputStream  *stream,
                             void          *buffer,
                             gsize          count,
                             GCancellable  *cancellable,
                             GError       **error)
{
  GcPrefixInputStream *self = GC_PREFIX_INPUT_STREAM (stream);

  if (self->prefix != NULL && count > 0)
    return take_prefix (self, buffer, count);

  return g_input_stream_read (self->base, buffer, count, cancellable, error);
}

static gboolean
gc_prefix_input_stream_close (GInputStream  *stream,
                              GCancellable  *cancellable,
                              GError       **error)
{
  /* The GIOStream closes the base stream. */
  return TRUE;
}

static gboolean
gc_prefix_input_stream_can_poll (GPollableInputStream *stream)
{
  GcPrefixInputStream *self = GC_PREFIX_INPUT_STREAM (stream);

  return G_IS_POLLABLE_INPUT_STREAM (self->base) &&
         g_pollable_input_stream_can_poll (G_POLLABLE_INPUT_STREAM (self->base));
}

static gboolean
gc_prefix_input_stream_is_readable (GPollableInputStream *stream)
{
  GcPrefixInputStream *self = GC_PREFIX_INPUT_STREAM (stream);

  return self->prefix != NULL ||
         g_pollable_input_stream_is_readable (G_POLLABLE_INPUT_STREAM (self->base));
}

static GSource *
gc_prefix_input_stream_create_source (GPollableInputStream *stream,
                                      GCancellable         *cancellable)
{
  GcPrefixInputStream *self = GC_PREFIX_INPUT_STREAM (stream);
  g_autoptr(GSource) base_source = NULL;

  /* Bytes of the prefix are ready at once. */
  if (self->prefix != NULL)
    base_source = g_timeout_source_new (0);
  else
    base_source = g_pollable_input_stream_create_source (G_POLLABLE_INPUT_STREAM (self->base),
                                                         NULL);

  return g_pollable_source_new_full (stream, base_source, cancellable);
}

static gssize
gc_prefix_input_stream_read_nonblocking (GPollableInputStream  *stream,
                                         void                  *buffer,
                                         gsize                  count,
                                         GError               **error)
{
  GcPrefixInputStream *self = GC_PREFIX_INPUT_STREAM (stream);

  if (self->prefix != NULL && count > 0)
    return take_prefix (self, buffer, count);

  return g_pollable_input_stream_read_nonblocking (G_POLLABLE_INPUT_STREAM (self->base),
                                                   buffer, count, NULL, error);
}

static void
gc_prefix_input_stream_pollable_init (GPollableInputStreamInterface *iface)
{
  iface->can_poll = gc_prefix_input_stream_can_poll;
  iface->is_readable = gc_prefix_input_stream_is_readable;
  iface->create_source = gc_prefix_input_stream_create_source;
  iface->read_nonblocking = gc_prefix_input_stream_read_nonblocking;
}

static void
gc_prefix_input_stream_finalize (GObject *object)
{
  GcPrefixInputStream *self = GC_PREFIX_INPUT_STREAM (object);

  g_clear_object (&self->base);
  g_clear_pointer (&self->prefix, g_bytes_unref);

  G_OBJECT_CLASS (gc_prefix_input_stream_parent_class)->finalize (object);
}

static void
gc_prefix_input_stream_class_init (GcPrefixInputStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GInputStreamClass *input_class = G_INPUT_STREAM_CLASS (klass);

  object_class->finalize = gc_prefix_input_stream_finalize;
  input_class->read_fn = gc_prefix_input_stream_read;
  input_class->close_fn = gc_prefix_input_stream_close;
}

static void
gc_prefix_input_stream_init (GcPrefixInputStream *self)
{
}

/* The GIOStream ------------------------------------------------------------- */

struct _GcPrefixIOStream
{
  GIOStream     parent_instance;

  GIOStream    *base;
  GInputStream *input;
};

enum {
  PROP_0,
  PROP_BASE_IO_STREAM,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (GcPrefixIOStream, gc_prefix_io_stream, G_TYPE_IO_STREAM)

static GInputStream *
gc_prefix_io_stream_get_input_stream (GIOStream *stream)
{
  return GC_PREFIX_IO_STREAM (stream)->input;
}

static GOutputStream *
gc_prefix_io_stream_get_output_stream (GIOStream *stream)
{
  return g_io_stream_get_output_stream (GC_PREFIX_IO_STREAM (stream)->base);
}

static gboolean
gc_prefix_io_stream_close (GIOStream     *stream,
                           GCancellable  *cancellable,
                           GError       **error)
{
  return g_io_stream_close (GC_PREFIX_IO_STREAM (stream)->base, cancellable, error);
}

static void
gc_prefix_io_stream_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  GcPrefixIOStream *self = GC_PREFIX_IO_STREAM (object);

  switch (prop_id)
    {
    case PROP_BASE_IO_STREAM:
      g_value_set_object (value, self->base);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gc_prefix_io_stream_finalize (GObject *object)
{
  GcPrefixIOStream *self = GC_PREFIX_IO_STREAM (object);

  g_clear_object (&self->input);
  g_clear_object (&self->base);

  G_OBJECT_CLASS (gc_prefix_io_stream_parent_class)->finalize (object);
}

static void
gc_prefix_io_stream_class_init (GcPrefixIOStreamClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GIOStreamClass *stream_class = G_IO_STREAM_CLASS (klass);

  object_class->get_property = gc_prefix_io_stream_get_property;
  object_class->finalize = gc_prefix_io_stream_finalize;
  stream_class->get_input_stream = gc_prefix_io_stream_get_input_stream;
  stream_class->get_output_stream = gc_prefix_io_stream_get_output_stream;
  stream_class->close_fn = gc_prefix_io_stream_close;

  properties[PROP_BASE_IO_STREAM] =
    g_param_spec_object ("base-io-stream", NULL, NULL, G_TYPE_IO_STREAM,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
gc_prefix_io_stream_init (GcPrefixIOStream *self)
{
}

GIOStream *
gc_prefix_io_stream_new (GIOStream *base,
                         GBytes    *prefix)
{
  GcPrefixIOStream *self;
  GcPrefixInputStream *input;

  g_return_val_if_fail (G_IS_IO_STREAM (base), NULL);

  input = g_object_new (GC_TYPE_PREFIX_INPUT_STREAM, NULL);
  input->base = g_object_ref (g_io_stream_get_input_stream (base));
  input->prefix = prefix != NULL && g_bytes_get_size (prefix) > 0 ? g_bytes_ref (prefix) : NULL;

  self = g_object_new (GC_TYPE_PREFIX_IO_STREAM, NULL);
  self->base = g_object_ref (base);
  self->input = G_INPUT_STREAM (input);

  return G_IO_STREAM (self);
}
