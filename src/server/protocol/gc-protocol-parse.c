/* gc-protocol-parse.c: json-glib loading and field readers, and events (client side)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-json-scan.h"
#include "gc-protocol-private.h"

JsonParser *
gc_protocol_load_object (const char   *json,
                         gsize         len,
                         const char   *what,
                         JsonObject  **out_object,
                         GError      **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GError) local_error = NULL;
  JsonNode *root;

  if (json == NULL)
    json = "";

  if (!gc_json_scan_check (json, len, GC_PROTOCOL_MAX_JSON_DEPTH, what, error))
    return NULL;

  if (len > G_MAXSSIZE)
    {
      g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                   "%s is too large", what);
      return NULL;
    }

  parser = json_parser_new ();
  if (!json_parser_load_from_data (parser, json, (gssize) len, &local_error))
    {
      g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                   "%s is not valid JSON: %s", what, local_error->message);
      return NULL;
    }

  root = json_parser_get_root (parser);
  if (root == NULL || !JSON_NODE_HOLDS_OBJECT (root))
    {
      g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                   "%s is not a JSON object", what);
      return NULL;
    }

  *out_object = json_node_get_object (root);
  return g_steal_pointer (&parser);
}

/* Field readers. A missing optional field leaves *out untouched and
 * returns TRUE; every failure is BAD_REQUEST naming the field. */


static JsonNode *
get_member (JsonObject     *object,
             const char     *name,
             FieldPresence   presence,
             gboolean       *out_missing,
             GError        **error)
{
  JsonNode *node = json_object_get_member (object, name);

  *out_missing = node == NULL;
  if (node == NULL && presence == FIELD_REQUIRED)
    g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                 "field \"%s\" is missing", name);

  return node;
}

gboolean
gc_protocol_node_holds (JsonNode *node,
                        GType     value_type)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == value_type;
}

gboolean
gc_protocol_wrong_type (const char  *name,
                        const char  *type,
                        GError     **error)
{
  g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
               "field \"%s\" must be %s", name, type);
  return FALSE;
}

static gboolean
get_string (JsonObject     *object,
            const char     *name,
            FieldPresence   presence,
            const char    **out,
            GError        **error)
{
  gboolean missing;
  JsonNode *node = get_member (object, name, presence, &missing, error);

  if (missing)
    return presence == FIELD_OPTIONAL;
  if (!gc_protocol_node_holds (node, G_TYPE_STRING))
    return gc_protocol_wrong_type (name, "a string", error);

  *out = json_node_get_string (node);
  return TRUE;
}

static gboolean
get_boolean (JsonObject     *object,
             const char     *name,
             FieldPresence   presence,
             gboolean       *out,
             GError        **error)
{
  gboolean missing;
  JsonNode *node = get_member (object, name, presence, &missing, error);

  if (missing)
    return presence == FIELD_OPTIONAL;
  if (!gc_protocol_node_holds (node, G_TYPE_BOOLEAN))
    return gc_protocol_wrong_type (name, "true or false", error);

  *out = json_node_get_boolean (node);
  return TRUE;
}

/* An integer in [min, max]. json-glib reads integers as gint64 and wraps
 * larger ones, so nothing above G_MAXINT64 can be told apart. */
static gboolean
get_integer (JsonObject     *object,
             const char     *name,
             FieldPresence   presence,
             gint64          min,
             gint64          max,
             gint64         *out,
             GError        **error)
{
  gboolean missing;
  JsonNode *node = get_member (object, name, presence, &missing, error);
  gint64 value;

  if (missing)
    return presence == FIELD_OPTIONAL;
  if (!gc_protocol_node_holds (node, G_TYPE_INT64))
    return gc_protocol_wrong_type (name, "an integer", error);

  value = json_node_get_int (node);
  if (value < min || value > max)
    {
      g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                   "field \"%s\" is out of range", name);
      return FALSE;
    }

  *out = value;
  return TRUE;
}

