/* gc-protocol-request.c: parsing and validation of requests (server side)
 *
 * Two readers fill the same members, then one set of rules (§5) applies:
 * gc-json-scan for the flat requests clients send, json-glib for
 * anything else.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-json-scan.h"
#include "gc-protocol-private.h"

void
gc_request_free (GcRequest *request)
{
  if (request == NULL)
    return;

  g_free (request->text);
  g_free (request->client_id);
  g_free (request->name);
  g_free (request);
}

/* The members of a request that its rules (§5) look at, as read by
 * either parser below; one set of checks then applies to both. */
typedef enum {
  MEMBER_ABSENT,
  MEMBER_STRING,
  MEMBER_BOOLEAN,
  MEMBER_OTHER,        /* null, a number, an object or an array */
} MemberKind;

typedef struct {
  MemberKind  kind;
  gboolean    boolean;
  char       *string;  /* owned */
} RequestMember;

enum {
  MEMBER_TYPE,
  MEMBER_KIND,
  MEMBER_TEXT,
  MEMBER_CLIENT_ID,
  MEMBER_ACTIVE,
  MEMBER_NAME,
  N_REQUEST_MEMBERS
};

static const char * const request_member_names[N_REQUEST_MEMBERS] = {
  "type", "kind", "text", "client_id", "active", "name",
};

typedef struct {
  RequestMember members[N_REQUEST_MEMBERS];
} RequestMembers;

