/* gc-ws-send-queue.c: a connection's encoded frames waiting for the socket
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-ws-send-queue.h"

/* Frames handed to one writev call. */
#define MAX_VECTORS 64
/* A ring larger than this is freed once it drains, so that a burst does
 * not leave an idle connection holding a big array. */
#define IDLE_CAPACITY 16

static GBytes *
frame_at (GcWsSendQueue *queue,
          guint          i)
{
  return queue->frames[(queue->head + i) & (queue->capacity - 1)];
}

void
gc_ws_send_queue_push (GcWsSendQueue *queue,
                       GBytes        *frame)
{
  if (queue->length == queue->capacity)
    {
      guint capacity = MAX (8, queue->capacity * 2);
      GBytes **ring = g_new (GBytes *, capacity);

      for (guint i = 0; i < queue->length; i++)
        ring[i] = frame_at (queue, i);
      g_free (queue->frames);
      queue->frames = ring;
      queue->head = 0;
      queue->capacity = capacity;
    }

  queue->frames[(queue->head + queue->length) & (queue->capacity - 1)] = frame;
  queue->length++;
  queue->bytes += g_bytes_get_size (frame);
}

static void
release_idle (GcWsSendQueue *queue)
{
  if (queue->length == 0 && queue->capacity > IDLE_CAPACITY)
    {
      g_clear_pointer (&queue->frames, g_free);
      queue->capacity = 0;
      queue->head = 0;
    }
}

static void
consume (GcWsSendQueue *queue,
         gsize          written)
{
  queue->bytes -= written;
  while (written > 0)
    {
      GBytes *head = queue->frames[queue->head];
      gsize remaining = g_bytes_get_size (head) - queue->offset;

      if (written < remaining)
        {
          queue->offset += written;
          return;
        }

      written -= remaining;
      g_bytes_unref (head);
      queue->frames[queue->head] = NULL;
      queue->head = (queue->head + 1) & (queue->capacity - 1);
      queue->length--;
      queue->offset = 0;
    }
  release_idle (queue);
}

GPollableReturn
gc_ws_send_queue_write (GcWsSendQueue          *queue,
                        GPollableOutputStream  *output,
                        GError                **error)
{
  GOutputVector vectors[MAX_VECTORS];
  guint n_vectors = MIN (queue->length, MAX_VECTORS);
  GPollableReturn result;
  gsize written = 0;

  g_return_val_if_fail (queue->length > 0, G_POLLABLE_RETURN_OK);

  for (guint i = 0; i < n_vectors; i++)
    {
      gsize size;
      const guint8 *data = g_bytes_get_data (frame_at (queue, i), &size);

      if (i == 0)
        {
          data += queue->offset;
          size -= queue->offset;
        }
      vectors[i].buffer = data;
      vectors[i].size = size;
    }

  result = g_pollable_output_stream_writev_nonblocking (output, vectors, n_vectors,
                                                        &written, NULL, error);
  /* (Nothing written is as good as would-block, not a reason to spin.) */
  if (result == G_POLLABLE_RETURN_OK && written == 0)
    return G_POLLABLE_RETURN_WOULD_BLOCK;
  if (result == G_POLLABLE_RETURN_OK)
    consume (queue, written);
  return result;
}

void
gc_ws_send_queue_clear (GcWsSendQueue *queue)
{
  for (guint i = 0; i < queue->length; i++)
    g_bytes_unref (frame_at (queue, i));
  g_clear_pointer (&queue->frames, g_free);
  queue->head = 0;
  queue->length = 0;
  queue->capacity = 0;
  queue->offset = 0;
  queue->bytes = 0;
}
