/* gc-admission.c: accepted connections until their requests are taken
 *
 * Every accepted TCP connection is a handshake (gc-handshake.c) until it
 * is upgraded or answered. Admission bounds them: a deadline each, a cap
 * overall and per address, a join bucket per address, and few TLS
 * handshakes at once (each takes a worker thread). When it must make
 * room it closes the stalest handshake that is still waiting for its
 * client, never one whose request has been read; TLS places go first to
 * addresses that run and stall fewest. GcServer accepts and stops
 * accepting; this decides who may go on.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <math.h>
#include <string.h>

#include <gio/gnetworking.h>

#include "gc-admission-private.h"
#include "gc-handshake-private.h"
#include "gc-handshake-watch-private.h"
#include "gc-server-private.h"

#define PEER_SWEEP_SECONDS  10

/* A handshake waiting for its client (its ClientHello, its request
 * head, or a TLS place) is stale once it has sent nothing for this long;
 * stale ones make room when handshakes must. An honest client sends its
 * request right after connecting, so a burst of them (a benchmark, a
 * NAT) gets through while the server catches up, and connections that
 * send nothing make room fast. */
#define HANDSHAKE_STALE_US      (250 * G_TIME_SPAN_MILLISECOND)
/* Nothing could make room: look again after this long at the latest. */
#define HANDSHAKE_RECHECK_MS    50
/* A client must send its first byte, and then keep sending, at least
 * this often in each stage (ClientHello, request head); and a client we
 * answered ourselves has this long to read the answer and close. */
#define STAGE_IDLE_US           (5 * G_USEC_PER_SEC)
#define REFUSED_LINGER_US       (1 * G_USEC_PER_SEC)

/* A TLS handshake occupies a GLib worker thread until it ends (that is
 * how glib-networking does it), and the pool (shared by the whole
 * process) grows only slowly: a few dozen clients that send their
 * ClientHello and then nothing would stall every TLS handshake. So few
 * run at once and fewer per address. Waiting ones start in order of how
 * few their address runs, how few of its handshakes stalled lately, how
 * few it has in progress, and then of arrival; one that has run this
 * long without finishing (an honest one needs a round trip and a few
 * milliseconds) gives up its place to a waiting one from an address that
 * ranks before its own. */
#define TLS_MAX_RUNNING          8
#define TLS_MAX_RUNNING_PER_PEER 2
#define TLS_STALLED_US           (500 * G_TIME_SPAN_MILLISECOND)

struct _GcAdmission
{
  GObject               parent_instance;

  const GcServerConfig *config;        /* the server's */
  GMainContext         *context;
  SoupServer           *soup;
  GTlsCertificate      *tls_certificate;
  GcAdmissionRoomFunc   room_func;
  gpointer              room_data;
  GcAdmissionRequestFunc request_func;
  gpointer              request_data;

  GHashTable           *peers;         /* key → GcPeer */
  GQueue                handshakes;    /* GcHandshake, earliest deadline first */
  /* Handshakes by stage, stalest first: */
  GQueue                waiting;       /* HELLO and HEAD */
  GQueue                tls_waiting;   /* TLS_WAITING */
  GQueue                tls_running;   /* TLS_RUNNING (oldest first) */
  GQueue                refused;       /* REFUSED */
  GSource              *handshake_timer;  /* deadlines */
  GSource              *idle_timer;       /* stage idleness, lingering */
  GSource              *tls_timer;        /* schedules waiting TLS handshakes */
  GSource              *peer_sweep;
  GSource              *watch;            /* plain sockets waiting for their client */
  guint64               n_refused;
};

G_DEFINE_FINAL_TYPE (GcAdmission, gc_admission, G_TYPE_OBJECT)

/* A source that fires at the ready time set on it. */
static gboolean
ready_time_source_dispatch (GSource     *source,
                            GSourceFunc  callback,
                            gpointer     user_data)
{
  g_source_set_ready_time (source, -1);
  return callback (user_data);
}

static GSourceFuncs ready_time_source_funcs = {
  .dispatch = ready_time_source_dispatch,
};

static GSource *
admission_add_timer (GcAdmission *self,
                     const char  *name,
                     GSourceFunc  func)
{
  GSource *source = g_source_new (&ready_time_source_funcs, sizeof (GSource));

  g_source_set_static_name (source, name);
  g_source_set_callback (source, func, self, NULL);
  g_source_set_ready_time (source, -1);
  g_source_attach (source, self->context);

  return source;
}

