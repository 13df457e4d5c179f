/* gc-bench-wire.c: what gochat-bench puts on the wire and reads back
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-bench-wire.h"

#define REQUEST_HEAD "{\"type\":\"message\",\"text\":\""
#define REQUEST_MIDDLE "\",\"client_id\":\""
#define REQUEST_TAIL "\"}"
#define CLIENT_ID_MAX_LEN (5 + 1 + 8)

G_STATIC_ASSERT (GC_BENCH_MARKER_MAX_LEN <= GC_BENCH_MIN_TEXT_SIZE);

/* Lower-case hex without leading zeros; returns the digits written. */
static gsize
write_hex (char    *out,
           guint64  value)
{
  char digits[16];
  gsize n = 0;

  do
    {
      digits[n++] = "0123456789abcdef"[value & 0xf];
      value >>= 4;
    }
  while (value != 0);

  for (gsize i = 0; i < n; i++)
    out[i] = digits[n - 1 - i];

  return n;
}

static inline int
hex_digit_value (char c)
{
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  if (c >= 'A' && c <= 'F')
    return c - 'A' + 10;
  return -1;
}

/* Reads hex digits up to @stop; returns the position after @stop, or
 * %NULL if there are none, too many, or @stop is missing. */
static const char *
read_hex (const char *p,
          const char *end,
          char        stop,
          guint       max_digits,
          guint64    *out_value)
{
  guint64 value = 0;
  guint n = 0;

  for (; p < end && *p != stop; p++, n++)
    {
      int digit = hex_digit_value (*p);

      if (digit < 0 || n == max_digits)
        return NULL;
      value = (value << 4) | (guint) digit;
    }

  if (n == 0 || p == end)
    return NULL;

  *out_value = value;
  return p + 1;
}

void
gc_bench_text_format (char                *out,
                      gsize                size,
                      const GcBenchMarker *marker)
{
  static const char padding[] = "abcdefghijklmnopqrstuvwxyz";
  gsize pos = 0;

  g_return_if_fail (size >= GC_BENCH_MIN_TEXT_SIZE);
  g_return_if_fail (marker->client < GC_BENCH_MAX_CLIENTS);

  pos += write_hex (out + pos, marker->client);
  out[pos++] = '.';
  pos += write_hex (out + pos, marker->seq);
  out[pos++] = '.';
  pos += write_hex (out + pos, marker->sent_ns & G_GUINT64_CONSTANT (0xffffffffffffff));
  out[pos++] = '.';

  for (gsize i = 0; pos < size; i++)
    out[pos++] = padding[i % (sizeof padding - 1)];
}

gboolean
gc_bench_text_parse (const char    *text,
                     gsize          len,
                     GcBenchMarker *marker)
{
  const char *end = text + len;
  const char *p = text;
  guint64 client;
  guint64 seq;
  guint64 sent_ns;

  if ((p = read_hex (p, end, '.', 5, &client)) == NULL ||
      (p = read_hex (p, end, '.', 8, &seq)) == NULL ||
      (p = read_hex (p, end, '.', 14, &sent_ns)) == NULL ||
      client >= GC_BENCH_MAX_CLIENTS)
    return FALSE;

  marker->client = (guint32) client;
  marker->seq = (guint32) seq;
  marker->sent_ns = sent_ns;
  return TRUE;
}

gsize
gc_bench_request_max_size (gsize text_len)
{
  return strlen (REQUEST_HEAD) + text_len + strlen (REQUEST_MIDDLE) +
         CLIENT_ID_MAX_LEN + strlen (REQUEST_TAIL);
}

gsize
gc_bench_request_format (char       *out,
                         const char *text,
                         gsize       text_len,
                         guint32     client,
                         guint32     seq)
{
  gsize pos = 0;

  g_return_val_if_fail (client < GC_BENCH_MAX_CLIENTS, 0);

#define APPEND(s, n) G_STMT_START { memcpy (out + pos, (s), (n)); pos += (n); } G_STMT_END
  APPEND (REQUEST_HEAD, strlen (REQUEST_HEAD));
  APPEND (text, text_len);
  APPEND (REQUEST_MIDDLE, strlen (REQUEST_MIDDLE));
  pos += write_hex (out + pos, client);
  out[pos++] = '.';
  pos += write_hex (out + pos, seq);
  APPEND (REQUEST_TAIL, strlen (REQUEST_TAIL));
#undef APPEND

  return pos;
}

gboolean
gc_bench_client_id_parse (const char *client_id,
                          gsize       len,
                          guint32    *client,
                          guint32    *seq)
{
  const char *end = client_id + len;
  const char *p;
  guint64 client_value;
  guint64 seq_value = 0;
  gsize digits;

  p = read_hex (client_id, end, '.', 5, &client_value);
  if (p == NULL || client_value >= GC_BENCH_MAX_CLIENTS)
    return FALSE;

  /* The sequence number runs to the end. */
  digits = end - p;
  if (digits == 0 || digits > 8)
    return FALSE;
  for (; p < end; p++)
    {
      int digit = hex_digit_value (*p);

      if (digit < 0)
        return FALSE;
      seq_value = (seq_value << 4) | (guint) digit;
    }

  *client = (guint32) client_value;
  *seq = (guint32) seq_value;
  return TRUE;
}

