/* gc-protocol-join.c: the /joinRoom path and query, built by clients and read by the server
 *
 * docs/protocol.md §3.1–§3.5.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-protocol-private.h"

char *
gc_join_build_path (const char *base_path)
{
  gsize base_len;

  if (base_path == NULL)
    base_path = "";

  /* The server may live under a path (behind a proxy): keep it, without
   * its trailing slashes. */
  base_len = strlen (base_path);
  while (base_len > 0 && base_path[base_len - 1] == '/')
    base_len--;

  return g_strdup_printf ("%.*s%s", (int) base_len, base_path, GC_PROTOCOL_JOIN_PATH);
}

/* `&key=value` (no `&` first), @value percent-encoded but for RFC 3986's
 * unreserved characters. */
static void
append_parameter (GString    *out,
                  const char *key,
                  const char *value)
{
  if (out->len > 0)
    g_string_append_c (out, '&');
  g_string_append (out, key);
  g_string_append_c (out, '=');
  g_string_append_uri_escaped (out, value, NULL, FALSE);
}

char *
gc_join_build_query (const GcJoinParams *params)
{
  GString *out;

  g_return_val_if_fail (params != NULL, NULL);
  g_return_val_if_fail (params->room_code != NULL, NULL);
  g_return_val_if_fail (params->user_name != NULL, NULL);

  out = g_string_sized_new (64);
  append_parameter (out, "room_code", params->room_code);
  append_parameter (out, "user_name", params->user_name);
  if (params->session_id != NULL)
    append_parameter (out, "session_id", params->session_id);
  if (params->has_since)
    g_string_append_printf (out, "&since=%" G_GUINT64_FORMAT, params->since);

  return g_string_free (out, FALSE);
}

char *
gc_join_build_target (const char         *base_path,
                      const GcJoinParams *params)
{
  g_autofree char *path = NULL;
  g_autofree char *query = NULL;

  g_return_val_if_fail (params != NULL, NULL);

  path = gc_join_build_path (base_path);
  query = gc_join_build_query (params);

  return g_strconcat (path, "?", query, NULL);
}

gboolean
gc_join_is_path (const char *path)
{
  return path != NULL && strcmp (path, GC_PROTOCOL_JOIN_PATH) == 0;
}

/* Form-decodes (§3.2) [@start, @end): `+` is a space, `%XX` a byte. %NULL
 * for a malformed escape or an encoded NUL. */
static char *
form_decode (const char *start,
             const char *end)
{
  g_autofree char *spaced = g_strndup (start, end - start);

  g_strdelimit (spaced, "+", ' ');

  return g_uri_unescape_segment (spaced, NULL, NULL);
}

/* Whether the raw key [@start, @end) decodes to @key. Keys are plain
 * words: decoding one only when it holds an escape or a `+` saves two
 * allocations per key. */
static gboolean
key_matches (const char *start,
             const char *end,
             const char *key)
{
  gsize len = end - start;
  g_autofree char *decoded = NULL;

  if (memchr (start, '%', len) == NULL && memchr (start, '+', len) == NULL)
    return len == strlen (key) && memcmp (start, key, len) == 0;

  decoded = form_decode (start, end);
  return decoded != NULL && strcmp (decoded, key) == 0;
}

/* A parameter as found in the raw query. */
typedef struct {
  guint       count;
  const char *value;   /* after `=`; %NULL for a key without one */
  const char *end;
} RawParameter;

/* One walk over @query records where each of @keys is. */
static void
query_scan (const char         *query,
            const char * const *keys,
            RawParameter       *found,
            guint               n_keys)
{
  const char *pair = query;

  memset (found, 0, n_keys * sizeof *found);

  while (pair != NULL && *pair != '\0')
    {
      const char *pair_end = strchr (pair, '&');
      const char *equals;

      if (pair_end == NULL)
        pair_end = pair + strlen (pair);
      equals = memchr (pair, '=', pair_end - pair);

      for (guint i = 0; i < n_keys; i++)
        {
          if (key_matches (pair, equals != NULL ? equals : pair_end, keys[i]))
            {
              found[i].count++;
              found[i].value = equals != NULL ? equals + 1 : NULL;
              found[i].end = pair_end;
              break;
            }
        }

      pair = *pair_end == '&' ? pair_end + 1 : NULL;
    }
}

/* The decoded value of a parameter query_scan() found (§3.2): a @code
 * error if it was given twice or does not decode; %NULL without error if
 * it is absent; "" for a key without `=`. */
static gboolean
raw_parameter_decode (const RawParameter  *found,
                      const char          *key,
                      GcProtocolError      code,
                      char               **out_value,
                      GError             **error)
{
  *out_value = NULL;

  if (found->count == 0)
    return TRUE;

  if (found->count > 1)
    {
      g_set_error (error, GC_PROTOCOL_ERROR, code, "%s is given more than once", key);
      return FALSE;
    }

  *out_value = found->value != NULL ? form_decode (found->value, found->end) : g_strdup ("");
  if (*out_value == NULL)
    {
      g_set_error (error, GC_PROTOCOL_ERROR, code,
                   "%s holds an encoded NUL (%%00) or a malformed escape", key);
      return FALSE;
    }

  return TRUE;
}

