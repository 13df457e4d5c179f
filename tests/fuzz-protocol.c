/* fuzz-protocol.c: libFuzzer target for the protocol module's parsers, validators and writers
 *
 * Each input is tried as a request, as an event, as a user name, room
 * code and `since` value, and as a string to escape. Beyond "no crash,
 * no leak", it checks properties: a parsed request or event written back
 * by our builders parses to the same thing; a valid name stays valid and
 * unchanged when normalized again, as do its suggestions; escaping always
 * gives JSON that json-glib reads back as the input.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <stdint.h>
#include <string.h>

#include <json-glib/json-glib.h>

#include "gc-json-scan.h"
#include "gc-protocol.h"
#include "gc-protocol-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data,
                            size_t         size);

#define MAX_TEXT_BYTES 64

static gboolean
users_equal (const GcUser *a,
             const GcUser *b)
{
  return g_strcmp0 (a->id, b->id) == 0 && g_strcmp0 (a->name, b->name) == 0;
}

static gboolean
messages_equal (const GcMessage *a,
                const GcMessage *b)
{
  return a->id == b->id && a->ts == b->ts && users_equal (a->from, b->from) &&
         a->kind == b->kind && g_strcmp0 (a->text, b->text) == 0 &&
         g_strcmp0 (a->client_id, b->client_id) == 0;
}

static GcEvent *
reparse_event (GBytes *bytes)
{
  g_autoptr(GError) error = NULL;
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);
  GcEvent *event = gc_event_parse (data, size, &error);

  g_assert_no_error (error);
  g_assert_nonnull (event);
  return event;
}

static void
check_request (GcRequest  *request,
               const char *ref)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GcRequest) again = NULL;
  g_autofree char *again_ref = NULL;
  g_autofree char *json = NULL;

  switch (request->type)
    {
    case GC_REQUEST_MESSAGE:
      g_assert_true (g_utf8_validate (request->text, -1, NULL));
      g_assert_cmpuint (strlen (request->text), <=, MAX_TEXT_BYTES);
      g_assert_cmpstr (request->client_id, ==, ref);
      g_assert_true (request->client_id == NULL ||
                     strlen (request->client_id) <= GC_PROTOCOL_MAX_CLIENT_ID_BYTES);
      json = gc_request_build_message (request->text, request->kind, request->client_id);
      break;

    case GC_REQUEST_TYPING:
      json = gc_request_build_typing (request->active);
      break;

    case GC_REQUEST_RENAME:
      {
        g_autofree char *normalized = gc_protocol_normalize_user_name (request->name, &error);

        g_assert_no_error (error);
        g_assert_cmpstr (normalized, ==, request->name);
        json = gc_request_build_rename (request->name);
      }
      break;

    default:
      g_assert_not_reached ();
    }

  again = gc_request_parse (json, strlen (json), MAX_TEXT_BYTES, &again_ref, &error);
  g_assert_no_error (error);
  g_assert_cmpint (again->type, ==, request->type);
  g_assert_cmpint (again->kind, ==, request->kind);
  g_assert_cmpstr (again->text, ==, request->text);
  g_assert_cmpstr (again->client_id, ==, request->client_id);
  g_assert_cmpint (again->active, ==, request->active);
  g_assert_cmpstr (again->name, ==, request->name);
}

static void
fuzz_request (const char *data,
              gsize       size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GcRequest) request = NULL;
  g_autofree char *ref = NULL;

  request = gc_request_parse (data, size, MAX_TEXT_BYTES, &ref, &error);
  g_assert_true ((request == NULL) != (error == NULL));
  g_assert_true (ref == NULL || strlen (ref) <= GC_PROTOCOL_MAX_CLIENT_ID_BYTES);

  /* The flat reader (gc-json-scan) and json-glib agree on everything. */
  {
    g_autoptr(GError) slow_error = NULL;
    g_autoptr(GcRequest) slow = NULL;
    g_autofree char *slow_ref = NULL;

    slow = gc_request_parse_with_json_glib (data, size, MAX_TEXT_BYTES, &slow_ref, &slow_error);
    g_assert_cmpstr (slow_ref, ==, ref);
    g_assert_true ((slow == NULL) == (request == NULL));
    if (slow != NULL)
      {
        g_assert_cmpint (slow->type, ==, request->type);
        g_assert_cmpint (slow->kind, ==, request->kind);
        g_assert_cmpstr (slow->text, ==, request->text);
        g_assert_cmpstr (slow->client_id, ==, request->client_id);
        g_assert_cmpint (slow->active, ==, request->active);
        g_assert_cmpstr (slow->name, ==, request->name);
      }
    else
      g_assert_cmpint (slow_error->code, ==, error->code);
  }

  if (request != NULL)
    check_request (request, ref);
  else
    {
      g_autoptr(GBytes) reply = NULL;

      g_assert_true (error->domain == GC_PROTOCOL_ERROR);
      g_assert_nonnull (gc_protocol_error_to_string (error->code));
      reply = gc_event_build_error_from_gerror (error, ref, 0);
      g_clear_pointer (&reply, g_bytes_unref);
    }
}

