/* gc-protocol-parse.c: parsing and validation of requests (server side) and events (client side)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-protocol-private.h"

/* The code unit of the `\uXXXX` escape at @json[@i], or -1 if there is
 * none there. */
static int
read_u_escape (const char *json,
               gsize       len,
               gsize       i)
{
  int unit = 0;

  if (i + 6 > len || json[i] != '\\' || json[i + 1] != 'u')
    return -1;

  for (gsize j = i + 2; j < i + 6; j++)
    {
      if (!g_ascii_isxdigit (json[j]))
        return -1;
      unit = unit * 16 + g_ascii_xdigit_value (json[j]);
    }

  return unit;
}

/* What json-glib 1.6 cannot be trusted with, checked before it sees the
 * text: it recurses once per nesting level with no limit of its own (deep
 * input overflows the stack), it ends a string silently at `\u0000`, it
 * writes an unpaired high surrogate (`\uD83D` then other text) as invalid
 * UTF-8, and its GScanner accepts non-JSON such as 'strings', comments
 * and `\x41` escapes (which would also blind this scan to what is inside
 * a string). So: only JSON's escapes, no `\u0000`, surrogates only in
 * pairs, no bytes outside strings that JSON cannot have there, and at
 * most GC_PROTOCOL_MAX_JSON_DEPTH levels. Anything else malformed is
 * left for json-glib to report. */
static gboolean
check_json_text (const char  *json,
                 gsize        len,
                 const char  *what,
                 GError     **error)
{
  guint depth = 0;
  gboolean closed = FALSE;
  gsize i = 0;

  while (i < len)
    {
      guchar c = json[i++];

      /* json-glib reads the first value and drops the rest unseen. */
      if (closed && c != ' ' && c != '\t' && c != '\n' && c != '\r')
        {
          g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                       "%s is not valid JSON: more than one value", what);
          return FALSE;
        }

      if (c == '"')
        {
          while (i < len && json[i] != '"')
            {
              /* JSON forbids raw control characters in strings, though
               * json-glib's scanner takes them (and calls a NUL "not
               * UTF-8"). */
              if ((guchar) json[i] < 0x20)
                {
                  g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                               "%s is not valid JSON: a raw control character (byte 0x%02x) "
                               "in a string must be escaped", what, (guchar) json[i]);
                  return FALSE;
                }
              if (json[i] != '\\')
                {
                  i++;
                  continue;
                }

              if (i + 1 >= len)
                return TRUE;

              switch (json[i + 1])
                {
                case '"': case '\\': case '/':
                case 'b': case 'f': case 'n': case 'r': case 't':
                  i += 2;
                  break;

                case 'u':
                  {
                    int unit = read_u_escape (json, len, i);

                    if (unit == 0)
                      {
                        g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                                     "%s holds U+0000 (\\u0000), which is not supported", what);
                        return FALSE;
                      }
                    i += 6;
                    /* A high surrogate must pair with a low one; json-glib
                     * writes a lone one as invalid UTF-8. */
                    if (unit >= 0xD800 && unit <= 0xDBFF)
                      {
                        int low = read_u_escape (json, len, i);

                        if (low < 0xDC00 || low > 0xDFFF)
                          unit = -1;
                        i += 6;
                      }
                    else if (unit >= 0xDC00 && unit <= 0xDFFF)
                      unit = -1;

                    if (unit < 0)
                      {
                        g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                                     "%s is not valid JSON: bad \\u escape", what);
                        return FALSE;
                      }
                  }
                  break;

                default:
                  g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                               "%s is not valid JSON: bad escape in a string", what);
                  return FALSE;
                }
            }
          i++;
          continue;
        }

      switch (c)
        {
        case '{': case '[':
          if (++depth > GC_PROTOCOL_MAX_JSON_DEPTH)
            {
              g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                           "%s nests deeper than %d levels", what, GC_PROTOCOL_MAX_JSON_DEPTH);
              return FALSE;
            }
          break;

        case '}': case ']':
          if (depth > 0 && --depth == 0)
            closed = TRUE;
          break;

        case ' ': case '\t': case '\n': case '\r':
        case ',': case ':': case '-': case '+': case '.':
          break;

        default:
          if (!g_ascii_isalnum (c))
            {
              g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                           "%s is not valid JSON: unexpected byte 0x%02x", what, c);
              return FALSE;
            }
          break;
        }
    }

  return TRUE;
}

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

  if (!check_json_text (json, len, what, error))
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