static gboolean
get_uint (JsonObject     *object,
          const char     *name,
          FieldPresence   presence,
          guint          *out,
          GError        **error)
{
  /* Left as is when an optional field is missing. */
  gint64 value = *out;

  if (!get_integer (object, name, presence, 0, G_MAXUINT, &value, error))
    return FALSE;

  *out = (guint) value;
  return TRUE;
}

static gboolean
get_number (JsonObject     *object,
            const char     *name,
            FieldPresence   presence,
            double         *out,
            GError        **error)
{
  gboolean missing;
  JsonNode *node = get_member (object, name, presence, &missing, error);

  if (missing)
    return presence == FIELD_OPTIONAL;
  if (gc_protocol_node_holds (node, G_TYPE_INT64))
    *out = (double) json_node_get_int (node);
  else if (gc_protocol_node_holds (node, G_TYPE_DOUBLE))
    *out = json_node_get_double (node);
  else
    return gc_protocol_wrong_type (name, "a number", error);

  return TRUE;
}

static gboolean
get_object (JsonObject     *object,
            const char     *name,
            FieldPresence   presence,
            JsonObject    **out,
            GError        **error)
{
  gboolean missing;
  JsonNode *node = get_member (object, name, presence, &missing, error);

  if (missing)
    return presence == FIELD_OPTIONAL;
  if (!JSON_NODE_HOLDS_OBJECT (node))
    return gc_protocol_wrong_type (name, "an object", error);

  *out = json_node_get_object (node);
  return TRUE;
}

static gboolean
get_array (JsonObject     *object,
           const char     *name,
           FieldPresence   presence,
           JsonArray     **out,
           GError        **error)
{
  gboolean missing;
  JsonNode *node = get_member (object, name, presence, &missing, error);

  if (missing)
    return presence == FIELD_OPTIONAL;
  if (!JSON_NODE_HOLDS_ARRAY (node))
    return gc_protocol_wrong_type (name, "an array", error);

  *out = json_node_get_array (node);
  return TRUE;
}

/* Events */

void
gc_message_free (GcMessage *message)
{
  if (message == NULL)
    return;

  gc_user_free (message->from);
  g_free (message->text);
  g_free (message->client_id);
  g_free (message);
}

void
gc_welcome_free (GcWelcome *welcome)
{
  if (welcome == NULL)
    return;

  g_free (welcome->server_name);
  g_free (welcome->server_version);
  g_free (welcome->room);
  gc_user_free (welcome->you);
  g_free (welcome->session_id);
  g_clear_pointer (&welcome->members, g_ptr_array_unref);
  g_clear_pointer (&welcome->history, g_ptr_array_unref);
  g_free (welcome);
}

void
gc_event_free (GcEvent *event)
{
  if (event == NULL)
    return;

  switch (event->type)
    {
    case GC_EVENT_UNKNOWN:
      g_free (event->unknown.type_name);
      break;
    case GC_EVENT_WELCOME:
      gc_welcome_free (event->welcome);
      break;
    case GC_EVENT_MESSAGE:
      gc_message_free (event->message);
      break;
    case GC_EVENT_JOIN:
      gc_user_free (event->join.user);
      break;
    case GC_EVENT_LEAVE:
      gc_user_free (event->leave.user);
      break;
    case GC_EVENT_RENAME:
      gc_user_free (event->rename.user);
      g_free (event->rename.old_name);
      break;
    case GC_EVENT_TYPING:
      gc_user_free (event->typing.user);
      break;
    case GC_EVENT_ERROR:
      g_free (event->error.code);
      g_free (event->error.message);
      g_free (event->error.ref);
      break;
    case GC_EVENT_REFUSED:
      g_free (event->refused.code);
      g_free (event->refused.message);
      g_free (event->refused.suggestion);
      break;
    default:
      g_assert_not_reached ();
    }

  g_free (event);
}

