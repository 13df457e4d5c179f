/* gc-token-bucket.h: a token bucket for rate limits
 *
 * The bucket stores only its level and when it was last refilled; the
 * burst and the rate are passed to each call, so a bucket per member or
 * per address costs 16 bytes and configuration lives in one place.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  double tokens;
  gint64 updated_us;   /* monotonic time of the last refill */
} GcTokenBucket;

/* A full bucket. */
void     gc_token_bucket_init    (GcTokenBucket *bucket,
                                  double         burst,
                                  gint64         now_us);

/* Takes one token if there is one. Otherwise returns %FALSE and, if
 * @retry_after_us is not %NULL, sets it to the time until one is free. */
gboolean gc_token_bucket_take    (GcTokenBucket *bucket,
                                  double         burst,
                                  double         rate_per_s,
                                  gint64         now_us,
                                  gint64        *retry_after_us);

/* Takes one token even if the bucket is empty and returns the level left,
 * which is negative once more than @burst tokens were charged faster than
 * they refill: a counter of events that decays at @rate_per_s. */
double   gc_token_bucket_charge  (GcTokenBucket *bucket,
                                  double         burst,
                                  double         rate_per_s,
                                  gint64         now_us);

/* Whether the bucket has refilled completely by @now_us (it then carries
 * no state worth keeping). */
gboolean gc_token_bucket_is_full (const GcTokenBucket *bucket,
                                  double               burst,
                                  double               rate_per_s,
                                  gint64               now_us);

/* @us in whole milliseconds, rounded up, at least 1: a wait reported in
 * ms must not end before the real one. */
static inline guint64
gc_ms_from_us_ceil (gint64 us)
{
  return (guint64) MAX ((us + 999) / 1000, 1);
}

G_END_DECLS
