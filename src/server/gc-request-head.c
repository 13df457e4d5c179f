/* gc-request-head.c: what an HTTP request head must be before libsoup sees it
 *
 * libsoup 3.2 is lenient (header lines without a colon, whitespace
 * before it) and, for a Transfer-Encoding it does not know, answers 501
 * and leaks the request's path: a remote memory leak that needs no join.
 * So we read each request head first and let libsoup parse only heads
 * that are plainly valid and ask for no body; the rest get an answer from
 * us. RFC 9112 §§3, 5, 6.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-request-head.h"

/* RFC 9110 §5.6.2 tchar. */
static gboolean
is_tchar (guchar c)
{
  return g_ascii_isalnum (c) || (c != '\0' && strchr ("!#$%&'*+-.^_`|~", c) != NULL);
}

/* Field values: visible characters, spaces, tabs and obs-text. */
static gboolean
is_field_value_char (guchar c)
{
  return c == '\t' || (c >= 0x20 && c != 0x7f);
}

/* The line starting at @start: its content ends at *@out_end (a CR
 * before the LF excluded), the next line starts at *@out_next. FALSE if
 * no LF is in [@start, @limit). */
static gboolean
next_line (const char  *start,
           const char  *limit,
           const char **out_end,
           const char **out_next)
{
  const char *lf = memchr (start, '\n', limit - start);

  if (lf == NULL)
    return FALSE;

  *out_next = lf + 1;
  *out_end = (lf > start && lf[-1] == '\r') ? lf - 1 : lf;

  return TRUE;
}

static gboolean
request_line_is_valid (const char *line,
                       const char *end,
                       gboolean   *out_is_head_method,
                       gboolean   *out_version_ok)
{
  const char *p = line;
  const char *method_end;
  const char *target;

  while (p < end && is_tchar (*p))
    p++;
  if (p == line || p == end || *p != ' ')
    return FALSE;
  method_end = p;
  *out_is_head_method = (method_end - line == 4 && memcmp (line, "HEAD", 4) == 0);

  target = ++p;
  while (p < end && (guchar) *p > 0x20 && *p != 0x7f)
    p++;
  if (p == target || p == end || *p != ' ')
    return FALSE;
  p++;

  /* HTTP-version = "HTTP/" DIGIT "." DIGIT */
  if (end - p != 8 || memcmp (p, "HTTP/", 5) != 0 ||
      !g_ascii_isdigit (p[5]) || p[6] != '.' || !g_ascii_isdigit (p[7]))
    return FALSE;
  *out_version_ok = p[5] == '1';

  return TRUE;
}

static GcRequestHeadResult
refuse (guint        status,
        const char  *reason,
        guint       *out_status,
        const char **out_reason)
{
  *out_status = status;
  *out_reason = reason;

  return GC_REQUEST_HEAD_REFUSED;
}

GcRequestHeadResult
gc_request_head_check (const char  *data,
                       gsize        len,
                       gsize       *out_head_len,
                       guint       *out_status,
                       const char **out_reason,
                       gboolean    *out_is_head_method)
{
  const char *limit = data + MIN (len, GC_REQUEST_HEAD_MAX_BYTES);
  const char *line = data;
  const char *end;
  const char *next;
  gboolean version_ok = TRUE;
  gboolean has_length = FALSE;
  guint64 length = 0;

  g_return_val_if_fail (data != NULL || len == 0, GC_REQUEST_HEAD_INCOMPLETE);

  *out_is_head_method = FALSE;

  if (!next_line (line, limit, &end, &next))
    {
      if (len >= GC_REQUEST_HEAD_MAX_BYTES)
        return refuse (414, "The request line is too long", out_status, out_reason);
      return GC_REQUEST_HEAD_INCOMPLETE;
    }
  if (!request_line_is_valid (line, end, out_is_head_method, &version_ok))
    return refuse (400, "Malformed request line", out_status, out_reason);
  if (!version_ok)
    return refuse (505, "Only HTTP/1 is supported", out_status, out_reason);

  for (line = next; next_line (line, limit, &end, &next); line = next)
    {
      const char *colon;
      const char *value;
      gsize name_len;

      if (line == end)
        {
          if (has_length && length > 0)
            return refuse (400, "Requests with a body are not accepted", out_status, out_reason);
          *out_head_len = next - data;
          return GC_REQUEST_HEAD_VALID;
        }

      /* A field name is a token right before its colon: no line without
       * one, no whitespace before it, no folded continuation line. */
      for (colon = line; colon < end && is_tchar (*colon); colon++)
        ;
      if (colon == line || colon == end || *colon != ':')
        return refuse (400, "Malformed header line", out_status, out_reason);
      for (value = colon + 1; value < end; value++)
        {
          if (!is_field_value_char (*value))
            return refuse (400, "Control character in a header", out_status, out_reason);
        }

      name_len = colon - line;
      value = colon + 1;
      while (value < end && (*value == ' ' || *value == '\t'))
        value++;
      while (end > value && (end[-1] == ' ' || end[-1] == '\t'))
        end--;

      if (name_len == strlen ("Transfer-Encoding") &&
          g_ascii_strncasecmp (line, "Transfer-Encoding", name_len) == 0)
        return refuse (400, "Requests with a body are not accepted", out_status, out_reason);

      if (name_len == strlen ("Content-Length") &&
          g_ascii_strncasecmp (line, "Content-Length", name_len) == 0)
        {
          guint64 this_length = 0;
          const char *p;

          /* Digits only, at most 18 of them: no sign, no list, no
           * overflow. */
          if (value == end || end - value > 18)
            return refuse (400, "Invalid Content-Length", out_status, out_reason);
          for (p = value; p < end; p++)
            {
              if (!g_ascii_isdigit (*p))
                return refuse (400, "Invalid Content-Length", out_status, out_reason);
              this_length = this_length * 10 + (guint64) (*p - '0');
            }
          if (has_length && this_length != length)
            return refuse (400, "Conflicting Content-Length", out_status, out_reason);
          has_length = TRUE;
          length = this_length;
        }
    }

  if (len >= GC_REQUEST_HEAD_MAX_BYTES)
    return refuse (431, "The request head is too long", out_status, out_reason);

  return GC_REQUEST_HEAD_INCOMPLETE;
}