static GcUser *
parse_user (JsonNode  *node,
            GError   **error)
{
  JsonObject *object;
  const char *id = NULL;
  const char *name = NULL;

  if (!JSON_NODE_HOLDS_OBJECT (node))
    {
      g_set_error_literal (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                           "a user must be an object");
      return NULL;
    }

  object = json_node_get_object (node);
  if (!get_string (object, "id", FIELD_REQUIRED, &id, error) ||
      !get_string (object, "name", FIELD_REQUIRED, &name, error))
    return NULL;

  return gc_user_new (id, name);
}

static GcUser *
get_user (JsonObject  *object,
          const char  *name,
          GError     **error)
{
  gboolean missing;
  JsonNode *node = get_member (object, name, FIELD_REQUIRED, &missing, error);
  GcUser *user;

  if (missing)
    return NULL;

  user = parse_user (node, error);
  if (user == NULL)
    g_prefix_error (error, "%s: ", name);

  return user;
}

static GcMessage *
parse_message (JsonObject  *object,
               GError     **error)
{
  g_autoptr(GcMessage) message = g_new0 (GcMessage, 1);
  gint64 id = 0;
  const char *kind = NULL;
  const char *text = NULL;
  const char *client_id = NULL;

  if (!get_integer (object, "id", FIELD_REQUIRED, 1, G_MAXINT64, &id, error) ||
      !get_integer (object, "ts", FIELD_REQUIRED, G_MININT64, G_MAXINT64, &message->ts, error))
    return NULL;
  message->id = (guint64) id;

  message->from = get_user (object, "from", error);
  if (message->from == NULL)
    return NULL;

  if (!get_string (object, "kind", FIELD_OPTIONAL, &kind, error))
    return NULL;
  message->kind = GC_MESSAGE_KIND_TEXT;
  if (kind != NULL && !gc_message_kind_from_string (kind, &message->kind))
    {
      gc_protocol_wrong_type ("kind", "\"text\" or \"emote\"", error);
      return NULL;
    }

  if (!get_string (object, "text", FIELD_REQUIRED, &text, error) ||
      !get_string (object, "client_id", FIELD_OPTIONAL, &client_id, error))
    return NULL;

  message->text = g_strdup (text);
  message->client_id = g_strdup (client_id);

  return g_steal_pointer (&message);
}

static gboolean
parse_limits (JsonObject  *object,
              GcLimits    *limits,
              GError     **error)
{
  return get_uint (object, "max_text_bytes", FIELD_REQUIRED, &limits->max_text_bytes, error) &&
         get_uint (object, "max_message_bytes", FIELD_REQUIRED, &limits->max_message_bytes, error) &&
         get_uint (object, "rate_burst", FIELD_REQUIRED, &limits->rate_burst, error) &&
         get_number (object, "rate_per_s", FIELD_REQUIRED, &limits->rate_per_s, error);
}