typedef enum {
  FIELD_REQUIRED,
  FIELD_OPTIONAL,
} FieldPresence;

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

static gboolean
node_holds (JsonNode *node,
            GType     value_type)
{
  return JSON_NODE_HOLDS_VALUE (node) && json_node_get_value_type (node) == value_type;
}

static gboolean
wrong_type (const char  *name,
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
  if (!node_holds (node, G_TYPE_STRING))
    return wrong_type (name, "a string", error);

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
  if (!node_holds (node, G_TYPE_BOOLEAN))
    return wrong_type (name, "true or false", error);

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
  if (!node_holds (node, G_TYPE_INT64))
    return wrong_type (name, "an integer", error);

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
  if (node_holds (node, G_TYPE_INT64))
    *out = (double) json_node_get_int (node);
  else if (node_holds (node, G_TYPE_DOUBLE))
    *out = json_node_get_double (node);
  else
    return wrong_type (name, "a number", error);

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
    return wrong_type (name, "an object", error);

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
    return wrong_type (name, "an array", error);

  *out = json_node_get_array (node);
  return TRUE;
}

/* Requests */

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
      else if (node_holds (node, G_TYPE_STRING))
        {
          member->kind = MEMBER_STRING;
          member->string = g_strdup (json_node_get_string (node));
        }
      else if (node_holds (node, G_TYPE_BOOLEAN))
        {
          member->kind = MEMBER_BOOLEAN;
          member->boolean = json_node_get_boolean (node);
        }
      else
        member->kind = MEMBER_OTHER;
    }
}

/* The fast path. Requests are small flat objects, and json-glib spends
 * some 20,000 instructions on one (a scanner, a node tree, a hash table
 * per object): most of what the server does per message besides the
 * system calls. This reads a flat object of strings, booleans and nulls
 * itself and leaves anything else — numbers, nesting, escaped keys, a
 * repeated member, malformed JSON — to json-glib, so that both always
 * agree. It runs after check_json_text(), which has vetted every
 * escape. */

