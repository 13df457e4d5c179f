/* gc-member.h: one member of a room (internal to the server)
 *
 * A plain reference-counted struct rather than a GObject: a server holds
 * thousands. Its room owns it and drives its life cycle; pending upgrades
 * hold a reference so that a member removed meanwhile stays valid memory.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gc-protocol.h"
#include "gc-room.h"
#include "gc-token-bucket.h"
#include "gc-ws-connection.h"

G_BEGIN_DECLS

typedef enum {
  GC_MEMBER_JOINING,   /* name reserved, upgrade in progress, not announced */
  GC_MEMBER_ACTIVE,    /* announced and connected */
  GC_MEMBER_WAITING,   /* announced, connection lost, resume window open */
  GC_MEMBER_GONE,      /* removed from its room */
} GcMemberState;

/* 12 random bytes in unpadded base64url: opaque, unguessable user ids. */
#define GC_MEMBER_ID_LENGTH 16
/* 24 random bytes (192 bits) in unpadded base64url. */
#define GC_MEMBER_TOKEN_LENGTH 32

typedef struct {
  GcUser          user;                /* user.id points at id_buf */
  char           *name_key;            /* gc_protocol_user_name_key (user.name) */
  char           *address;             /* peer address of the latest connection, for logs */
  GcRoom         *room;                /* borrowed; NULL once GONE */
  GcWsConnection *connection;          /* while ACTIVE */
  GSource        *resume_source;       /* while WAITING with no resume in progress */
  gint64          resume_deadline_us;  /* monotonic; while WAITING */
  GcTokenBucket   rate;                /* requests (§6.4 rate limit) */
  GcTokenBucket   violations;          /* refused requests, decaying */
  GcTokenBucket   allowance;           /* what it may have sent while quiet */
  guint           index;               /* in the room's member array */
  guint           ref_count;
  guint           resumes_in_progress; /* upgrades that will take it over */
  GcMemberState   state;
  gboolean        typing;
  char            id_buf[GC_MEMBER_ID_LENGTH + 1];
  char            token[GC_MEMBER_TOKEN_LENGTH + 1];
} GcMember;

/* A JOINING member with a fresh user id and session token and full
 * buckets. Copies the strings. */
GcMember *gc_member_new          (const char     *name,
                                  const char     *name_key,
                                  const char     *address,
                                  double          rate_burst,
                                  gint64          now_us);
GcMember *gc_member_ref          (GcMember       *member);
void      gc_member_unref        (GcMember       *member);

/* Replaces the name and its key (takes ownership of both). */
void      gc_member_take_name    (GcMember       *member,
                                  char           *name,
                                  char           *name_key);

typedef enum {
  GC_MEMBER_REQUEST_ALLOWED,
  GC_MEMBER_REQUEST_REFUSED,     /* answer rate_limited */
  GC_MEMBER_REQUEST_FLOODING,    /* close as a flooder */
} GcMemberRequestVerdict;

/* §6.4: takes a token for one request from a bucket of @burst tokens
 * refilled at @rate_per_s. A request that finds none is refused (then
 * @out_retry_after_us says when one is back); the refusal is a violation
 * only beyond what the client could have sent at @rate_per_s while it
 * was quiet, and violations beyond @burst (they decay at @rate_per_s)
 * make it a flooder. */
GcMemberRequestVerdict gc_member_take_request (GcMember *member,
                                               double    burst,
                                               double    rate_per_s,
                                               gint64    now_us,
                                               gint64   *out_retry_after_us);

/* Whether @token is this member's session token, compared in constant
 * time (its length is not secret). */
gboolean  gc_member_check_token  (const GcMember *member,
                                  const char     *token);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcMember, gc_member_unref)

G_END_DECLS