static GcWelcome *
parse_welcome (JsonObject  *object,
               GError     **error)
{
  g_autoptr(GcWelcome) welcome = g_new0 (GcWelcome, 1);
  JsonObject *server = NULL;
  JsonObject *limits = NULL;
  JsonArray *members = NULL;
  JsonArray *history = NULL;
  const char *room = NULL;
  const char *session_id = NULL;
  guint n;

  if (!get_uint (object, "protocol", FIELD_REQUIRED, &welcome->protocol, error) ||
      !get_object (object, "server", FIELD_OPTIONAL, &server, error) ||
      !get_string (object, "room", FIELD_REQUIRED, &room, error) ||
      !get_string (object, "session_id", FIELD_REQUIRED, &session_id, error) ||
      !get_uint (object, "resume_s", FIELD_REQUIRED, &welcome->resume_s, error) ||
      !get_boolean (object, "resumed", FIELD_REQUIRED, &welcome->resumed, error) ||
      !get_array (object, "members", FIELD_REQUIRED, &members, error) ||
      !get_array (object, "history", FIELD_REQUIRED, &history, error) ||
      !get_object (object, "limits", FIELD_REQUIRED, &limits, error))
    return NULL;

  welcome->room = g_strdup (room);
  welcome->session_id = g_strdup (session_id);

  if (server != NULL)
    {
      const char *name = NULL;
      const char *version = NULL;

      if (!get_string (server, "name", FIELD_OPTIONAL, &name, error) ||
          !get_string (server, "version", FIELD_OPTIONAL, &version, error))
        {
          g_prefix_error (error, "server: ");
          return NULL;
        }
      welcome->server_name = g_strdup (name);
      welcome->server_version = g_strdup (version);
    }

  welcome->you = get_user (object, "you", error);
  if (welcome->you == NULL)
    return NULL;

  n = json_array_get_length (members);
  welcome->members = g_ptr_array_new_full (n, (GDestroyNotify) gc_user_free);
  for (guint i = 0; i < n; i++)
    {
      GcUser *user = parse_user (json_array_get_element (members, i), error);

      if (user == NULL)
        {
          g_prefix_error (error, "members[%u]: ", i);
          return NULL;
        }
      g_ptr_array_add (welcome->members, user);
    }

  n = json_array_get_length (history);
  welcome->history = g_ptr_array_new_full (n, (GDestroyNotify) gc_message_free);
  for (guint i = 0; i < n; i++)
    {
      JsonNode *node = json_array_get_element (history, i);
      GcMessage *message = NULL;

      if (!JSON_NODE_HOLDS_OBJECT (node))
        g_set_error_literal (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                             "a message must be an object");
      else
        message = parse_message (json_node_get_object (node), error);

      if (message == NULL)
        {
          g_prefix_error (error, "history[%u]: ", i);
          return NULL;
        }
      g_ptr_array_add (welcome->history, message);
    }

  if (!parse_limits (limits, &welcome->limits, error))
    {
      g_prefix_error (error, "limits: ");
      return NULL;
    }

  return g_steal_pointer (&welcome);
}