/* Handshakes waiting for their client: one epoll set (gc-handshake-watch.c). */
gboolean
gc_admission_watch (GcAdmission *self,
                    GcHandshake *hs)
{
  return self->watch != NULL && gc_handshake_watch_arm (self->watch, hs);
}

void
gc_admission_unwatch (GcAdmission *self,
                      GcHandshake *hs)
{
  if (self->watch != NULL)
    gc_handshake_watch_disarm (self->watch, hs);
}

/* Peers (per-address state) ------------------------------------------------ */

/* @printable: @address as a string, when the caller has it (an IPv4
 * address is its own key). */
static GcPeer *
admission_get_peer (GcAdmission  *self,
                    GInetAddress *address,
                    const char   *printable)
{
  g_autofree char *key = printable != NULL && g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV4
                         ? g_strdup (printable) : gc_peer_key_for (address);
  GcPeer *peer = g_hash_table_lookup (self->peers, key);

  if (peer != NULL)
    return peer;

  peer = gc_peer_new (g_steal_pointer (&key), self->config->join_burst);
  g_hash_table_insert (self->peers, peer->key, peer);

  return peer;
}

static gboolean
peer_is_idle (GcAdmission *self,
              GcPeer      *peer,
              gint64       now)
{
  return peer->handshakes.length == 0 &&
         gc_peer_get_tls_stalls (peer, now) == 0 &&
         (self->config->join_per_second <= 0 ||
          gc_token_bucket_is_full (&peer->joins, self->config->join_burst,
                                   self->config->join_per_second, now));
}

/* Keeps the address table bounded: idle entries carry no state. */
static gboolean
on_peer_sweep (gpointer user_data)
{
  GcAdmission *self = user_data;
  gint64 now = g_get_monotonic_time ();
  GHashTableIter iter;
  GcPeer *peer;

  g_hash_table_iter_init (&iter, self->peers);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &peer))
    {
      if (peer_is_idle (self, peer, now))
        g_hash_table_iter_remove (&iter);
    }

  g_source_set_ready_time (self->peer_sweep, now + PEER_SWEEP_SECONDS * G_USEC_PER_SEC);

  return G_SOURCE_CONTINUE;
}


/* Handshakes' stages ----------------------------------------------------------- */

static gboolean
admission_is_full (GcAdmission *self)
{
  return self->config->max_handshakes > 0 &&
         self->handshakes.length >= self->config->max_handshakes;
}

/* Moves @timer to @ready_us only when that is sooner, or when the time it
 * is set to has come: g_source_set_ready_time() wakes the main context
 * (a write to its eventfd and one more poll) every time, and these timers
 * follow every handshake, two wake-ups per join. A timer that fires
 * early finds nothing due and sets itself again. */
static void
timer_move (GSource *timer,
            gint64   ready_us)
{
  gint64 current = g_source_get_ready_time (timer);

  if (current == ready_us)
    return;
  if (current == -1 || (ready_us != -1 && ready_us < current) ||
      current <= g_get_monotonic_time ())
    g_source_set_ready_time (timer, ready_us);
}

static void
admission_update_handshake_timer (GcAdmission *self)
{
  GcHandshake *oldest = g_queue_peek_head (&self->handshakes);

  if (self->handshake_timer != NULL)
    timer_move (self->handshake_timer, oldest != NULL ? oldest->deadline_us : -1);
}

static void
admission_update_idle_timer (GcAdmission *self)
{
  GcHandshake *idlest = g_queue_peek_head (&self->waiting);
  GcHandshake *lingering = g_queue_peek_head (&self->refused);
  gint64 ready_us = G_MAXINT64;

  if (self->idle_timer == NULL)
    return;

  if (idlest != NULL)
    ready_us = idlest->progress_us + STAGE_IDLE_US;
  if (lingering != NULL)
    ready_us = MIN (ready_us, lingering->progress_us + REFUSED_LINGER_US);

  timer_move (self->idle_timer, ready_us == G_MAXINT64 ? -1 : ready_us);
}

