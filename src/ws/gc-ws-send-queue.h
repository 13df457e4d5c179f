/* gc-ws-send-queue.h: a connection's encoded frames waiting for the socket
 *
 * A ring of GBytes whose head may be partly written. Writing gathers up
 * to 64 frames into one writev, so that what one main-loop dispatch
 * queued leaves in as few system calls as possible. Embedded in
 * GcWsConnection (zero-initialised); no locking, one thread.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct {
  GBytes **frames;    /* the ring; NULL while empty and small */
  guint    head;
  guint    length;    /* frames queued */
  guint    capacity;  /* 0 or a power of two */
  gsize    offset;    /* bytes of the head already written */
  gsize    bytes;     /* bytes still to write */
} GcWsSendQueue;

/* Appends @frame (transfer full). */
void            gc_ws_send_queue_push  (GcWsSendQueue          *queue,
                                        GBytes                 *frame);
/* One non-blocking writev of the frames at the head; drops what was
 * written. Writing nothing counts as G_POLLABLE_RETURN_WOULD_BLOCK. */
GPollableReturn gc_ws_send_queue_write (GcWsSendQueue          *queue,
                                        GPollableOutputStream  *output,
                                        GError                **error);
/* Drops everything queued and the ring. */
void            gc_ws_send_queue_clear (GcWsSendQueue          *queue);

G_END_DECLS