/* Fills the union member of @event->type from @object. */
static gboolean
parse_event_body (GcEvent     *event,
                  JsonObject  *object,
                  GError     **error)
{
  switch (event->type)
    {
    case GC_EVENT_WELCOME:
      event->welcome = parse_welcome (object, error);
      return event->welcome != NULL;

    case GC_EVENT_MESSAGE:
      event->message = parse_message (object, error);
      return event->message != NULL;

    case GC_EVENT_JOIN:
      event->join.user = get_user (object, "user", error);
      return event->join.user != NULL &&
             get_integer (object, "ts", FIELD_REQUIRED, G_MININT64, G_MAXINT64,
                          &event->join.ts, error);

    case GC_EVENT_LEAVE:
      {
        const char *reason = NULL;

        event->leave.user = get_user (object, "user", error);
        if (event->leave.user == NULL ||
            !get_string (object, "reason", FIELD_REQUIRED, &reason, error))
          return FALSE;
        if (!gc_leave_reason_from_string (reason, &event->leave.reason))
          return gc_protocol_wrong_type ("reason", "a known leave reason", error);
        return get_integer (object, "ts", FIELD_REQUIRED, G_MININT64, G_MAXINT64,
                            &event->leave.ts, error);
      }

    case GC_EVENT_RENAME:
      {
        const char *old_name = NULL;

        event->rename.user = get_user (object, "user", error);
        if (event->rename.user == NULL ||
            !get_string (object, "old_name", FIELD_REQUIRED, &old_name, error))
          return FALSE;
        event->rename.old_name = g_strdup (old_name);
        return get_integer (object, "ts", FIELD_REQUIRED, G_MININT64, G_MAXINT64,
                            &event->rename.ts, error);
      }

    case GC_EVENT_TYPING:
      event->typing.user = get_user (object, "user", error);
      return event->typing.user != NULL &&
             get_boolean (object, "active", FIELD_REQUIRED, &event->typing.active, error);

    case GC_EVENT_ERROR:
      {
        const char *code = NULL;
        const char *message = NULL;
        const char *ref = NULL;
        gint64 retry_after_ms = 0;

        if (!get_string (object, "code", FIELD_REQUIRED, &code, error) ||
            !get_string (object, "message", FIELD_REQUIRED, &message, error) ||
            !get_string (object, "ref", FIELD_OPTIONAL, &ref, error) ||
            !get_integer (object, "retry_after_ms", FIELD_OPTIONAL, 0, G_MAXINT64,
                          &retry_after_ms, error))
          return FALSE;

        event->error.code = g_strdup (code);
        if (!gc_protocol_error_from_string (code, &event->error.error))
          event->error.error = GC_PROTOCOL_ERROR_FAILED;
        event->error.message = g_strdup (message);
        event->error.ref = g_strdup (ref);
        event->error.retry_after_ms = (guint64) retry_after_ms;
        return TRUE;
      }

    case GC_EVENT_REFUSED:
      {
        const char *code = NULL;
        const char *message = NULL;
        const char *suggestion = NULL;
        gint64 retry_after_ms = 0;

        if (!get_string (object, "error", FIELD_REQUIRED, &code, error) ||
            !get_string (object, "message", FIELD_REQUIRED, &message, error) ||
            !get_string (object, "suggestion", FIELD_OPTIONAL, &suggestion, error) ||
            !get_integer (object, "retry_after_ms", FIELD_OPTIONAL, 0, G_MAXINT64,
                          &retry_after_ms, error))
          return FALSE;

        event->refused.code = g_strdup (code);
        if (!gc_protocol_error_from_string (code, &event->refused.error))
          event->refused.error = GC_PROTOCOL_ERROR_FAILED;
        event->refused.message = g_strdup (message);
        event->refused.suggestion = g_strdup (suggestion);
        event->refused.retry_after_ms = (guint64) retry_after_ms;
        return TRUE;
      }

    case GC_EVENT_UNKNOWN:
    default:
      g_assert_not_reached ();
    }
}

static const struct {
  const char  *name;
  GcEventType  type;
} event_types[] = {
  { "welcome", GC_EVENT_WELCOME },
  { "message", GC_EVENT_MESSAGE },
  { "join",    GC_EVENT_JOIN },
  { "leave",   GC_EVENT_LEAVE },
  { "rename",  GC_EVENT_RENAME },
  { "typing",  GC_EVENT_TYPING },
  { "error",   GC_EVENT_ERROR },
  { "refused", GC_EVENT_REFUSED },
};

GcEvent *
gc_event_parse (const char  *json,
                gsize        len,
                GError     **error)
{
  g_autoptr(JsonParser) parser = NULL;
  g_autoptr(GcEvent) event = NULL;
  JsonObject *object;
  const char *type = NULL;

  g_return_val_if_fail (json != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  parser = gc_protocol_load_object (json, len, "event", &object, error);
  if (parser == NULL)
    return NULL;

  if (!get_string (object, "type", FIELD_REQUIRED, &type, error))
    return NULL;

  event = g_new0 (GcEvent, 1);
  event->type = GC_EVENT_UNKNOWN;
  for (guint i = 0; i < G_N_ELEMENTS (event_types); i++)
    {
      if (strcmp (event_types[i].name, type) == 0)
        {
          event->type = event_types[i].type;
          break;
        }
    }

  if (event->type == GC_EVENT_UNKNOWN)
    {
      event->unknown.type_name = g_strdup (type);
      return g_steal_pointer (&event);
    }

  if (!parse_event_body (event, object, error))
    {
      g_prefix_error (error, "%s event: ", type);
      return NULL;
    }

  return g_steal_pointer (&event);
}