static GQueue *
admission_stage_queue (GcAdmission      *self,
                       GcHandshakeStage  stage)
{
  switch (stage)
    {
    case GC_HANDSHAKE_HELLO:
    case GC_HANDSHAKE_HEAD:
      return &self->waiting;
    case GC_HANDSHAKE_TLS_WAITING:
      return &self->tls_waiting;
    case GC_HANDSHAKE_TLS_RUNNING:
      return &self->tls_running;
    case GC_HANDSHAKE_REFUSED:
      return &self->refused;
    case GC_HANDSHAKE_REQUEST:
    case GC_HANDSHAKE_FINISHED:
    default:
      return NULL;
    }
}

void
gc_admission_set_stage (GcAdmission      *self,
                        GcHandshake      *hs,
                        GcHandshakeStage  stage)
{
  GQueue *queue = admission_stage_queue (self, hs->stage);
  gint64 now = g_get_monotonic_time ();

  if (queue != NULL)
    g_queue_unlink (queue, &hs->stage_link);
  if (hs->stage == GC_HANDSHAKE_TLS_RUNNING)
    {
      hs->peer->n_tls_running--;
      if (self->tls_waiting.length > 0 && self->tls_timer != NULL)
        g_source_set_ready_time (self->tls_timer, 0);
    }

  hs->stage = stage;
  hs->progress_us = now;

  queue = admission_stage_queue (self, stage);
  if (queue != NULL)
    g_queue_push_tail_link (queue, &hs->stage_link);
  if (stage == GC_HANDSHAKE_TLS_RUNNING)
    {
      hs->peer->n_tls_running++;
      hs->tls_started_us = now;
    }
  else if (stage == GC_HANDSHAKE_TLS_WAITING && self->tls_timer != NULL)
    {
      g_source_set_ready_time (self->tls_timer, 0);
    }

  admission_update_idle_timer (self);
}

void
gc_admission_progress (GcAdmission *self,
                       GcHandshake *hs)
{
  gboolean was_idlest = hs->stage_link.prev == NULL;

  hs->progress_us = g_get_monotonic_time ();
  if (hs->stage != GC_HANDSHAKE_HELLO && hs->stage != GC_HANDSHAKE_HEAD)
    return;

  g_queue_unlink (&self->waiting, &hs->stage_link);
  g_queue_push_tail_link (&self->waiting, &hs->stage_link);
  if (was_idlest)
    admission_update_idle_timer (self);
}

void
gc_admission_forget (GcAdmission *self,
                     GcHandshake *hs)
{
  gc_admission_set_stage (self, hs, GC_HANDSHAKE_FINISHED);
  g_queue_unlink (&self->handshakes, &hs->link);
  g_queue_unlink (&hs->peer->handshakes, &hs->peer_link);
  admission_update_handshake_timer (self);

  if (self->room_func != NULL && !admission_is_full (self))
    self->room_func (self->room_data);
}

gboolean
gc_admission_take_request (GcAdmission *self,
                           GcHandshake *hs,
                           GIOStream   *stream,
                           const char  *data,
                           gsize        head_len,
                           gsize        len)
{
  return self->request_func != NULL &&
         self->request_func (hs, stream, data, head_len, len, self->request_data);
}

void
gc_admission_count_refused (GcAdmission *self)
{
  self->n_refused++;
}

GMainContext *
gc_admission_get_context (GcAdmission *self)
{
  return self->context;
}

SoupServer *
gc_admission_get_soup (GcAdmission *self)
{
  return self->soup;
}

/* Deadlines and idleness ----------------------------------------------------- */

static gboolean
on_handshake_timer (gpointer user_data)
{
  GcAdmission *self = user_data;
  gint64 now = g_get_monotonic_time ();
  GcHandshake *oldest;

  while ((oldest = g_queue_peek_head (&self->handshakes)) != NULL &&
         oldest->deadline_us <= now)
    {
      gc_server_log_event (G_LOG_LEVEL_DEBUG, "handshake-timeout", NULL, NULL,
                           oldest->address, NULL);
      gc_handshake_abandon (oldest);
    }

  admission_update_handshake_timer (self);

  return G_SOURCE_CONTINUE;
}

static gboolean
on_idle_timer (gpointer user_data)
{
  GcAdmission *self = user_data;
  gint64 now = g_get_monotonic_time ();
  GcHandshake *hs;

  while ((hs = g_queue_peek_head (&self->waiting)) != NULL &&
         hs->progress_us + STAGE_IDLE_US <= now)
    {
      gc_server_log_event (G_LOG_LEVEL_DEBUG, "handshake-timeout", NULL, NULL,
                           hs->address, "the client sent nothing");
      gc_handshake_abandon (hs);
    }

  while ((hs = g_queue_peek_head (&self->refused)) != NULL &&
         hs->progress_us + REFUSED_LINGER_US <= now)
    gc_handshake_abandon (hs);

  admission_update_idle_timer (self);

  return G_SOURCE_CONTINUE;
}

