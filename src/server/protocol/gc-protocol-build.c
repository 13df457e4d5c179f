/* gc-protocol-build.c: compact JSON writers for requests, events and refusals
 *
 * Hand-written rather than JsonBuilder + JsonGenerator: a message event
 * is built once per chat message on the server's hot path, and this
 * writes it in one pass into one buffer that becomes the GBytes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include "gc-protocol-private.h"

#define APPEND_LITERAL(out, lit) g_string_append_len ((out), "" lit "", sizeof (lit) - 1)
/* `,"key":` — every object here starts with a member written without it. */
#define APPEND_KEY(out, key) APPEND_LITERAL ((out), ",\"" key "\":")

static const char hex_digits[] = "0123456789abcdef";

/* Length of the valid UTF-8 sequence at @p (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF), or 0 if it is not one. */
static gsize
utf8_sequence_length (const guchar *p,
                      gsize         avail)
{
  guchar lo = 0x80;
  guchar hi = 0xBF;
  gsize n;

  if (p[0] >= 0xC2 && p[0] <= 0xDF)
    n = 2;
  else if (p[0] >= 0xE0 && p[0] <= 0xEF)
    {
      n = 3;
      if (p[0] == 0xE0)
        lo = 0xA0;
      else if (p[0] == 0xED)
        hi = 0x9F;
    }
  else if (p[0] >= 0xF0 && p[0] <= 0xF4)
    {
      n = 4;
      if (p[0] == 0xF0)
        lo = 0x90;
      else if (p[0] == 0xF4)
        hi = 0x8F;
    }
  else
    return 0;

  if (avail < n || p[1] < lo || p[1] > hi)
    return 0;
  for (gsize i = 2; i < n; i++)
    {
      if (p[i] < 0x80 || p[i] > 0xBF)
        return 0;
    }

  return n;
}

void
gc_protocol_append_json_string (GString    *out,
                                const char *str,
                                gssize      len)
{
  const guchar *p;
  const guchar *end;
  const guchar *run;

  g_return_if_fail (out != NULL);
  g_return_if_fail (str != NULL || len == 0);

  if (str == NULL)
    str = "";
  if (len < 0)
    len = strlen (str);

  p = (const guchar *) str;
  end = p + len;
  run = p;

  g_string_append_c (out, '"');

  while (p < end)
    {
      guchar c = *p;

      if (G_LIKELY (c >= 0x20 && c < 0x80 && c != '"' && c != '\\'))
        {
          p++;
          continue;
        }

      if (c >= 0x80)
        {
          gsize n = utf8_sequence_length (p, end - p);

          /* U+2028/U+2029 are valid JSON but end a line in JavaScript
           * string literals before ES2019: escape them for old clients. */
          if (n > 0 && !(n == 3 && p[0] == 0xE2 && p[1] == 0x80 &&
                         (p[2] == 0xA8 || p[2] == 0xA9)))
            {
              p += n;
              continue;
            }

          g_string_append_len (out, (const char *) run, p - run);
          if (n == 0)
            {
              APPEND_LITERAL (out, "\xEF\xBF\xBD");
              p++;
            }
          else
            {
              g_string_append (out, p[2] == 0xA8 ? "\\u2028" : "\\u2029");
              p += n;
            }
          run = p;
          continue;
        }

      g_string_append_len (out, (const char *) run, p - run);
      switch (c)
        {
        case '"':  APPEND_LITERAL (out, "\\\""); break;
        case '\\': APPEND_LITERAL (out, "\\\\"); break;
        case '\b': APPEND_LITERAL (out, "\\b"); break;
        case '\f': APPEND_LITERAL (out, "\\f"); break;
        case '\n': APPEND_LITERAL (out, "\\n"); break;
        case '\r': APPEND_LITERAL (out, "\\r"); break;
        case '\t': APPEND_LITERAL (out, "\\t"); break;
        default:
          {
            char esc[6] = { '\\', 'u', '0', '0', hex_digits[c >> 4], hex_digits[c & 0xF] };

            g_string_append_len (out, esc, sizeof esc);
          }
          break;
        }
      p++;
      run = p;
    }

  g_string_append_len (out, (const char *) run, p - run);
  g_string_append_c (out, '"');
}

