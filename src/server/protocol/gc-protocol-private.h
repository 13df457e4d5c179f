/* gc-protocol-private.h: helpers shared by the gc-protocol*.c files
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <json-glib/json-glib.h>

#include "gc-protocol.h"

G_BEGIN_DECLS

/* Whether @c has the Unicode White_Space property. */
gboolean    gc_protocol_is_white_space   (gunichar     c);

/* Whether valid UTF-8 @text holds a character that is not White_Space. */
gboolean    gc_protocol_has_non_space    (const char  *text);

/* Parses @json (not necessarily NUL-terminated) into a root object, after
 * checking what json-glib cannot be trusted with (see gc_request_parse()).
 * Every failure is %GC_PROTOCOL_ERROR_BAD_REQUEST. @what names the
 * document in messages ("request", "event"). */
JsonParser *gc_protocol_load_object      (const char   *json,
                                          gsize         len,
                                          const char   *what,
                                          JsonObject  **out_object,
                                          GError      **error);

/* gc_request_parse() without its fast path for flat requests: json-glib
 * reads every request. For the tests that check that both agree. */
GcRequest  *gc_request_parse_with_json_glib (const char  *json,
                                             gsize        len,
                                             gsize        max_text_bytes,
                                             char       **out_ref,
                                             GError     **error);

G_END_DECLS