/* Making room ------------------------------------------------------------------ */

/* Whether @hs, waiting for its client, is stale at @now; if not,
 * @retry_at_us says when it will be. */
static gboolean
handshake_is_stale (GcHandshake *hs,
                    gint64       now,
                    gint64      *retry_at_us)
{
  if (hs->stage == GC_HANDSHAKE_REFUSED || now - hs->progress_us >= HANDSHAKE_STALE_US)
    return TRUE;

  *retry_at_us = MIN (*retry_at_us, hs->progress_us + HANDSHAKE_STALE_US);
  return FALSE;
}

/* Whether bytes came for @hs (waiting for its ClientHello or request
 * head) that it has not looked at yet: a busy server may not have read
 * a request that is there. */
static gboolean
handshake_has_unseen_bytes (GcHandshake *hs)
{
  gssize available;

  if (hs->stage != GC_HANDSHAKE_HELLO && hs->stage != GC_HANDSHAKE_HEAD)
    return FALSE;

  available = g_socket_get_available_bytes (hs->socket);
  /* What we peeked at stays in the socket; what we read does not. */
  return available > 0 && (hs->base != NULL || (gsize) available > hs->seen);
}

/* How many of the stalest handshakes to weigh when one must go. */
#define VICTIM_CANDIDATES 64

/* How stale @hs is, coarsely: 0 up to twice HANDSHAKE_STALE_US silent,
 * 1 up to four times, and so on. Handshakes about as stale rank by
 * their address; one much staler than the rest goes first. */
static guint
handshake_staleness (GcHandshake *hs,
                     gint64       now)
{
  gint64 silent = now - hs->progress_us;
  guint rank = 0;

  if (hs->stage == GC_HANDSHAKE_REFUSED)
    return G_MAXUINT;

  while (rank < 16 && silent >= 2 * HANDSHAKE_STALE_US)
    {
      silent /= 2;
      rank++;
    }

  return rank;
}

/* Collects the stale handshakes at the head of @queue (stalest first)
 * into @candidates, counting them per address. Those with bytes waiting
 * are not stale: they go to @skipped. */
static void
admission_collect_victims (GQueue    *queue,
                           gint64     now,
                           gint64    *retry_at_us,
                           GPtrArray *candidates,
                           GPtrArray *skipped)
{
  guint n_weighed = 0;

  for (GList *l = queue->head; l != NULL && n_weighed < VICTIM_CANDIDATES; l = l->next)
    {
      GcHandshake *hs = l->data;

      if (!handshake_is_stale (hs, now, retry_at_us))
        return;
      n_weighed++;
      if (handshake_has_unseen_bytes (hs))
        {
          g_ptr_array_add (skipped, hs);
          continue;
        }
      g_ptr_array_add (candidates, hs);
      hs->peer->n_victims++;
    }
}

/* The handshake to close to make room: one we answered already, else,
 * of the stale ones that wait for their client (the stalest few), the
 * stalest by far; of those about as stale, one from the address with the
 * most of them, so that a flood from many addresses closes its own
 * before an honest client's, even when the honest clients share one
 * address with many handshakes in progress (a NAT, the tests) and one
 * of them is slow to send its request. Else %NULL, and @retry_at_us says
 * when to look again. Handshakes whose request was read (libsoup has
 * them) are in no queue looked at here: they are never closed. */