/* Writes @value's decimal digits at @p; returns the end. */
static char *
put_uint64 (char    *p,
            guint64  value)
{
  /* Two digits a division: a node of a cluster writes two numbers of 13
   * to 16 digits into every message it receives. */
  static const char pairs[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";
  char buf[20];
  char *q = buf + sizeof buf;

  while (value >= 100)
    {
      q -= 2;
      memcpy (q, pairs + 2 * (value % 100), 2);
      value /= 100;
    }
  if (value >= 10)
    {
      q -= 2;
      memcpy (q, pairs + 2 * value, 2);
    }
  else
    *--q = (char) ('0' + value);
  memcpy (p, q, buf + sizeof buf - q);
  return p + (buf + sizeof buf - q);
}

static void
append_uint64 (GString *out,
               guint64  value)
{
  char buf[20];

  g_string_append_len (out, buf, put_uint64 (buf, value) - buf);
}

static void
append_int64 (GString *out,
              gint64   value)
{
  if (value < 0)
    {
      g_string_append_c (out, '-');
      append_uint64 (out, - (guint64) value);
    }
  else
    append_uint64 (out, value);
}

/* The shortest text that reads back as @value; integral values as
 * integers ("5", not "5.0"). @value must be finite. */
static void
append_double (GString *out,
               double   value)
{
  char buf[G_ASCII_DTOSTR_BUF_SIZE];

  if (value == floor (value) && fabs (value) < 1e15)
    {
      append_int64 (out, (gint64) value);
      return;
    }

  for (int precision = 15; precision <= 17; precision++)
    {
      char format[8];

      g_snprintf (format, sizeof format, "%%.%dg", precision);
      g_ascii_formatd (buf, sizeof buf, format, value);
      if (g_ascii_strtod (buf, NULL) == value)
        break;
    }

  g_string_append (out, buf);
}

static void
append_bool (GString  *out,
             gboolean  value)
{
  if (value)
    APPEND_LITERAL (out, "true");
  else
    APPEND_LITERAL (out, "false");
}

static void
append_user (GString      *out,
             const GcUser *user)
{
  APPEND_LITERAL (out, "{\"id\":");
  gc_protocol_append_json_string (out, user->id, -1);
  APPEND_KEY (out, "name");
  gc_protocol_append_json_string (out, user->name, -1);
  g_string_append_c (out, '}');
}

static GString *
object_begin (const char *type,
              gsize       reserve)
{
  GString *out = g_string_sized_new (reserve);

  APPEND_LITERAL (out, "{\"type\":\"");
  g_string_append (out, type);
  g_string_append_c (out, '"');

  return out;
}

static GBytes *
event_end (GString *out)
{
  g_string_append_c (out, '}');
  return g_string_free_to_bytes (out);
}

static gboolean
user_is_valid (const GcUser *user)
{
  return user != NULL && user->id != NULL && user->name != NULL;
}

void
gc_protocol_append_user (GString      *out,
                         const GcUser *user)
{
  g_return_if_fail (out != NULL);
  g_return_if_fail (user_is_valid (user));

  append_user (out, user);
}

/* Requests */

void
gc_request_append_message (GString       *out,
                           const char    *text,
                           gssize         text_len,
                           GcMessageKind  kind,
                           const char    *client_id)
{
  g_return_if_fail (out != NULL);
  g_return_if_fail (text != NULL || text_len == 0);
  g_return_if_fail (kind == GC_MESSAGE_KIND_TEXT || kind == GC_MESSAGE_KIND_EMOTE);

  APPEND_LITERAL (out, "{\"type\":\"message\",\"text\":");
  gc_protocol_append_json_string (out, text, text_len);
  if (kind == GC_MESSAGE_KIND_TEXT)
    APPEND_LITERAL (out, ",\"kind\":\"text\"");
  else
    APPEND_LITERAL (out, ",\"kind\":\"emote\"");
  if (client_id != NULL)
    {
      APPEND_KEY (out, "client_id");
      gc_protocol_append_json_string (out, client_id, -1);
    }
  g_string_append_c (out, '}');
}

char *
gc_request_build_message (const char    *text,
                          GcMessageKind  kind,
                          const char    *client_id)
{
  GString *out;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (kind == GC_MESSAGE_KIND_TEXT || kind == GC_MESSAGE_KIND_EMOTE, NULL);

  out = g_string_sized_new (strlen (text) + 64);
  gc_request_append_message (out, text, -1, kind, client_id);

  return g_string_free (out, FALSE);
}

char *
gc_request_build_typing (gboolean active)
{
  GString *out = object_begin ("typing", 40);

  APPEND_KEY (out, "active");
  append_bool (out, active);
  g_string_append_c (out, '}');

  return g_string_free (out, FALSE);
}

char *
gc_request_build_rename (const char *name)
{
  GString *out;

  g_return_val_if_fail (name != NULL, NULL);

  out = object_begin ("rename", strlen (name) + 32);
  APPEND_KEY (out, "name");
  gc_protocol_append_json_string (out, name, -1);
  g_string_append_c (out, '}');

  return g_string_free (out, FALSE);
}

/* Events */

GBytes *
gc_event_build_welcome (const GcWelcomeParams *params)
{
  GString *out;
  gsize reserve = 512;

  g_return_val_if_fail (params != NULL, NULL);
  g_return_val_if_fail (params->server_name != NULL, NULL);
  g_return_val_if_fail (params->server_version != NULL, NULL);
  g_return_val_if_fail (params->room != NULL, NULL);
  g_return_val_if_fail (user_is_valid (params->you), NULL);
  g_return_val_if_fail (params->session_id != NULL, NULL);
  g_return_val_if_fail (params->members != NULL, NULL);
  g_return_val_if_fail (params->limits != NULL, NULL);
  g_return_val_if_fail (isfinite (params->limits->rate_per_s), NULL);

  for (guint i = 0; i < params->members->len; i++)
    g_return_val_if_fail (user_is_valid (g_ptr_array_index (params->members, i)), NULL);

  reserve += params->members_json != NULL ? params->members_json_len
                                          : params->members->len * 64;
  if (params->history != NULL)
    {
      for (guint i = 0; i < params->history->len; i++)
        reserve += g_bytes_get_size (g_ptr_array_index (params->history, i)) + 1;
    }

  out = object_begin ("welcome", reserve);

  APPEND_KEY (out, "protocol");
  append_uint64 (out, GC_PROTOCOL_VERSION);

  APPEND_KEY (out, "server");
  APPEND_LITERAL (out, "{\"name\":");
  gc_protocol_append_json_string (out, params->server_name, -1);
  APPEND_KEY (out, "version");
  gc_protocol_append_json_string (out, params->server_version, -1);
  g_string_append_c (out, '}');

  APPEND_KEY (out, "room");
  gc_protocol_append_json_string (out, params->room, -1);
  APPEND_KEY (out, "you");
  append_user (out, params->you);
  APPEND_KEY (out, "session_id");
  gc_protocol_append_json_string (out, params->session_id, -1);
  APPEND_KEY (out, "resume_s");
  append_uint64 (out, params->resume_s);
  APPEND_KEY (out, "resumed");
  append_bool (out, params->resumed);

  APPEND_KEY (out, "members");
  g_string_append_c (out, '[');
  if (params->members_json != NULL)
    g_string_append_len (out, params->members_json, params->members_json_len);
  for (guint i = 0; params->members_json == NULL && i < params->members->len; i++)
    {
      if (i > 0)
        g_string_append_c (out, ',');
      append_user (out, g_ptr_array_index (params->members, i));
    }
  g_string_append_c (out, ']');

  /* The very bytes that were broadcast: no re-serialisation. */
  APPEND_KEY (out, "history");
  g_string_append_c (out, '[');
  for (guint i = 0; params->history != NULL && i < params->history->len; i++)
    {
      GBytes *message = g_ptr_array_index (params->history, i);
      gsize size;
      const char *data = g_bytes_get_data (message, &size);

      if (i > 0)
        g_string_append_c (out, ',');
      g_string_append_len (out, data, size);
    }
  g_string_append_c (out, ']');

  APPEND_KEY (out, "limits");
  APPEND_LITERAL (out, "{\"max_text_bytes\":");
  append_uint64 (out, params->limits->max_text_bytes);
  APPEND_KEY (out, "max_message_bytes");
  append_uint64 (out, params->limits->max_message_bytes);
  APPEND_KEY (out, "rate_burst");
  append_uint64 (out, params->limits->rate_burst);
  APPEND_KEY (out, "rate_per_s");
  append_double (out, params->limits->rate_per_s);
  g_string_append_c (out, '}');

  return event_end (out);
}

/* A message event after its "ts" value: what every copy of it shares
 * whatever its id and ts (gc_event_message_tail()). */
G_ALWAYS_INLINE static inline void
append_message_tail (GString       *out,
                     const GcUser  *from,
                     GcMessageKind  kind,
                     const char    *text,
                     const char    *client_id)
{
  APPEND_KEY (out, "from");
  append_user (out, from);
  APPEND_KEY (out, "kind");
  gc_protocol_append_json_string (out, gc_message_kind_to_string (kind), -1);
  APPEND_KEY (out, "text");
  gc_protocol_append_json_string (out, text, -1);
  if (client_id != NULL)
    {
      APPEND_KEY (out, "client_id");
      gc_protocol_append_json_string (out, client_id, -1);
    }
  g_string_append_c (out, '}');
}

G_ALWAYS_INLINE static inline gsize
message_reserve (const GcUser *from,
                 const char   *text,
                 const char   *client_id)
{
  /* Most text needs no escaping; leave room for a little. */
  gsize reserve = 128 + strlen (text) + strlen (text) / 8 + strlen (from->id) + strlen (from->name);

  if (client_id != NULL)
    reserve += strlen (client_id) + 16;
  return reserve;
}

GBytes *
gc_event_build_message (guint64        id,
                        gint64         ts,
                        const GcUser  *from,
                        GcMessageKind  kind,
                        const char    *text,
                        const char    *client_id)
{
  GString *out;

  g_return_val_if_fail (id > 0, NULL);
  g_return_val_if_fail (user_is_valid (from), NULL);
  g_return_val_if_fail (kind == GC_MESSAGE_KIND_TEXT || kind == GC_MESSAGE_KIND_EMOTE, NULL);
  g_return_val_if_fail (text != NULL, NULL);

  out = object_begin ("message", message_reserve (from, text, client_id));
  APPEND_KEY (out, "id");
  append_uint64 (out, id);
  APPEND_KEY (out, "ts");
  append_int64 (out, ts);
  append_message_tail (out, from, kind, text, client_id);

  return g_string_free_to_bytes (out);
}

char *
gc_event_message_tail (const GcUser  *from,
                       GcMessageKind  kind,
                       const char    *text,
                       const char    *client_id,
                       gsize         *length)
{
  GString *out;

  g_return_val_if_fail (user_is_valid (from), NULL);
  g_return_val_if_fail (kind == GC_MESSAGE_KIND_TEXT || kind == GC_MESSAGE_KIND_EMOTE, NULL);
  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (length != NULL, NULL);

  out = g_string_sized_new (message_reserve (from, text, client_id));
  append_message_tail (out, from, kind, text, client_id);
  *length = out->len;
  return g_string_free (out, FALSE);
}

gboolean
gc_event_message_tail_is_readable (const char *tail,
                                   gsize       tail_len)
{
  static const char from[] = ",\"from\":";

  g_return_val_if_fail (tail != NULL || tail_len == 0, FALSE);

  return tail_len > sizeof from - 1 && memcmp (tail, from, sizeof from - 1) == 0 &&
         tail[tail_len - 1] == '}' && gc_protocol_utf8_validate (tail, tail_len);
}

static const char message_head[] = "{\"type\":\"message\",\"id\":";

/* A message event up to its tail: {"type":"message","id":ID,"ts":TS.
 * Sets *@id_end to the offset after the id's digits. */
static char *
put_message_head (char    *out,
                  guint64  id,
                  gint64   ts,
                  gsize   *id_end)
{
  char *p = out;

  memcpy (p, message_head, sizeof message_head - 1);
  p += sizeof message_head - 1;
  p = put_uint64 (p, id);
  *id_end = p - out;
  memcpy (p, ",\"ts\":", 6);
  p += 6;
  if (ts < 0)
    *p++ = '-';
  return put_uint64 (p, ts < 0 ? - (guint64) ts : (guint64) ts);
}

char *
gc_event_write_message_from_tail (char       *out,
                                  guint64     id,
                                  gint64      ts,
                                  const char *tail,
                                  gsize       tail_len)
{
  char *p;
  gsize id_end;

  g_return_val_if_fail (out != NULL, NULL);
  g_return_val_if_fail (id > 0, NULL);
  g_return_val_if_fail (tail != NULL && tail_len > 0 && tail[tail_len - 1] == '}', NULL);

  p = put_message_head (out, id, ts, &id_end);
  memcpy (p, tail, tail_len);
  p += tail_len;
  g_assert ((gsize) (p - out) <= GC_EVENT_MESSAGE_FROM_TAIL_MAX (tail_len));
  return p;
}

/* Counts the head's id up by one in place; FALSE if it gains a digit. */
static gboolean
message_head_count_up (GcEventMessageHead *head)
{
  char *first = head->text + sizeof message_head - 1;

  for (char *d = head->text + head->id_end - 1; d >= first; d--)
    {
      if (*d != '9')
        {
          (*d)++;
          return TRUE;
        }
      *d = '0';
    }
  return FALSE;
}

char *
gc_event_write_message_from_tail_after (GcEventMessageHead *head,
                                        char               *out,
                                        guint64             id,
                                        gint64              ts,
                                        const char         *tail,
                                        gsize               tail_len)
{
  g_return_val_if_fail (head != NULL, NULL);
  g_return_val_if_fail (out != NULL, NULL);
  g_return_val_if_fail (id > 0, NULL);
  g_return_val_if_fail (tail != NULL && tail_len > 0 && tail[tail_len - 1] == '}', NULL);

  /* A batch's messages: consecutive ids at one time. */
  if (head->length == 0 || ts != head->ts || id != head->id + 1 || !message_head_count_up (head))
    {
      gsize id_end;

      head->length = put_message_head (head->text, id, ts, &id_end) - head->text;
      head->id_end = id_end;
      head->ts = ts;
    }
  head->id = id;
  memcpy (out, head->text, head->length);
  memcpy (out + head->length, tail, tail_len);
  return out + head->length + tail_len;
}

GBytes *
gc_event_build_message_from_tail (guint64     id,
                                  gint64      ts,
                                  const char *tail,
                                  gsize       tail_len)
{
  char *data, *end;

  g_return_val_if_fail (tail != NULL, NULL);

  /* One allocation, no GString. */
  data = g_malloc (GC_EVENT_MESSAGE_FROM_TAIL_MAX (tail_len));
  end = gc_event_write_message_from_tail (data, id, ts, tail, tail_len);
  if (end == NULL)
    {
      g_free (data);
      return NULL;
    }
  return g_bytes_new_take (data, end - data);
}

GBytes *
gc_event_build_join (const GcUser *user,
                     gint64        ts)
{
  GString *out;

  g_return_val_if_fail (user_is_valid (user), NULL);

  out = object_begin ("join", 96);
  APPEND_KEY (out, "user");
  append_user (out, user);
  APPEND_KEY (out, "ts");
  append_int64 (out, ts);

  return event_end (out);
}

GBytes *
gc_event_build_leave (const GcUser  *user,
                      GcLeaveReason  reason,
                      gint64         ts)
{
  GString *out;

  g_return_val_if_fail (user_is_valid (user), NULL);
  g_return_val_if_fail ((guint) reason <= GC_LEAVE_REASON_ERROR, NULL);

  out = object_begin ("leave", 112);
  APPEND_KEY (out, "user");
  append_user (out, user);
  APPEND_KEY (out, "reason");
  gc_protocol_append_json_string (out, gc_leave_reason_to_string (reason), -1);
  APPEND_KEY (out, "ts");
  append_int64 (out, ts);

  return event_end (out);
}

GBytes *
gc_event_build_rename (const GcUser *user,
                       const char   *old_name,
                       gint64        ts)
{
  GString *out;

  g_return_val_if_fail (user_is_valid (user), NULL);
  g_return_val_if_fail (old_name != NULL, NULL);

  out = object_begin ("rename", 128);
  APPEND_KEY (out, "user");
  append_user (out, user);
  APPEND_KEY (out, "old_name");
  gc_protocol_append_json_string (out, old_name, -1);
  APPEND_KEY (out, "ts");
  append_int64 (out, ts);

  return event_end (out);
}

GBytes *
gc_event_build_typing (const GcUser *user,
                       gboolean      active)
{
  GString *out;

  g_return_val_if_fail (user_is_valid (user), NULL);

  out = object_begin ("typing", 96);
  APPEND_KEY (out, "user");
  append_user (out, user);
  APPEND_KEY (out, "active");
  append_bool (out, active);

  return event_end (out);
}

GBytes *
gc_event_build_error (GcProtocolError  code,
                      const char      *message,
                      const char      *ref,
                      guint64          retry_after_ms)
{
  const char *code_str = gc_protocol_error_to_string (code);
  GString *out;

  g_return_val_if_fail (code_str != NULL, NULL);
  g_return_val_if_fail (message != NULL, NULL);

  out = object_begin ("error", 128 + strlen (message));
  APPEND_KEY (out, "code");
  gc_protocol_append_json_string (out, code_str, -1);
  APPEND_KEY (out, "message");
  gc_protocol_append_json_string (out, message, -1);
  if (ref != NULL)
    {
      APPEND_KEY (out, "ref");
      gc_protocol_append_json_string (out, ref, -1);
    }
  if (code == GC_PROTOCOL_ERROR_RATE_LIMITED || code == GC_PROTOCOL_ERROR_UNAVAILABLE)
    {
      APPEND_KEY (out, "retry_after_ms");
      append_uint64 (out, retry_after_ms);
    }

  return event_end (out);
}

GBytes *
gc_event_build_error_from_gerror (const GError *error,
                                  const char   *ref,
                                  guint64       retry_after_ms)
{
  g_return_val_if_fail (error != NULL, NULL);
  g_return_val_if_fail (error->domain == GC_PROTOCOL_ERROR, NULL);

  return gc_event_build_error (error->code, error->message, ref, retry_after_ms);
}

void
gc_protocol_append_refusal_members (GString         *out,
                                    GcProtocolError  code,
                                    const char      *message,
                                    const char      *suggestion,
                                    guint64          retry_after_ms)
{
  const char *code_str = gc_protocol_error_to_string (code);

  g_return_if_fail (out != NULL);
  g_return_if_fail (code_str != NULL);
  g_return_if_fail (message != NULL);

  APPEND_LITERAL (out, "\"error\":");
  gc_protocol_append_json_string (out, code_str, -1);
  APPEND_KEY (out, "message");
  gc_protocol_append_json_string (out, message, -1);
  if (code == GC_PROTOCOL_ERROR_NAME_TAKEN && suggestion != NULL)
    {
      APPEND_KEY (out, "suggestion");
      gc_protocol_append_json_string (out, suggestion, -1);
    }
  if (code == GC_PROTOCOL_ERROR_RATE_LIMITED || code == GC_PROTOCOL_ERROR_UNAVAILABLE)
    {
      APPEND_KEY (out, "retry_after_ms");
      append_uint64 (out, retry_after_ms);
    }
}

GBytes *
gc_protocol_build_refusal (GcProtocolError  code,
                           const char      *message,
                           const char      *suggestion,
                           guint64          retry_after_ms)
{
  GString *out;

  g_return_val_if_fail (gc_protocol_error_to_string (code) != NULL, NULL);
  g_return_val_if_fail (message != NULL, NULL);

  out = g_string_sized_new (128 + strlen (message));
  g_string_append_c (out, '{');
  gc_protocol_append_refusal_members (out, code, message, suggestion, retry_after_ms);

  return event_end (out);
}

GBytes *
gc_event_build_refused (GcProtocolError  code,
                        const char      *message,
                        const char      *suggestion,
                        guint64          retry_after_ms)
{
  GString *out;

  g_return_val_if_fail (gc_protocol_error_to_string (code) != NULL, NULL);
  g_return_val_if_fail (message != NULL, NULL);

  out = object_begin ("refused", 128 + strlen (message));
  g_string_append_c (out, ',');
  gc_protocol_append_refusal_members (out, code, message, suggestion, retry_after_ms);

  return event_end (out);
}

gushort
gc_protocol_refusal_close_code (GcProtocolError code)
{
  return (gushort) (4000 + gc_protocol_error_http_status (code));
}