static GBytes *
rebuild_event (const GcEvent *event)
{
  switch (event->type)
    {
    case GC_EVENT_MESSAGE:
      {
        const GcMessage *m = event->message;

        return gc_event_build_message (m->id, m->ts, m->from, m->kind, m->text, m->client_id);
      }
    case GC_EVENT_JOIN:
      return gc_event_build_join (event->join.user, event->join.ts);
    case GC_EVENT_LEAVE:
      return gc_event_build_leave (event->leave.user, event->leave.reason, event->leave.ts);
    case GC_EVENT_RENAME:
      return gc_event_build_rename (event->rename.user, event->rename.old_name, event->rename.ts);
    case GC_EVENT_TYPING:
      return gc_event_build_typing (event->typing.user, event->typing.active);
    case GC_EVENT_ERROR:
      if (event->error.error == GC_PROTOCOL_ERROR_FAILED)
        return NULL;
      return gc_event_build_error (event->error.error, event->error.message,
                                   event->error.ref, event->error.retry_after_ms);
    case GC_EVENT_WELCOME:
      {
        const GcWelcome *w = event->welcome;
        g_autoptr(GPtrArray) history = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
        GcWelcomeParams params = {
          .server_name = w->server_name != NULL ? w->server_name : "",
          .server_version = w->server_version != NULL ? w->server_version : "",
          .room = w->room,
          .you = w->you,
          .session_id = w->session_id,
          .resume_s = w->resume_s,
          .resumed = w->resumed,
          .members = w->members,
          .history = history,
          .limits = &w->limits,
        };

        if (!isfinite (w->limits.rate_per_s))
          return NULL;
        for (guint i = 0; i < w->history->len; i++)
          {
            const GcMessage *m = w->history->pdata[i];

            g_ptr_array_add (history, gc_event_build_message (m->id, m->ts, m->from, m->kind,
                                                              m->text, m->client_id));
          }
        return gc_event_build_welcome (&params);
      }
    case GC_EVENT_UNKNOWN:
      return NULL;
    default:
      g_assert_not_reached ();
    }
}