static GcHandshake *
admission_find_victim (GcAdmission *self,
                       gint64       now,
                       gint64      *retry_at_us)
{
  g_autoptr(GPtrArray) candidates = NULL;
  g_autoptr(GPtrArray) skipped = NULL;
  GcHandshake *best = NULL;
  guint best_staleness = 0;

  *retry_at_us = now + HANDSHAKE_RECHECK_MS * G_TIME_SPAN_MILLISECOND;

  if (self->refused.head != NULL)
    return self->refused.head->data;

  candidates = g_ptr_array_sized_new (2 * VICTIM_CANDIDATES);
  skipped = g_ptr_array_new ();
  admission_collect_victims (&self->waiting, now, retry_at_us, candidates, skipped);
  admission_collect_victims (&self->tls_waiting, now, retry_at_us, candidates, skipped);

  for (guint i = 0; i < candidates->len; i++)
    {
      GcHandshake *hs = g_ptr_array_index (candidates, i);
      guint staleness = handshake_staleness (hs, now);

      if (best == NULL || staleness > best_staleness ||
          (staleness == best_staleness &&
           (hs->peer->n_victims > best->peer->n_victims ||
            (hs->peer->n_victims == best->peer->n_victims &&
             hs->progress_us < best->progress_us))))
        {
          best = hs;
          best_staleness = staleness;
        }
    }
  for (guint i = 0; i < candidates->len; i++)
    ((GcHandshake *) g_ptr_array_index (candidates, i))->peer->n_victims = 0;

  /* Their clients sent something we have not looked at yet. */
  for (guint i = 0; i < skipped->len; i++)
    gc_admission_progress (self, g_ptr_array_index (skipped, i));

  return best;
}

/* The stalest handshake of @peer's that waits for its client, if it is
 * stale. */
static GcHandshake *
peer_find_victim (GcPeer *peer,
                  gint64  now)
{
  GcHandshake *stalest = NULL;
  gint64 retry_at_us = G_MAXINT64;

  for (GList *l = peer->handshakes.head; l != NULL; l = l->next)
    {
      GcHandshake *hs = l->data;

      if (hs->stage == GC_HANDSHAKE_REFUSED)
        return hs;
      if ((hs->stage != GC_HANDSHAKE_HELLO && hs->stage != GC_HANDSHAKE_HEAD &&
           hs->stage != GC_HANDSHAKE_TLS_WAITING) || handshake_has_unseen_bytes (hs))
        continue;
      if (stalest == NULL || hs->progress_us < stalest->progress_us)
        stalest = hs;
    }

  return stalest != NULL && handshake_is_stale (stalest, now, &retry_at_us) ? stalest : NULL;
}

gboolean
gc_admission_make_room (GcAdmission *self,
                        guint       *out_retry_ms)
{
  GcHandshake *victim;
  gint64 now;
  gint64 retry_at_us = 0;

  g_return_val_if_fail (GC_IS_ADMISSION (self), FALSE);

  if (!admission_is_full (self))
    return TRUE;

  now = g_get_monotonic_time ();
  victim = admission_find_victim (self, now, &retry_at_us);
  if (victim == NULL)
    {
      *out_retry_ms = (guint) MAX ((retry_at_us - now + 999) / 1000, 1);
      return FALSE;
    }

  gc_server_log_event (G_LOG_LEVEL_DEBUG, "handshake-evicted", NULL, NULL,
                       victim->address, "too many handshakes");
  gc_handshake_abandon (victim);

  return TRUE;
}

/* TLS places ------------------------------------------------------------------ */

/* Whether a waiting TLS handshake from @peer may close a stalled one:
 * not if one of its own was closed so just now (else the addresses of
 * stalling clients would take turns closing each other's). */
static gboolean
peer_may_evict_tls (GcPeer *peer,
                    gint64  now)
{
  return peer->tls_evicted_us == 0 || now - peer->tls_evicted_us >= TLS_STALLED_US;
}

/* The waiting TLS handshake to start next: of those whose address is
 * below its limit (and, with @evicting, may close a stalled one), the
 * first by the rank of its address, then the oldest; or %NULL. */
static GcHandshake *
admission_next_tls_waiting (GcAdmission *self,
                            gboolean     evicting,
                            gint64       now)
{
  GcHandshake *best = NULL;

  for (GList *l = self->tls_waiting.head; l != NULL; l = l->next)
    {
      GcHandshake *hs = l->data;

      if (hs->peer->n_tls_running >= TLS_MAX_RUNNING_PER_PEER ||
          (evicting && !peer_may_evict_tls (hs->peer, now)))
        continue;
      if (best == NULL || gc_peer_compare_tls (hs->peer, best->peer, now) < 0)
        best = hs;
    }

  return best;
}

/* The longest-running TLS handshake that has stalled and whose address
 * ranks after @peer's (counting the place @peer would take), or %NULL;
 * then @retry_at_us says when one may have stalled (or -1). */
