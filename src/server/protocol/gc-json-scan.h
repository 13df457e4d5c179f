/* gc-json-scan.h: fast JSON scanners that build no tree
 *
 * json-glib spends some 20,000 instructions on a small request (a
 * scanner, a node tree, a hash table per object). These scanners read
 * JSON text in place instead: a strict pre-check of what json-glib
 * cannot be trusted with (docs/protocol.md §2.3), string decoding, and a
 * walk over the top-level members of an object. The server reads flat
 * requests with them and the bench reads every event with them; anything
 * they do not handle is left to json-glib (gc-protocol-parse.c).
 *
 * Positions are byte offsets into @json, which need not be
 * NUL-terminated.
 *
 * The walk and the skipping functions are static inline here: the bench
 * runs them for every delivery, and out of line (a call per member, per
 * space, per string, with positions stored back through pointers) they
 * cost some 40 % more instructions per event than compiled into the
 * caller (callgrind). The strict checks and decoding are in
 * gc-json-scan.c.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <string.h>

#include <glib.h>

G_BEGIN_DECLS

/**
 * gc_json_scan_check:
 * @json: JSON text
 * @len: its length in bytes
 * @max_depth: the deepest nesting of arrays and objects allowed
 * @what: names the text in error messages ("request", "event")
 * @error: return location for a %GC_PROTOCOL_ERROR_BAD_REQUEST
 *
 * Checks what json-glib 1.6 cannot be trusted with (§2.3): it recurses
 * once per nesting level with no limit of its own, ends a string silently
 * at `\u0000`, writes a lone surrogate escape as invalid UTF-8, takes raw
 * control characters in strings, reads only the first of several values,
 * and its GScanner accepts non-JSON ('strings', comments, `\x41`). So:
 * only JSON's escapes, no `\u0000`, surrogates only in pairs, no raw
 * control characters in strings, no bytes outside strings that JSON
 * cannot have there, at most @max_depth levels, and nothing but white
 * space after the first value. Anything else malformed is left for the
 * parser to report.
 *
 * Returns: %TRUE if the text passes
 */
gboolean gc_json_scan_check         (const char  *json,
                                     gsize        len,
                                     guint        max_depth,
                                     const char  *what,
                                     GError     **error);

/* The code unit of the `\uXXXX` escape at @json[@i], or -1 if there is
 * none there. */
int      gc_json_scan_u_escape      (const char  *json,
                                     gsize        len,
                                     gsize        i);

/**
 * gc_json_scan_string:
 * @json: JSON text
 * @len: its length
 * @i: (inout): the position of a string's opening quote; on success, the
 *   position after its closing quote
 * @out: (nullable): where the decoded string is appended; %NULL skips it
 *
 * Decodes a string strictly: %FALSE for a raw control character, an
 * escape JSON does not have, `\u0000`, a lone surrogate or a string that
 * does not end. Other bytes are copied as they are: check that @json is
 * UTF-8 first.
 */
gboolean gc_json_scan_string        (const char  *json,
                                     gsize        len,
                                     gsize       *i,
                                     GString     *out);

/**
 * GcJsonObjectScan:
 *
 * A walk over the top-level members of one JSON object. Begin with
 * gc_json_object_scan_begin(); each gc_json_object_scan_next() gives a
 * member's key and leaves the scan at its value, which the caller may
 * read with one of the value functions below or leave to be skipped by
 * the next call. Only @failed is public.
 */
typedef struct {
  const char *json;
  gsize       len;
  gsize       pos;
  gboolean    first;
  gboolean    at_value;
  gboolean    ended;
  gboolean    failed;
} GcJsonObjectScan;

/* Inline scanners (see the top of this file for why) */

/* Helpers; not API. */
static inline gsize
_gc_json_skip_space (const char *json,
                     gsize       len,
                     gsize       i)
{
  while (i < len && (json[i] == ' ' || json[i] == '\t' || json[i] == '\n' || json[i] == '\r'))
    i++;
  return i;
}

/* The first position at or after @i that is not JSON white space. */
static inline gsize
gc_json_scan_space (const char *json,
                    gsize       len,
                    gsize       i)
{
  return _gc_json_skip_space (json, len, i);
}

/* Whether @json[@i] starts @literal ("true", "false", "null") and the
 * literal ends there (at the end, white space, `,`, `}` or `]`). */
