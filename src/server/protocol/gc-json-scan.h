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
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

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

/* The first position at or after @i that is not JSON white space. */
gsize    gc_json_scan_space         (const char  *json,
                                     gsize        len,
                                     gsize        i);

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

/* Whether @json[@i] starts @literal ("true", "false", "null") and the
 * literal ends there (at the end, white space, `,`, `}` or `]`). */
gboolean gc_json_scan_literal       (const char  *json,
                                     gsize        len,
                                     gsize        i,
                                     const char  *literal);

/* Moves *@i from a string's opening quote past its closing one without
 * decoding or checking it (a quote preceded by an odd number of
 * backslashes is escaped). %FALSE if the string does not end. */
gboolean gc_json_scan_skip_string   (const char  *json,
                                     gsize        len,
                                     gsize       *i);

/* Moves *@i past one value of any kind: containers matched bracket for
 * bracket with strings skipped whole, scalars up to the next delimiter.
 * Not a validation. %FALSE if the value does not end. */
gboolean gc_json_scan_skip_value    (const char  *json,
                                     gsize        len,
                                     gsize       *i);

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

/* %FALSE (and @scan->failed) unless @json starts, after white space, with
 * `{`. */
gboolean gc_json_object_scan_begin  (GcJsonObjectScan  *scan,
                                     const char        *json,
                                     gsize              len);

/* The next member's key, raw (between its quotes, escapes not undone).
 * %FALSE at the object's closing brace, or with @scan->failed set when
 * the text is malformed as far as the scan sees. */
gboolean gc_json_object_scan_next   (GcJsonObjectScan  *scan,
                                     const char       **key,
                                     gsize             *key_len);

/* The current value's first byte ('"', '{', '[', 't', 'f', 'n', a digit
 * or '-'), or 0 at the end of the text. */
char     gc_json_object_scan_peek   (GcJsonObjectScan  *scan);

/* Reads the current value as a string, decoded strictly
 * (gc_json_scan_string()) into @out (nullable). */
gboolean gc_json_object_scan_string (GcJsonObjectScan  *scan,
                                     GString           *out);

/* Reads the current value as a string, raw: *@contents points between
 * its quotes, escapes not undone. */
gboolean gc_json_object_scan_raw_string (GcJsonObjectScan  *scan,
                                         const char       **contents,
                                         gsize             *contents_len);

/* Reads the current value if it is @literal (see gc_json_scan_literal()). */
gboolean gc_json_object_scan_literal (GcJsonObjectScan *scan,
                                      const char       *literal);

/* After gc_json_object_scan_next() returned %FALSE without failing:
 * whether only white space follows the object. */
gboolean gc_json_object_scan_end    (GcJsonObjectScan  *scan);

G_END_DECLS