static GcHandshake *
admission_find_stalled_tls (GcAdmission *self,
                            GcPeer      *peer,
                            gint64       now,
                            gint64      *retry_at_us)
{
  *retry_at_us = -1;

  for (GList *l = self->tls_running.head; l != NULL; l = l->next)
    {
      GcHandshake *hs = l->data;
      int order;

      peer->n_tls_running++;
      order = gc_peer_compare_tls (hs->peer, peer, now);
      peer->n_tls_running--;
      if (hs->peer == peer || order <= 0)
        continue;
      if (now - hs->tls_started_us >= TLS_STALLED_US)
        return hs;
      if (*retry_at_us < 0)
        *retry_at_us = hs->tls_started_us + TLS_STALLED_US;
    }

  return NULL;
}

/* Starts waiting TLS handshakes while there is room, making room by
 * closing stalled ones for those who may. */
static gboolean
on_tls_timer (gpointer user_data)
{
  GcAdmission *self = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 retry_at_us = -1;
  GcHandshake *next;

  for (;;)
    {
      if (self->tls_running.length < TLS_MAX_RUNNING)
        {
          next = admission_next_tls_waiting (self, FALSE, now);
        }
      else
        {
          GcHandshake *stalled;

          next = admission_next_tls_waiting (self, TRUE, now);
          if (next == NULL)
            break;
          stalled = admission_find_stalled_tls (self, next->peer, now, &retry_at_us);
          if (stalled == NULL)
            break;
          gc_server_log_event (G_LOG_LEVEL_DEBUG, "handshake-evicted", NULL, NULL,
                               stalled->address, "TLS handshake stalled");
          stalled->peer->tls_evicted_us = now;
          gc_peer_get_tls_stalls (stalled->peer, now);
          stalled->peer->tls_stalls += 1;
          gc_handshake_abandon (stalled);
        }
      if (next == NULL)
        break;

      gc_admission_set_stage (self, next, GC_HANDSHAKE_TLS_RUNNING);
      gc_handshake_start_tls (next, self->tls_certificate);
    }

  g_source_set_ready_time (self->tls_timer, retry_at_us);

  return G_SOURCE_CONTINUE;
}

/* Accepting ------------------------------------------------------------------- */