static gsize
skip_json_space (const char *json,
                 gsize       len,
                 gsize       i)
{
  while (i < len && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r'))
    i++;
  return i;
}

/* Decodes the string starting at the quote at @json[*@i] into @out (may
 * be %NULL: skip it) and moves *@i past its closing quote. */
static gboolean
scan_flat_string (const char *json,
                  gsize       len,
                  gsize      *i,
                  GString    *out)
{
  gsize pos = *i + 1;

  while (pos < len)
    {
      guchar c = json[pos];
      gunichar unit;

      if (c == '"')
        {
          *i = pos + 1;
          return TRUE;
        }
      if (c < 0x20)
        return FALSE;
      if (c != '\\')
        {
          gsize run = pos;

          while (pos < len && json[pos] != '"' && json[pos] != '\\' && (guchar) json[pos] >= 0x20)
            pos++;
          if (out != NULL)
            g_string_append_len (out, json + run, pos - run);
          continue;
        }

      if (pos + 1 >= len)
        return FALSE;
      switch (json[pos + 1])
        {
        case '"': case '\\': case '/':
          unit = json[pos + 1];
          pos += 2;
          break;
        case 'b': unit = '\b'; pos += 2; break;
        case 'f': unit = '\f'; pos += 2; break;
        case 'n': unit = '\n'; pos += 2; break;
        case 'r': unit = '\r'; pos += 2; break;
        case 't': unit = '\t'; pos += 2; break;
        case 'u':
          {
            int high = read_u_escape (json, len, pos);

            if (high <= 0 || (high >= 0xDC00 && high <= 0xDFFF))
              return FALSE;
            pos += 6;
            if (high >= 0xD800 && high <= 0xDBFF)
              {
                int low = read_u_escape (json, len, pos);

                if (low < 0xDC00 || low > 0xDFFF)
                  return FALSE;
                pos += 6;
                unit = 0x10000 + (((gunichar) high - 0xD800) << 10) + ((gunichar) low - 0xDC00);
              }
            else
              unit = (gunichar) high;
          }
          break;
        default:
          return FALSE;
        }
      if (out != NULL)
        g_string_append_unichar (out, unit);
    }

  return FALSE;
}

/* Whether @json[@i] starts @literal, ending there. */
static gboolean
scan_flat_literal (const char *json,
                   gsize       len,
                   gsize       i,
                   const char *literal)
{
  gsize n = strlen (literal);

  return i + n <= len && memcmp (json + i, literal, n) == 0 &&
         (i + n == len || strchr (" \t\n\r,}", json[i + n]) != NULL);
}

static gboolean
scan_flat_request (const char     *json,
                   gsize           len,
                   RequestMembers *members)
{
  gsize i;

  /* json-glib refuses what is not UTF-8; let it say so. */
  if (!g_utf8_validate_len (json, len, NULL))
    return FALSE;

  i = skip_json_space (json, len, 0);
  if (i >= len || json[i] != '{')
    return FALSE;
  i = skip_json_space (json, len, i + 1);
  if (i < len && json[i] == '}')
    i++;
  else
    {
      while (TRUE)
        {
          gsize key;
          gsize key_len;
          int member_index;
          RequestMember *member = NULL;

          if (i >= len || json[i] != '"')
            goto fallback;
          key = ++i;
          while (i < len && json[i] != '"' && json[i] != '\\' && (guchar) json[i] >= 0x20)
            i++;
          if (i >= len || json[i] != '"')
            goto fallback;
          key_len = i - key;
          i = skip_json_space (json, len, i + 1);
          if (i >= len || json[i] != ':')
            goto fallback;
          i = skip_json_space (json, len, i + 1);

          member_index = request_member_index (json + key, key_len);
          if (member_index >= 0)
            {
              member = &members->members[member_index];
              if (member->kind != MEMBER_ABSENT)
                goto fallback;
            }

          if (i < len && json[i] == '"')
            {
              g_autoptr(GString) value = member != NULL ? g_string_new (NULL) : NULL;

              if (!scan_flat_string (json, len, &i, value))
                goto fallback;
              if (member != NULL)
                {
                  member->kind = MEMBER_STRING;
                  member->string = g_string_free (g_steal_pointer (&value), FALSE);
                }
            }
          else if (scan_flat_literal (json, len, i, "true") ||
                   scan_flat_literal (json, len, i, "false"))
            {
              if (member != NULL)
                {
                  member->kind = MEMBER_BOOLEAN;
                  member->boolean = json[i] == 't';
                }
              i += json[i] == 't' ? 4 : 5;
            }
          else if (scan_flat_literal (json, len, i, "null"))
            {
              if (member != NULL)
                member->kind = MEMBER_OTHER;
              i += 4;
            }
          else
            goto fallback;

          i = skip_json_space (json, len, i);
          if (i < len && json[i] == ',')
            {
              i = skip_json_space (json, len, i + 1);
              continue;
            }
          if (i < len && json[i] == '}')
            {
              i++;
              break;
            }
          goto fallback;
        }
    }

  if (skip_json_space (json, len, i) == len)
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
      if (!check_json_text (json, len, "request", error))
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
    return wrong_type (request_member_names[index], "a string", error);

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
    return wrong_type (request_member_names[index], "true or false", error);

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
    return wrong_type ("kind", "\"text\" or \"emote\"", error);

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
      wrong_type ("kind", "\"text\" or \"emote\"", error);
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
          return wrong_type ("reason", "a known leave reason", error);
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