static void
request_members_clear (RequestMembers *members)
{
  for (guint i = 0; i < N_REQUEST_MEMBERS; i++)
    g_clear_pointer (&members->members[i].string, g_free);
  memset (members, 0, sizeof *members);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (RequestMembers, request_members_clear)

static int
request_member_index (const char *key,
                      gsize       key_len)
{
  for (guint i = 0; i < N_REQUEST_MEMBERS; i++)
    {
      if (strlen (request_member_names[i]) == key_len &&
          memcmp (request_member_names[i], key, key_len) == 0)
        return (int) i;
    }
  return -1;
}

static void
request_members_from_object (JsonObject     *object,
                             RequestMembers *members)
{
  for (guint i = 0; i < N_REQUEST_MEMBERS; i++)
    {
      JsonNode *node = json_object_get_member (object, request_member_names[i]);
      RequestMember *member = &members->members[i];

      if (node == NULL)
        member->kind = MEMBER_ABSENT;
      else if (gc_protocol_node_holds (node, G_TYPE_STRING))
        {
          member->kind = MEMBER_STRING;
          member->string = g_strdup (json_node_get_string (node));
        }
      else if (gc_protocol_node_holds (node, G_TYPE_BOOLEAN))
        {
          member->kind = MEMBER_BOOLEAN;
          member->boolean = json_node_get_boolean (node);
        }
      else
        member->kind = MEMBER_OTHER;
    }
}

/* The fast path. Requests are small flat objects, and json-glib spends
 * some 20,000 instructions on one: most of what the server does per
 * message besides the system calls. This reads a flat object of strings,
 * booleans and nulls with gc-json-scan and leaves anything else —
 * numbers, nesting, escaped keys, a repeated member, malformed JSON — to
 * json-glib, so that both always agree. It runs after
 * gc_json_scan_check(), which has vetted every escape. */
static gboolean
scan_flat_request (const char     *json,
                   gsize           len,
                   RequestMembers *members)
{
  GcJsonObjectScan scan;
  const char *key;
  gsize key_len;

  /* json-glib refuses what is not UTF-8; let it say so. */
  if (!g_utf8_validate_len (json, len, NULL))
    return FALSE;

  if (!gc_json_object_scan_begin (&scan, json, len))
    return FALSE;

  while (gc_json_object_scan_next (&scan, &key, &key_len))
    {
      int member_index;
      RequestMember *member = NULL;

      if (memchr (key, '\\', key_len) != NULL)
        goto fallback;

      member_index = request_member_index (key, key_len);
      if (member_index >= 0)
        {
          member = &members->members[member_index];
          if (member->kind != MEMBER_ABSENT)
            goto fallback;
        }

      if (gc_json_object_scan_peek (&scan) == '"')
        {
          gsize start = scan.pos;
          const char *raw;
          gsize raw_len;

          if (!gc_json_object_scan_raw_string (&scan, &raw, &raw_len))
            goto fallback;
          if (member != NULL)
            {
              /* Most strings hold no escape: copied whole, one allocation
               * (gc_json_scan_check() has refused raw control characters). */
              if (memchr (raw, '\\', raw_len) == NULL)
                member->string = g_strndup (raw, raw_len);
              else
                {
                  g_autoptr(GString) value = g_string_sized_new (raw_len);

                  if (!gc_json_scan_string (json, len, &start, value))
                    goto fallback;
                  member->string = g_string_free (g_steal_pointer (&value), FALSE);
                }
              member->kind = MEMBER_STRING;
            }
        }
      else if (gc_json_object_scan_literal (&scan, "true"))
        {
          if (member != NULL)
            {
              member->kind = MEMBER_BOOLEAN;
              member->boolean = TRUE;
            }
        }
      else if (gc_json_object_scan_literal (&scan, "false"))
        {
          if (member != NULL)
            member->kind = MEMBER_BOOLEAN;
        }
      else if (gc_json_object_scan_literal (&scan, "null"))
        {
          if (member != NULL)
            member->kind = MEMBER_OTHER;
        }
      else
        goto fallback;
    }

  if (gc_json_object_scan_end (&scan))
    return TRUE;

fallback:
  request_members_clear (members);
  return FALSE;
}

/* Fills @members from @json, by the fast path when it can. */
static gboolean
read_request_members (const char      *json,
                      gsize            len,
                      gboolean         fast,
                      RequestMembers  *members,
                      GError         **error)
{
  g_autoptr(JsonParser) parser = NULL;
  JsonObject *object;

  if (json == NULL)
    json = "";

  if (fast)
    {
      if (!gc_json_scan_check (json, len, GC_PROTOCOL_MAX_JSON_DEPTH, "request", error))
        return FALSE;
      if (scan_flat_request (json, len, members))
        return TRUE;
    }

  parser = gc_protocol_load_object (json, len, "request", &object, error);
  if (parser == NULL)
    return FALSE;

  request_members_from_object (object, members);
  return TRUE;
}

/* Like get_member() and get_string() / get_boolean() for the members of
 * a request. */
static gboolean
request_member_present (const RequestMembers  *members,
                        guint                  index,
                        FieldPresence          presence,
                        GError               **error)
{
  if (members->members[index].kind != MEMBER_ABSENT)
    return TRUE;

  if (presence == FIELD_REQUIRED)
    g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                 "field \"%s\" is missing", request_member_names[index]);
  return FALSE;
}

static gboolean
request_string (const RequestMembers  *members,
                guint                  index,
                FieldPresence          presence,
                const char           **out,
                GError               **error)
{
  if (!request_member_present (members, index, presence, error))
    return presence == FIELD_OPTIONAL;
  if (members->members[index].kind != MEMBER_STRING)
    return gc_protocol_wrong_type (request_member_names[index], "a string", error);

  *out = members->members[index].string;
  return TRUE;
}

static gboolean
request_boolean (const RequestMembers  *members,
                 guint                  index,
                 FieldPresence          presence,
                 gboolean              *out,
                 GError               **error)
{
  if (!request_member_present (members, index, presence, error))
    return presence == FIELD_OPTIONAL;
  if (members->members[index].kind != MEMBER_BOOLEAN)
    return gc_protocol_wrong_type (request_member_names[index], "true or false", error);

  *out = members->members[index].boolean;
  return TRUE;
}