/* JSON scanning ------------------------------------------------------------ */

static const char *
skip_space (const char *p,
            const char *end)
{
  while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
    p++;
  return p;
}

/* @p is at an opening quote; returns the position after the closing one,
 * or %NULL if the string does not end. */
static const char *
skip_string (const char *p,
             const char *end)
{
  const char *start = p + 1;

  /* memchr is vectorised; escaped quotes are rare. */
  for (p = start; p < end; p++)
    {
      const char *backslash;
      gsize n_backslashes = 0;

      p = memchr (p, '"', end - p);
      if (p == NULL)
        return NULL;

      /* The quote ends the string unless an odd number of backslashes
       * escapes it. */
      for (backslash = p - 1; backslash >= start && *backslash == '\\'; backslash--)
        n_backslashes++;
      if (n_backslashes % 2 == 0)
        return p + 1;
    }
  return NULL;
}

/* Skips one value of any kind; returns the position after it or %NULL.
 * Nested containers are matched bracket for bracket, strings skipped
 * whole, so that their contents never count as brackets. */
static const char *
skip_value (const char *p,
            const char *end)
{
  guint depth = 0;

  if (p >= end)
    return NULL;

  if (*p != '{' && *p != '[')
    {
      if (*p == '"')
        return skip_string (p, end);
      while (p < end && *p != ',' && *p != '}' && *p != ']' &&
             *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
        p++;
      return p;
    }

  while (p < end)
    {
      switch (*p)
        {
        case '"':
          p = skip_string (p, end);
          if (p == NULL)
            return NULL;
          continue;
        case '{':
        case '[':
          depth++;
          break;
        case '}':
        case ']':
          if (--depth == 0)
            return p + 1;
          break;
        default:
          break;
        }
      p++;
    }

  return NULL;
}

static gboolean
span_equals (const char *span,
             gsize       len,
             const char *literal)
{
  return len == strlen (literal) && memcmp (span, literal, len) == 0;
}

static GcBenchEventType
event_type (const char *type,
            gsize       type_len)
{
  if (span_equals (type, type_len, "message"))
    return GC_BENCH_EVENT_MESSAGE;
  if (span_equals (type, type_len, "welcome"))
    return GC_BENCH_EVENT_WELCOME;
  if (span_equals (type, type_len, "error"))
    return GC_BENCH_EVENT_ERROR;
  if (span_equals (type, type_len, "join"))
    return GC_BENCH_EVENT_JOIN;
  if (span_equals (type, type_len, "refused"))
    return GC_BENCH_EVENT_REFUSED;
  return GC_BENCH_EVENT_OTHER;
}

gboolean
gc_bench_event_scan (const char   *json,
                     gsize         len,
                     GcBenchEvent *event)
{
  const char *end = json + len;
  const char *p = skip_space (json, end);
  const char *type = NULL;
  gsize type_len = 0;

  memset (event, 0, sizeof *event);

  if (p >= end || *p != '{')
    return FALSE;
  p = skip_space (p + 1, end);
  if (p < end && *p == '}')
    return FALSE;

  while (p < end)
    {
      const char *key;
      gsize key_len;
      const char *value;
      const char *after;

      if (*p != '"' || (after = skip_string (p, end)) == NULL)
        return FALSE;
      key = p + 1;
      key_len = after - 1 - key;

      p = skip_space (after, end);
      if (p >= end || *p != ':')
        return FALSE;
      value = skip_space (p + 1, end);
      if ((after = skip_value (value, end)) == NULL || after == value)
        return FALSE;

      if (*value == '"')
        {
          const char *contents = value + 1;
          gsize contents_len = after - 1 - contents;

          if (span_equals (key, key_len, "type"))
            {
              type = contents;
              type_len = contents_len;
            }
          else if (span_equals (key, key_len, "text"))
            {
              event->text = contents;
              event->text_len = contents_len;
            }
          else if (span_equals (key, key_len, "code"))
            {
              event->code = contents;
              event->code_len = contents_len;
            }
          else if (span_equals (key, key_len, "ref"))
            {
              event->ref = contents;
              event->ref_len = contents_len;
            }
        }

      /* Every delivery is scanned: stop as soon as what this type of
       * event needs is in hand (an error's ref may come last). */
      if (type != NULL)
        {
          event->type = event_type (type, type_len);
          if (event->type == GC_BENCH_EVENT_WELCOME || event->type == GC_BENCH_EVENT_OTHER ||
              event->type == GC_BENCH_EVENT_JOIN || event->type == GC_BENCH_EVENT_REFUSED ||
              (event->type == GC_BENCH_EVENT_MESSAGE && event->text != NULL))
            return TRUE;
        }

      p = skip_space (after, end);
      if (p < end && *p == ',')
        {
          p = skip_space (p + 1, end);
          continue;
        }
      if (p < end && *p == '}')
        break;
      return FALSE;
    }

  return p < end && type != NULL;
}
