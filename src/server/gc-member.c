/* gc-member.c: one member of a room (internal to the server)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-member.h"
#include "gc-ws-random.h"

/* Random bytes as unpadded base64url into @out (NUL-terminated); @n_bytes
 * must be a multiple of 3 so that no padding is needed. */
static void
random_base64url (char  *out,
                  gsize  n_bytes)
{
  guint8 bytes[48];
  g_autofree char *encoded = NULL;

  g_assert (n_bytes <= sizeof bytes && n_bytes % 3 == 0);

  gc_ws_random_bytes (bytes, n_bytes);
  encoded = g_base64_encode (bytes, n_bytes);
  for (char *p = encoded; *p != '\0'; p++)
    {
      if (*p == '+')
        *p = '-';
      else if (*p == '/')
        *p = '_';
    }
  memcpy (out, encoded, n_bytes / 3 * 4 + 1);
  memset (bytes, 0, sizeof bytes);
}

GcMember *
gc_member_new (const char *name,
               const char *name_key,
               const char *address,
               double      rate_burst,
               gint64      now_us)
{
  GcMember *member = g_new0 (GcMember, 1);

  G_STATIC_ASSERT (GC_MEMBER_ID_LENGTH == 12 / 3 * 4);
  G_STATIC_ASSERT (GC_MEMBER_TOKEN_LENGTH == 24 / 3 * 4);

  member->ref_count = 1;
  member->state = GC_MEMBER_JOINING;
  random_base64url (member->id_buf, 12);
  random_base64url (member->token, 24);
  member->user.id = member->id_buf;
  member->user.name = g_strdup (name);
  member->name_key = g_strdup (name_key);
  member->address = g_strdup (address);
  gc_token_bucket_init (&member->rate, rate_burst, now_us);
  gc_token_bucket_init (&member->violations, rate_burst, now_us);
  gc_token_bucket_init (&member->allowance, rate_burst, now_us);

  return member;
}

/* A client's requests sent at the allowed rate while the network (or the
 * server) stalled arrive together: the bucket refuses what exceeds it,
 * but they are no flood. The allowance is a second bucket, refilled at
 * the same rate but holding up to this many seconds' worth more: a
 * refusal is a violation only once the allowance is spent too, that is
 * for requests beyond what the client could have sent at the allowed
 * rate. A new member's allowance is just the burst, so that one that
 * floods from the start is closed as soon as before. */
#define ALLOWANCE_SECONDS 60

GcMemberRequestVerdict
gc_member_take_request (GcMember *member,
                        double    burst,
                        double    rate_per_s,
                        gint64    now_us,
                        gint64   *out_retry_after_us)
{
  gboolean allowed = gc_token_bucket_take (&member->allowance,
                                           burst + rate_per_s * ALLOWANCE_SECONDS,
                                           rate_per_s, now_us, NULL);

  if (gc_token_bucket_take (&member->rate, burst, rate_per_s, now_us, out_retry_after_us))
    return GC_MEMBER_REQUEST_ALLOWED;

  if (allowed)
    return GC_MEMBER_REQUEST_REFUSED;

  return gc_token_bucket_charge (&member->violations, burst, rate_per_s, now_us) < 0 ?
         GC_MEMBER_REQUEST_FLOODING : GC_MEMBER_REQUEST_REFUSED;
}

GcMember *
gc_member_ref (GcMember *member)
{
  member->ref_count++;
  return member;
}

void
gc_member_unref (GcMember *member)
{
  if (--member->ref_count > 0)
    return;

  /* The room detaches the connection and the timer before letting go. */
  g_assert (member->connection == NULL);
  g_assert (member->resume_source == NULL);

  g_free (member->user.name);
  g_free (member->name_key);
  g_free (member->address);
  memset (member->token, 0, sizeof member->token);
  g_free (member);
}

void
gc_member_take_name (GcMember *member,
                     char     *name,
                     char     *name_key)
{
  g_free (member->user.name);
  g_free (member->name_key);
  member->user.name = name;
  member->name_key = name_key;
}

gboolean
gc_member_check_token (const GcMember *member,
                       const char     *token)
{
  guint8 diff = 0;

  if (token == NULL || strlen (token) != GC_MEMBER_TOKEN_LENGTH)
    return FALSE;

  for (gsize i = 0; i < GC_MEMBER_TOKEN_LENGTH; i++)
    diff |= (guint8) (member->token[i] ^ token[i]);

  return diff == 0;
}