static void
check_same_event (const GcEvent *a,
                  const GcEvent *b)
{
  g_assert_cmpint (a->type, ==, b->type);

  switch (a->type)
    {
    case GC_EVENT_MESSAGE:
      g_assert_true (messages_equal (a->message, b->message));
      break;
    case GC_EVENT_JOIN:
      g_assert_true (users_equal (a->join.user, b->join.user));
      g_assert_cmpint (a->join.ts, ==, b->join.ts);
      break;
    case GC_EVENT_LEAVE:
      g_assert_true (users_equal (a->leave.user, b->leave.user));
      g_assert_cmpint (a->leave.reason, ==, b->leave.reason);
      g_assert_cmpint (a->leave.ts, ==, b->leave.ts);
      break;
    case GC_EVENT_RENAME:
      g_assert_true (users_equal (a->rename.user, b->rename.user));
      g_assert_cmpstr (a->rename.old_name, ==, b->rename.old_name);
      g_assert_cmpint (a->rename.ts, ==, b->rename.ts);
      break;
    case GC_EVENT_TYPING:
      g_assert_true (users_equal (a->typing.user, b->typing.user));
      g_assert_cmpint (a->typing.active, ==, b->typing.active);
      break;
    case GC_EVENT_ERROR:
      g_assert_cmpstr (a->error.code, ==, b->error.code);
      g_assert_cmpstr (a->error.message, ==, b->error.message);
      g_assert_cmpstr (a->error.ref, ==, b->error.ref);
      if (a->error.error == GC_PROTOCOL_ERROR_RATE_LIMITED)
        g_assert_cmpuint (a->error.retry_after_ms, ==, b->error.retry_after_ms);
      break;
    case GC_EVENT_WELCOME:
      {
        const GcWelcome *x = a->welcome;
        const GcWelcome *y = b->welcome;

        g_assert_cmpuint (y->protocol, ==, GC_PROTOCOL_VERSION);
        g_assert_cmpstr (x->room, ==, y->room);
        g_assert_true (users_equal (x->you, y->you));
        g_assert_cmpstr (x->session_id, ==, y->session_id);
        g_assert_cmpuint (x->resume_s, ==, y->resume_s);
        g_assert_cmpint (x->resumed, ==, y->resumed);
        g_assert_cmpuint (x->members->len, ==, y->members->len);
        for (guint i = 0; i < x->members->len; i++)
          g_assert_true (users_equal (x->members->pdata[i], y->members->pdata[i]));
        g_assert_cmpuint (x->history->len, ==, y->history->len);
        for (guint i = 0; i < x->history->len; i++)
          g_assert_true (messages_equal (x->history->pdata[i], y->history->pdata[i]));
        g_assert_cmpuint (x->limits.max_text_bytes, ==, y->limits.max_text_bytes);
        g_assert_cmpuint (x->limits.max_message_bytes, ==, y->limits.max_message_bytes);
        g_assert_cmpuint (x->limits.rate_burst, ==, y->limits.rate_burst);
        g_assert_cmpfloat (x->limits.rate_per_s, ==, y->limits.rate_per_s);
      }
      break;
    case GC_EVENT_UNKNOWN:
    default:
      g_assert_not_reached ();
    }
}

static void
fuzz_event (const char *data,
            gsize       size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GcEvent) event = NULL;
  g_autoptr(GBytes) rebuilt = NULL;
  g_autoptr(GcEvent) again = NULL;

  event = gc_event_parse (data, size, &error);
  g_assert_true ((event == NULL) != (error == NULL));
  if (event == NULL)
    {
      g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST);
      return;
    }

  rebuilt = rebuild_event (event);
  if (rebuilt == NULL)
    return;

  again = reparse_event (rebuilt);
  check_same_event (event, again);
}

static void
fuzz_name (const char *str)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *name = gc_protocol_normalize_user_name (str, &error);
  g_autofree char *again = NULL;
  g_autofree char *key = NULL;

  if (name == NULL)
    {
      g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_INVALID_USER_NAME);
      return;
    }

  again = gc_protocol_normalize_user_name (name, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, name);
  g_assert_cmpint (g_utf8_strlen (name, -1), <=, GC_PROTOCOL_MAX_USER_NAME_LENGTH);

  key = gc_protocol_user_name_key (name);
  g_assert_nonnull (key);
  g_assert_true (g_utf8_validate (key, -1, NULL));

  for (guint n = 2; n < G_MAXUINT / 7; n = n * 7 + 1)
    {
      g_autofree char *suggestion = gc_protocol_suggest_name (name, n);
      g_autofree char *valid = gc_protocol_normalize_user_name (suggestion, &error);

      g_assert_no_error (error);
      g_assert_cmpstr (valid, ==, suggestion);
    }
}

static void
fuzz_room_code (const char *str)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *code = gc_protocol_canonical_room_code (str, &error);
  g_autofree char *again = NULL;

  if (code == NULL)
    {
      g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_INVALID_ROOM_CODE);
      return;
    }

  again = gc_protocol_canonical_room_code (code, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (again, ==, code);
  g_assert_cmpint (g_ascii_strcasecmp (code, str), ==, 0);
}

