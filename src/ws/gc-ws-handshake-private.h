/* gc-ws-handshake-private.h: handshake internals shared with the tests
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gc-ws-handshake.h"

G_BEGIN_DECLS

/* How long a client handshake may wait on the network (connect, TLS, each
 * read or write) before failing with G_IO_ERROR_TIMED_OUT. */
#define GC_WS_HANDSHAKE_DEFAULT_TIMEOUT_S 30

/* The largest response header block a client accepts, and how much of a
 * refusal body it keeps. */
#define GC_WS_HANDSHAKE_MAX_HEADER_SIZE (16 * 1024)
#define GC_WS_HANDSHAKE_MAX_BODY_SIZE   (64 * 1024)

/* How long a refusal with a delimited body (Content-Length, chunked) may
 * take to deliver it once its headers are in; a body that runs until the
 * server closes is not waited for at all. */
#define GC_WS_HANDSHAKE_BODY_TIMEOUT_MS 2000

/* Changes the timeout for handshakes started afterwards in this process, so
 * that a test can watch it expire without waiting 30 s. */
void gc_ws_handshake_set_timeout (guint timeout_s);

/* Sec-WebSocket-Accept for @key (RFC 6455 §4.2.2). */
char *gc_ws_handshake_compute_accept (const char *key);

G_END_DECLS