void
gc_admission_accept (GcAdmission    *self,
                     GSocket        *socket,
                     GSocketAddress *local_address,
                     guint16         local_port,
                     GSocketAddress *remote_address)
{
  g_autoptr(GSocketAddress) remote = remote_address != NULL ? g_object_ref (remote_address)
                                                            : g_socket_get_remote_address (socket, NULL);
  g_autoptr(GInetAddress) inet = NULL;
  g_autofree char *address = NULL;
  GcHandshake *hs;
  GcPeer *peer;

  g_return_if_fail (GC_IS_ADMISSION (self));
  g_return_if_fail (G_IS_SOCKET (socket));

  if (!G_IS_INET_SOCKET_ADDRESS (remote))
    {
      g_socket_close (socket, NULL);
      return;
    }

  inet = gc_inet_address_unmap (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
  address = g_inet_address_to_string (inet);
  peer = admission_get_peer (self, inet, address);

  /* One address cannot hold every handshake slot: its stalest goes if
   * it may; otherwise the global bound still holds. */
  if (self->config->max_handshakes_per_address > 0 &&
      peer->handshakes.length >= self->config->max_handshakes_per_address)
    {
      GcHandshake *victim = peer_find_victim (peer, g_get_monotonic_time ());

      if (victim != NULL)
        {
          gc_server_log_event (G_LOG_LEVEL_DEBUG, "handshake-evicted", NULL, NULL,
                               victim->address, "too many handshakes from one address");
          gc_handshake_abandon (victim);
        }
    }

  hs = gc_handshake_new (self, socket, local_address, local_port, remote, peer, address,
                         g_get_monotonic_time () +
                         (gint64) self->config->handshake_timeout_seconds * G_USEC_PER_SEC);
  g_queue_push_tail_link (&self->handshakes, &hs->link);
  g_queue_push_tail_link (&peer->handshakes, &hs->peer_link);
  if (self->handshakes.length == 1)
    admission_update_handshake_timer (self);

  gc_handshake_start (hs, self->tls_certificate != NULL);
}

/* Admission ------------------------------------------------------------------ */

gboolean
gc_handshake_take_join (GcHandshake *hs,
                        gint64      *out_retry_after_us)
{
  const GcServerConfig *config;

  if (hs->admission == NULL)
    return TRUE;

  config = hs->admission->config;
  if (config->join_per_second <= 0)
    return TRUE;

  return gc_token_bucket_take (&hs->peer->joins, config->join_burst, config->join_per_second,
                               g_get_monotonic_time (), out_retry_after_us);
}

gboolean
gc_admission_is_full (GcAdmission *self)
{
  g_return_val_if_fail (GC_IS_ADMISSION (self), FALSE);

  return admission_is_full (self);
}

guint
gc_admission_get_n_handshakes (GcAdmission *self)
{
  g_return_val_if_fail (GC_IS_ADMISSION (self), 0);

  return self->handshakes.length;
}

guint64
gc_admission_get_n_refused (GcAdmission *self)
{
  g_return_val_if_fail (GC_IS_ADMISSION (self), 0);

  return self->n_refused;
}

GcHandshake *
gc_admission_lookup (SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  return remote != NULL ? g_object_get_qdata (G_OBJECT (remote), gc_handshake_quark ()) : NULL;
}

void
gc_admission_abandon_all (GcAdmission *self)
{
  g_return_if_fail (GC_IS_ADMISSION (self));

  while (self->handshakes.head != NULL)
    gc_handshake_abandon (self->handshakes.head->data);
}

void
gc_admission_set_request_func (GcAdmission           *self,
                               GcAdmissionRequestFunc func,
                               gpointer               user_data)
{
  g_return_if_fail (GC_IS_ADMISSION (self));

  self->request_func = func;
  self->request_data = user_data;
}

void
gc_admission_set_tls_certificate (GcAdmission     *self,
                                  GTlsCertificate *certificate)
{
  g_return_if_fail (GC_IS_ADMISSION (self));

  g_set_object (&self->tls_certificate, certificate);
}

GcAdmission *
gc_admission_new (const GcServerConfig *config,
                  SoupServer           *soup,
                  GcAdmissionRoomFunc   room_func,
                  gpointer              user_data)
{
  GcAdmission *self;

  g_return_val_if_fail (config != NULL, NULL);
  g_return_val_if_fail (SOUP_IS_SERVER (soup), NULL);

  self = g_object_new (GC_TYPE_ADMISSION, NULL);
  self->config = config;
  self->soup = g_object_ref (soup);
  self->room_func = room_func;
  self->room_data = user_data;

  return self;
}

static void
gc_admission_dispose (GObject *object)
{
  GcAdmission *self = GC_ADMISSION (object);

  self->room_func = NULL;
  self->request_func = NULL;
  gc_admission_abandon_all (self);
  gc_clear_source (&self->handshake_timer);
  gc_clear_source (&self->idle_timer);
  gc_clear_source (&self->tls_timer);
  gc_clear_source (&self->peer_sweep);
  gc_clear_source (&self->watch);
  g_clear_object (&self->tls_certificate);
  g_clear_object (&self->soup);

  G_OBJECT_CLASS (gc_admission_parent_class)->dispose (object);
}

static void
gc_admission_finalize (GObject *object)
{
  GcAdmission *self = GC_ADMISSION (object);

  g_hash_table_unref (self->peers);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (gc_admission_parent_class)->finalize (object);
}

static void
gc_admission_class_init (GcAdmissionClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gc_admission_dispose;
  object_class->finalize = gc_admission_finalize;
}

static void
gc_admission_init (GcAdmission *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->peers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) gc_peer_free);
  g_queue_init (&self->handshakes);
  g_queue_init (&self->waiting);
  g_queue_init (&self->tls_waiting);
  g_queue_init (&self->tls_running);
  g_queue_init (&self->refused);

  self->handshake_timer = admission_add_timer (self, "[gochat] handshake deadline",
                                               on_handshake_timer);
  self->idle_timer = admission_add_timer (self, "[gochat] handshake idleness", on_idle_timer);
  self->tls_timer = admission_add_timer (self, "[gochat] TLS handshake places", on_tls_timer);
  self->peer_sweep = admission_add_timer (self, "[gochat] address table sweep", on_peer_sweep);
  self->watch = gc_handshake_watch_new (self->context);
  g_source_set_ready_time (self->peer_sweep,
                           g_get_monotonic_time () + PEER_SWEEP_SECONDS * G_USEC_PER_SEC);
}