static void
fuzz_since (const char *str)
{
  g_autoptr(GError) error = NULL;
  guint64 since = 0;

  if (gc_protocol_parse_since (str, &since, &error))
    {
      g_autofree char *printed = g_strdup_printf ("%" G_GUINT64_FORMAT, since);

      /* Only leading zeros may differ. */
      while (str[0] == '0' && str[1] != '\0')
        str++;
      g_assert_cmpstr (printed, ==, str);
    }
  else
    g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST);
}

static void
fuzz_escape (const char *data,
             gsize       size)
{
  g_autoptr(GString) out = g_string_new ("[");
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonArray *array;

  gc_protocol_append_json_string (out, data, size);
  g_string_append_c (out, ']');

  g_assert_true (g_utf8_validate (out->str, out->len, NULL));
  json_parser_load_from_data (parser, out->str, out->len, &error);
  g_assert_no_error (error);
  array = json_node_get_array (json_parser_get_root (parser));
  g_assert_cmpuint (json_array_get_length (array), ==, 1);

  /* Valid UTF-8 without NUL comes back unchanged. */
  if (g_utf8_validate (data, size, NULL) && memchr (data, '\0', size) == NULL)
    {
      const char *back = json_array_get_string_element (array, 0);

      g_assert_cmpuint (strlen (back), ==, size);
      g_assert_true (memcmp (back, data, size) == 0);
    }
}

/* docs/protocol.md §3.2: whatever the query, a result in the rules or a
 * refusal with a code of §3.6; what clients build reads back. */
static void
fuzz_join_query (const char *str)
{
  g_auto(GcJoinQuery) query = { 0 };
  g_autoptr(GError) error = NULL;

  if (gc_join_query_parse (str, &query, &error))
    {
      g_auto(GcJoinQuery) again = { 0 };
      g_autofree char *built = NULL;
      GcJoinParams params = {
        .room_code = query.room_code,
        .user_name = query.user_name,
        .session_id = query.session_id,
        .has_since = query.has_since,
        .since = query.since,
      };

      built = gc_join_build_query (&params);
      g_assert_true (gc_join_query_parse (built, &again, &error));
      g_assert_no_error (error);
      g_assert_cmpstr (again.room_code, ==, query.room_code);
      g_assert_cmpstr (again.user_name, ==, query.user_name);
      g_assert_cmpint (again.has_since, ==, query.has_since);
      g_assert_cmpuint (again.since, ==, query.since);
    }
  else
    {
      g_assert_true (error->domain == GC_PROTOCOL_ERROR);
      g_assert_true (error->code == GC_PROTOCOL_ERROR_INVALID_ROOM_CODE ||
                     error->code == GC_PROTOCOL_ERROR_INVALID_USER_NAME ||
                     error->code == GC_PROTOCOL_ERROR_BAD_REQUEST);
    }
}

static void
fuzz_refusal (const char *data,
              gsize       size)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GcRefusal) refusal = gc_refusal_parse (data, size, &error);
  GcJsonObjectScan scan;
  const char *key;
  gsize key_len;

  g_assert_true ((refusal == NULL) != (error == NULL));
  if (refusal != NULL)
    g_assert_true (refusal->error == GC_PROTOCOL_ERROR_FAILED ||
                   g_strcmp0 (refusal->code, gc_protocol_error_to_string (refusal->error)) == 0);

  /* The bench's event scan never reads past the end. */
  if (gc_json_object_scan_begin (&scan, data, size))
    while (gc_json_object_scan_next (&scan, &key, &key_len))
      {
        const char *contents;
        gsize contents_len;

        g_assert_true (key >= data && key + key_len <= data + size);
        if (gc_json_object_scan_raw_string (&scan, &contents, &contents_len))
          g_assert_true (contents >= data && contents + contents_len <= data + size);
      }
}

int
LLVMFuzzerTestOneInput (const uint8_t *data,
                        size_t         size)
{
  const char *json = (const char *) data;
  g_autofree char *str = g_strndup (json, size);

  fuzz_request (json, size);
  fuzz_event (json, size);
  fuzz_name (str);
  fuzz_room_code (str);
  fuzz_since (str);
  fuzz_escape (json, size);
  fuzz_join_query (str);
  fuzz_refusal (json, size);

  return 0;
}
