/* gc-token-bucket.c: a token bucket for rate limits
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>

#include "gc-token-bucket.h"

static double
level_at (const GcTokenBucket *bucket,
          double               burst,
          double               rate_per_s,
          gint64               now_us)
{
  gint64 elapsed_us = MAX (now_us - bucket->updated_us, 0);

  return MIN (burst, bucket->tokens + rate_per_s * (double) elapsed_us / G_USEC_PER_SEC);
}

void
gc_token_bucket_init (GcTokenBucket *bucket,
                      double         burst,
                      gint64         now_us)
{
  bucket->tokens = burst;
  bucket->updated_us = now_us;
}

gboolean
gc_token_bucket_take (GcTokenBucket *bucket,
                      double         burst,
                      double         rate_per_s,
                      gint64         now_us,
                      gint64        *retry_after_us)
{
  bucket->tokens = level_at (bucket, burst, rate_per_s, now_us);
  bucket->updated_us = now_us;

  if (bucket->tokens >= 1.0)
    {
      bucket->tokens -= 1.0;
      return TRUE;
    }

  if (retry_after_us != NULL)
    {
      if (rate_per_s > 0)
        *retry_after_us = (gint64) ceil ((1.0 - bucket->tokens) / rate_per_s * G_USEC_PER_SEC);
      else
        *retry_after_us = G_MAXINT64;
    }

  return FALSE;
}

double
gc_token_bucket_charge (GcTokenBucket *bucket,
                        double         burst,
                        double         rate_per_s,
                        gint64         now_us)
{
  bucket->tokens = level_at (bucket, burst, rate_per_s, now_us) - 1.0;
  bucket->updated_us = now_us;

  return bucket->tokens;
}

gboolean
gc_token_bucket_is_full (const GcTokenBucket *bucket,
                         double               burst,
                         double               rate_per_s,
                         gint64               now_us)
{
  return level_at (bucket, burst, rate_per_s, now_us) >= burst;
}
