/* gc-protocol-private.h: helpers shared by the files of the protocol module
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

/* Field presence for the readers of parsed JSON. */
typedef enum {
  FIELD_REQUIRED,
  FIELD_OPTIONAL,
} FieldPresence;

/* Whether @node is a value of @value_type (G_TYPE_STRING, …). */
gboolean    gc_protocol_node_holds       (JsonNode    *node,
                                          GType        value_type);

/* Sets a %GC_PROTOCOL_ERROR_BAD_REQUEST: field @name must be @type.
 * Returns %FALSE. */
gboolean    gc_protocol_wrong_type       (const char  *name,
                                          const char  *type,
                                          GError     **error);

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
