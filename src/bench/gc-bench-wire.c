/* gc-bench-wire.c: what gochat-bench puts on the wire and reads back
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-bench-wire.h"
#include "gc-json-scan.h"
#include "gc-protocol.h"

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
  static gsize overhead;

  /* What the builder writes around an empty text and client_id. */
  if (overhead == 0)
    {
      g_autoptr(GString) empty = g_string_new (NULL);

      gc_request_append_message (empty, "", 0, GC_MESSAGE_KIND_TEXT, "");
      overhead = empty->len;
    }

  return overhead + text_len + CLIENT_ID_MAX_LEN;
}

void
gc_bench_request_append (GString    *out,
                         const char *text,
                         gsize       text_len,
                         guint32     client,
                         guint32     seq)
{
  char client_id[CLIENT_ID_MAX_LEN + 1];
  gsize n;

  g_return_if_fail (client < GC_BENCH_MAX_CLIENTS);

  n = write_hex (client_id, client);
  client_id[n++] = '.';
  n += write_hex (client_id + n, seq);
  client_id[n] = '\0';

  gc_request_append_message (out, text, text_len, GC_MESSAGE_KIND_TEXT, client_id);
}

gsize
gc_bench_request_format (char       *out,
                         const char *text,
                         gsize       text_len,
                         guint32     client,
                         guint32     seq)
{
  g_autoptr(GString) request = g_string_sized_new (gc_bench_request_max_size (text_len));

  gc_bench_request_append (request, text, text_len, client, seq);
  g_return_val_if_fail (request->len <= gc_bench_request_max_size (text_len), 0);
  memcpy (out, request->str, request->len);

  return request->len;
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

/* Event scanning ------------------------------------------------------------ */

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
  GcJsonObjectScan scan;
  const char *type = NULL;
  gsize type_len = 0;
  const char *key;
  gsize key_len;

  memset (event, 0, sizeof *event);

  if (!gc_json_object_scan_begin (&scan, json, len))
    return FALSE;

  while (gc_json_object_scan_next (&scan, &key, &key_len))
    {
      const char *contents;
      gsize contents_len;

      if (span_equals (key, key_len, "id"))
        {
          /* A number; anything else (a string id) is left as 0. */
          if (!gc_json_object_scan_uint64 (&scan, &event->id) && scan.failed)
            return FALSE;
          continue;
        }

      /* Other values are skipped by the next call. */
      if (!gc_json_object_scan_raw_string (&scan, &contents, &contents_len))
        {
          if (scan.failed)
            return FALSE;
          continue;
        }

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

      /* Every delivery is scanned: stop as soon as what this type of
       * event needs is in hand (an error's ref may come last). */
      if (type != NULL)
        {
          event->type = event_type (type, type_len);
          if (event->type == GC_BENCH_EVENT_WELCOME || event->type == GC_BENCH_EVENT_OTHER ||
              event->type == GC_BENCH_EVENT_JOIN || event->type == GC_BENCH_EVENT_REFUSED ||
              (event->type == GC_BENCH_EVENT_MESSAGE && event->text != NULL && event->id != 0))
            return TRUE;
        }
    }

  return !scan.failed && type != NULL;
}
