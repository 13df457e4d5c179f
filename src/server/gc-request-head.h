/* gc-request-head.h: what an HTTP request head must be before libsoup sees it
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* The longest request head (request line, header lines and the blank
 * line) we read; libsoup's own limit is the same. */
#define GC_REQUEST_HEAD_MAX_BYTES (64 * 1024)

typedef enum {
  GC_REQUEST_HEAD_INCOMPLETE,  /* no end yet: read more */
  GC_REQUEST_HEAD_VALID,       /* complete, and libsoup may parse it */
  GC_REQUEST_HEAD_REFUSED,     /* answer with the status given */
} GcRequestHeadResult;

/* Looks at the first @len bytes a client sent. A complete head (ended
 * by an empty line) is VALID, with @out_head_len its length, when
 * libsoup may parse it safely and it asks for no body; otherwise it is
 * REFUSED with @out_status (400; 414 for a request line, 431 for a head
 * over GC_REQUEST_HEAD_MAX_BYTES) and @out_reason, a static string.
 * Refuses, per RFC 9112: malformed request lines; header lines without
 * a colon, with whitespace before it, folded (obs-fold) or holding
 * control characters; any Transfer-Encoding, and a Content-Length that
 * is not a number, disagrees with another or is not 0 (we accept no
 * bodies; libsoup 3.2 also leaks the path of a request whose
 * Transfer-Encoding it does not know). @out_is_head_method says whether
 * the method is HEAD (the answer then has no body). */
GcRequestHeadResult gc_request_head_check (const char  *data,
                                           gsize        len,
                                           gsize       *out_head_len,
                                           guint       *out_status,
                                           const char **out_reason,
                                           gboolean    *out_is_head_method);

G_END_DECLS
