/* gc-ws-utf8.h: UTF-8 validation as RFC 6455 wants it
 *
 * Text messages and close reasons must be valid UTF-8 (RFC 6455 §5.6,
 * §8.1): no overlong forms, surrogates or code points past U+10FFFF, and
 * U+0000 allowed, unlike g_utf8_validate(). The frame parser validates
 * text incrementally as it arrives, so that a bad message fails on the
 * first byte that rules it out (Autobahn 6.4.x); senders check a whole
 * message at once.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Incremental UTF-8 validation (fails on the first byte that cannot start
 * or continue a valid sequence). Zero-initialise, feed, then check
 * gc_ws_utf8_state_is_complete() at the end of the message. */
typedef struct {
  guint32 state;
} GcWsUtf8State;

gboolean    gc_ws_utf8_validate_chunk   (GcWsUtf8State  *state,
                                         const guint8   *data,
                                         gsize           len);
gboolean    gc_ws_utf8_state_is_complete (const GcWsUtf8State *state);
/* The same check on a whole message: what RFC 6455 calls valid UTF-8,
 * U+0000 included (g_utf8_validate() refuses it). */
gboolean    gc_ws_utf8_validate         (const guint8   *data,
                                         gsize           len);

G_END_DECLS