/* We decode the query ourselves because soup_form_decode() cuts a value
 * at an encoded NUL ("bob%00evil" would join as "bob"), silently drops
 * pairs it cannot decode and lets a repeated key override the first. */
gboolean
gc_join_query_lookup (const char       *query,
                      const char       *key,
                      GcProtocolError   code,
                      char            **out_value,
                      GError          **error)
{
  RawParameter found;

  g_return_val_if_fail (key != NULL, FALSE);
  g_return_val_if_fail (out_value != NULL, FALSE);

  query_scan (query, &key, &found, 1);

  return raw_parameter_decode (&found, key, code, out_value, error);
}

enum {
  PARAMETER_ROOM_CODE,
  PARAMETER_USER_NAME,
  PARAMETER_SINCE,
  PARAMETER_SESSION_ID,
  N_PARAMETERS
};

static const char * const parameter_keys[N_PARAMETERS] = {
  "room_code", "user_name", "since", "session_id",
};

gboolean
gc_join_query_parse (const char   *query,
                     GcJoinQuery  *out,
                     GError      **error)
{
  RawParameter found[N_PARAMETERS];
  g_autofree char *raw_code = NULL;
  g_autofree char *raw_name = NULL;
  g_autofree char *since = NULL;

  g_return_val_if_fail (out != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  memset (out, 0, sizeof *out);

  /* One walk over the query, then each parameter in the order of §3.7. */
  query_scan (query, parameter_keys, found, N_PARAMETERS);

  if (!raw_parameter_decode (&found[PARAMETER_ROOM_CODE], "room_code",
                             GC_PROTOCOL_ERROR_INVALID_ROOM_CODE, &raw_code, error) ||
      (out->room_code = gc_protocol_canonical_room_code (raw_code, error)) == NULL)
    return FALSE;

  if (!raw_parameter_decode (&found[PARAMETER_USER_NAME], "user_name",
                             GC_PROTOCOL_ERROR_INVALID_USER_NAME, &raw_name, error) ||
      (out->user_name = gc_protocol_normalize_user_name (raw_name, error)) == NULL)
    return FALSE;

  if (!raw_parameter_decode (&found[PARAMETER_SINCE], "since",
                             GC_PROTOCOL_ERROR_BAD_REQUEST, &since, error))
    return FALSE;
  if (since != NULL)
    {
      if (!gc_protocol_parse_since (since, &out->since, error))
        return FALSE;
      out->has_since = TRUE;
    }

  return raw_parameter_decode (&found[PARAMETER_SESSION_ID], "session_id",
                               GC_PROTOCOL_ERROR_BAD_REQUEST, &out->session_id, error);
}

void
gc_join_query_clear (GcJoinQuery *query)
{
  if (query == NULL)
    return;

  g_clear_pointer (&query->room_code, g_free);
  g_clear_pointer (&query->user_name, g_free);
  g_clear_pointer (&query->session_id, g_free);
  query->has_since = FALSE;
  query->since = 0;
}

/* Refusals (§3.6) */

void
gc_refusal_free (GcRefusal *refusal)
{
  if (refusal == NULL)
    return;

  g_free (refusal->code);
  g_free (refusal->message);
  g_free (refusal->suggestion);
  g_free (refusal);
}

/* The string member @name of @object, or %NULL if it is absent or not a
 * string: a refusal's members only inform, so one of the wrong type is
 * as good as none. */
static const char *
optional_string (JsonObject *object,
                 const char *name)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return NULL;

  return json_node_get_string (node);
}

GcRefusal *
gc_refusal_parse (const char  *json,
                  gsize        len,
                  GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GcRefusal) refusal = NULL;
  JsonObject *object;
  JsonNode *retry;

  g_return_val_if_fail (json != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  parser = gc_protocol_load_object (json, len, "refusal", &object, error);
  if (parser == NULL)
    return NULL;

  refusal = g_new0 (GcRefusal, 1);
  refusal->code = g_strdup (optional_string (object, "error"));
  if (!gc_protocol_error_from_string (refusal->code, &refusal->error))
    refusal->error = GC_PROTOCOL_ERROR_FAILED;
  refusal->message = g_strdup (optional_string (object, "message"));
  refusal->suggestion = g_strdup (optional_string (object, "suggestion"));

  retry = json_object_get_member (object, "retry_after_ms");
  if (retry != NULL && JSON_NODE_HOLDS_VALUE (retry) &&
      json_node_get_value_type (retry) == G_TYPE_INT64 && json_node_get_int (retry) > 0)
    refusal->retry_after_ms = (guint64) json_node_get_int (retry);

  return g_steal_pointer (&refusal);
}
