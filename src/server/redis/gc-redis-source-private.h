/* gc-redis-source-private.h: a GSource driving one redisAsyncContext
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>
#include <hiredis/async.h>

G_BEGIN_DECLS

/* Attaches @ac to a new source in @context and returns it (the caller owns
 * the reference and destroys it when the context is gone). Unlike
 * hiredis's adapters/glib.h, dispatch never touches a context that hiredis
 * freed during it (a write error frees it, and the adapter then reads from
 * it), and writes are coalesced: every command queued in one main-loop
 * iteration leaves in one write. */
GSource  *gc_redis_source_new       (redisAsyncContext *ac,
                                     GMainContext      *context);

/* Reads the connected context's socket instead of redisAsyncHandleRead()
 * (which still reads until it is connected, and so sees it fail). The
 * function must drop the connection itself on EOF or an error. */
typedef void (*GcRedisSourceReadFunc) (gpointer data);
void      gc_redis_source_set_read_func (GSource               *source,
                                         GcRedisSourceReadFunc  func,
                                         gpointer               data);

/* TRUE once hiredis has freed the context (its cleanup hook ran). */
gboolean  gc_redis_source_is_closed (GSource *source);

G_END_DECLS