static gboolean
parse_message_request (const RequestMembers  *members,
                       GcRequest             *request,
                       const char            *client_id,
                       gboolean               client_id_valid,
                       gsize                  max_text_bytes,
                       GError               **error)
{
  const char *kind = NULL;
  const char *text = NULL;

  if (!client_id_valid)
    {
      g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                   "field \"client_id\" must be a string of at most %d bytes",
                   GC_PROTOCOL_MAX_CLIENT_ID_BYTES);
      return FALSE;
    }

  if (!request_string (members, MEMBER_KIND, FIELD_OPTIONAL, &kind, error))
    return FALSE;
  request->kind = GC_MESSAGE_KIND_TEXT;
  if (kind != NULL && !gc_message_kind_from_string (kind, &request->kind))
    return gc_protocol_wrong_type ("kind", "\"text\" or \"emote\"", error);

  if (!request_string (members, MEMBER_TEXT, FIELD_REQUIRED, &text, error))
    return FALSE;

  if (strlen (text) > max_text_bytes)
    {
      g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_MESSAGE_TOO_LONG,
                   "text is longer than %" G_GSIZE_FORMAT " bytes", max_text_bytes);
      return FALSE;
    }

  if (!gc_protocol_has_non_space (text))
    {
      g_set_error_literal (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_EMPTY_MESSAGE,
                           "text has no visible character");
      return FALSE;
    }

  request->text = g_strdup (text);
  request->client_id = g_strdup (client_id);
  return TRUE;
}

static GcRequest *
request_parse (const char  *json,
               gsize        len,
               gsize        max_text_bytes,
               gboolean     fast,
               char       **out_ref,
               GError     **error)
{
  g_auto(RequestMembers) members = { 0 };
  g_autoptr(GcRequest) request = NULL;
  const RequestMember *client_id_member;
  const char *client_id = NULL;
  gboolean client_id_valid = TRUE;
  const char *type = NULL;

  g_return_val_if_fail (json != NULL || len == 0, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (out_ref != NULL)
    *out_ref = NULL;

  if (!read_request_members (json, len, fast, &members, error))
    return NULL;

  /* Read first, so that any later failure can still name the request. */
  client_id_member = &members.members[MEMBER_CLIENT_ID];
  if (client_id_member->kind != MEMBER_ABSENT)
    {
      if (client_id_member->kind == MEMBER_STRING &&
          strlen (client_id_member->string) <= GC_PROTOCOL_MAX_CLIENT_ID_BYTES)
        client_id = client_id_member->string;
      else
        client_id_valid = FALSE;
    }
  if (out_ref != NULL)
    *out_ref = g_strdup (client_id);

  if (!request_string (&members, MEMBER_TYPE, FIELD_REQUIRED, &type, error))
    return NULL;

  request = g_new0 (GcRequest, 1);

  if (strcmp (type, "message") == 0)
    {
      request->type = GC_REQUEST_MESSAGE;
      if (!parse_message_request (&members, request, client_id, client_id_valid,
                                  max_text_bytes, error))
        return NULL;
    }
  else if (strcmp (type, "typing") == 0)
    {
      request->type = GC_REQUEST_TYPING;
      if (!request_boolean (&members, MEMBER_ACTIVE, FIELD_REQUIRED, &request->active, error))
        return NULL;
    }
  else if (strcmp (type, "rename") == 0)
    {
      const char *name = NULL;

      request->type = GC_REQUEST_RENAME;
      if (!request_string (&members, MEMBER_NAME, FIELD_REQUIRED, &name, error))
        return NULL;
      request->name = gc_protocol_normalize_user_name (name, error);
      if (request->name == NULL)
        return NULL;
    }
  else
    {
      g_set_error_literal (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                           "unknown request type");
      return NULL;
    }

  return g_steal_pointer (&request);
}

GcRequest *
gc_request_parse (const char  *json,
                  gsize        len,
                  gsize        max_text_bytes,
                  char       **out_ref,
                  GError     **error)
{
  return request_parse (json, len, max_text_bytes, TRUE, out_ref, error);
}

GcRequest *
gc_request_parse_with_json_glib (const char  *json,
                                 gsize        len,
                                 gsize        max_text_bytes,
                                 char       **out_ref,
                                 GError     **error)
{
  return request_parse (json, len, max_text_bytes, FALSE, out_ref, error);
}