static inline gboolean
gc_json_scan_literal (const char *json,
                      gsize       len,
                      gsize       i,
                      const char *literal)
{
  gsize n = strlen (literal);

  return i + n <= len && memcmp (json + i, literal, n) == 0 &&
         (i + n == len || strchr (" \t\n\r,}]", json[i + n]) != NULL);
}

/* @p is at an opening quote; returns the position after the closing one,
 * or %NULL if the string does not end. */
static inline const char *
_gc_json_skip_string (const char *p,
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

/* Skips one value of any kind; returns the position after it, or %NULL
 * if it does not end or is empty. */
static inline const char *
_gc_json_skip_value (const char *p,
                     const char *end)
{
  const char *start = p;
  guint depth = 0;

  if (p >= end)
    return NULL;

  if (*p != '{' && *p != '[')
    {
      if (*p == '"')
        return _gc_json_skip_string (p, end);
      while (p < end && *p != ',' && *p != '}' && *p != ']' &&
             *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
        p++;
      return p != start ? p : NULL;
    }

  while (p < end)
    {
      switch (*p)
        {
        case '"':
          p = _gc_json_skip_string (p, end);
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

/* Moves *@i from a string's opening quote past its closing one without
 * decoding or checking it (a quote preceded by an odd number of
 * backslashes is escaped). %FALSE if the string does not end. */
static inline gboolean
gc_json_scan_skip_string (const char *json,
                          gsize       len,
                          gsize      *i)
{
  const char *after;

  if (*i >= len || json[*i] != '"')
    return FALSE;
  after = _gc_json_skip_string (json + *i, json + len);
  if (after == NULL)
    return FALSE;

  *i = after - json;
  return TRUE;
}

/* Moves *@i past one value of any kind: containers matched bracket for
 * bracket with strings skipped whole, scalars up to the next delimiter.
 * Not a validation. %FALSE if the value does not end or is empty. */
static inline gboolean
gc_json_scan_skip_value (const char *json,
                         gsize       len,
                         gsize      *i)
{
  const char *after;

  if (*i >= len)
    return FALSE;
  after = _gc_json_skip_value (json + *i, json + len);
  if (after == NULL)
    return FALSE;

  *i = after - json;
  return TRUE;
}

static inline gboolean
_gc_json_object_scan_fail (GcJsonObjectScan *scan)
{
  scan->failed = TRUE;
  return FALSE;
}

/* %FALSE (and @scan->failed) unless @json starts, after white space, with
 * `{`. */
static inline gboolean
gc_json_object_scan_begin (GcJsonObjectScan *scan,
                           const char       *json,
                           gsize             len)
{
  g_return_val_if_fail (scan != NULL, FALSE);
  g_return_val_if_fail (json != NULL || len == 0, FALSE);

  memset (scan, 0, sizeof *scan);
  scan->json = json;
  scan->len = len;
  scan->first = TRUE;
  scan->pos = _gc_json_skip_space (json, len, 0);

  if (scan->pos >= len || json[scan->pos] != '{')
    return _gc_json_object_scan_fail (scan);
  scan->pos++;

  return TRUE;
}

/* The next member's key, raw (between its quotes, escapes not undone).
 * %FALSE at the object's closing brace, or with @scan->failed set when
 * the text is malformed as far as the scan sees. */
static inline gboolean
gc_json_object_scan_next (GcJsonObjectScan  *scan,
                          const char       **key,
                          gsize             *key_len)
{
  const char *json = scan->json;
  gsize len = scan->len;
  /* A local position: stores through `json` (a char pointer) could alias
   * scan->pos, which would be reloaded at every byte otherwise. */
  gsize pos = scan->pos;
  gsize start;

  if (scan->ended || scan->failed)
    return FALSE;

  if (scan->at_value)
    {
      if (!gc_json_scan_skip_value (json, len, &pos))
        return _gc_json_object_scan_fail (scan);
      scan->at_value = FALSE;
    }

  pos = _gc_json_skip_space (json, len, pos);
  if (pos >= len)
    return _gc_json_object_scan_fail (scan);

  /* `}` ends the object, after its last member or at once; members
   * after the first follow a `,`. */
  if (json[pos] == '}')
    {
      scan->pos = pos + 1;
      scan->ended = TRUE;
      return FALSE;
    }
  if (!scan->first)
    {
      if (json[pos] != ',')
        return _gc_json_object_scan_fail (scan);
      pos = _gc_json_skip_space (json, len, pos + 1);
    }
  scan->first = FALSE;

  /* Keys are short and rarely escaped: read them here, and leave the
   * escaped ones to gc_json_scan_skip_string(). */
  start = pos;
  if (start >= len || json[start] != '"')
    return _gc_json_object_scan_fail (scan);
  pos++;
  while (pos < len && json[pos] != '"' && json[pos] != '\\')
    pos++;
  if (pos < len && json[pos] == '"')
    pos++;
  else
    {
      pos = start;
      if (!gc_json_scan_skip_string (json, len, &pos))
        return _gc_json_object_scan_fail (scan);
    }
  *key = json + start + 1;
  *key_len = pos - start - 2;

  pos = _gc_json_skip_space (json, len, pos);
  if (pos >= len || json[pos] != ':')
    return _gc_json_object_scan_fail (scan);
  pos = _gc_json_skip_space (json, len, pos + 1);
  if (pos >= len)
    return _gc_json_object_scan_fail (scan);

  scan->pos = pos;
  scan->at_value = TRUE;
  return TRUE;
}

/* The current value's first byte ('"', '{', '[', 't', 'f', 'n', a digit
 * or '-'), or 0 when there is no current value. */
static inline char
gc_json_object_scan_peek (GcJsonObjectScan *scan)
{
  if (!scan->at_value || scan->pos >= scan->len)
    return 0;

  return scan->json[scan->pos];
}

/* Reads the current value as a string, decoded strictly
 * (gc_json_scan_string()) into @out (nullable). */
static inline gboolean
gc_json_object_scan_string (GcJsonObjectScan *scan,
                            GString          *out)
{
  if (gc_json_object_scan_peek (scan) != '"')
    return FALSE;
  if (!gc_json_scan_string (scan->json, scan->len, &scan->pos, out))
    return _gc_json_object_scan_fail (scan);

  scan->at_value = FALSE;
  return TRUE;
}

/* Reads the current value as a string, raw: *@contents points between
 * its quotes, escapes not undone. */
static inline gboolean
gc_json_object_scan_raw_string (GcJsonObjectScan  *scan,
                                const char       **contents,
                                gsize             *contents_len)
{
  gsize start = scan->pos;

  if (gc_json_object_scan_peek (scan) != '"')
    return FALSE;
  if (!gc_json_scan_skip_string (scan->json, scan->len, &scan->pos))
    return _gc_json_object_scan_fail (scan);

  *contents = scan->json + start + 1;
  *contents_len = scan->pos - start - 2;
  scan->at_value = FALSE;
  return TRUE;
}

/* Reads the current value if it is a non-negative integer that fits in
 * 64 bits (digits only: no sign, fraction or exponent). */
static inline gboolean
gc_json_object_scan_uint64 (GcJsonObjectScan *scan,
                            guint64          *value)
{
  gsize pos = scan->pos;
  guint64 result = 0;

  if (!scan->at_value || pos >= scan->len || scan->json[pos] < '0' || scan->json[pos] > '9')
    return FALSE;
  for (; pos < scan->len && scan->json[pos] >= '0' && scan->json[pos] <= '9'; pos++)
    {
      guint digit = scan->json[pos] - '0';

      if (result > (G_MAXUINT64 - digit) / 10)
        return FALSE;
      result = result * 10 + digit;
    }
  if (pos < scan->len && (scan->json[pos] == '.' || scan->json[pos] == 'e' ||
                          scan->json[pos] == 'E'))
    return FALSE;

  *value = result;
  scan->pos = pos;
  scan->at_value = FALSE;
  return TRUE;
}

/* Reads the current value if it is @literal (see gc_json_scan_literal()). */
static inline gboolean
gc_json_object_scan_literal (GcJsonObjectScan *scan,
                             const char       *literal)
{
  if (!scan->at_value ||
      !gc_json_scan_literal (scan->json, scan->len, scan->pos, literal))
    return FALSE;

  scan->pos += strlen (literal);
  scan->at_value = FALSE;
  return TRUE;
}

/* After gc_json_object_scan_next() returned %FALSE without failing:
 * whether only white space follows the object. */
static inline gboolean
gc_json_object_scan_end (GcJsonObjectScan *scan)
{
  return scan->ended && !scan->failed &&
         _gc_json_skip_space (scan->json, scan->len, scan->pos) == scan->len;
}

G_END_DECLS
