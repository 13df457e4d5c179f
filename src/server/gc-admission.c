/* gc-admission.c: accepted connections until libsoup has them
 *
 * Every accepted TCP connection is a handshake until it is upgraded or
 * libsoup answers it: a deadline per handshake, a cap overall and per
 * address (the oldest makes room when it may), each address's join
 * bucket, and the scheduling of TLS handshakes, which occupy a worker
 * thread each. GcServer accepts and stops accepting; this decides who
 * may go on and hands them to libsoup.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gnetworking.h>

#include "gc-admission-private.h"
#include "gc-server-private.h"
#include "gc-token-bucket.h"

#define PEER_SWEEP_SECONDS  10

/* When handshakes must make room, the oldest goes if it is older than
 * HANDSHAKE_GRACE_US, or older than HANDSHAKE_QUIET_US with nothing to
 * read: an honest client sends its request right after connecting, so a
 * burst of them (a benchmark, a NAT) gets through while the server
 * catches up, and connections that send nothing make room fast. */
#define HANDSHAKE_GRACE_US  (1 * G_USEC_PER_SEC)
#define HANDSHAKE_QUIET_US  (250 * G_TIME_SPAN_MILLISECOND)
/* How soon to look again when nothing could be evicted yet. */
#define HANDSHAKE_RECHECK_US (10 * G_TIME_SPAN_MILLISECOND)

/* A TLS handshake occupies a GLib worker thread until it ends (that is
 * how glib-networking does it), so one starts only once the client's
 * first TLS record is complete: connections that send nothing or dribble
 * bytes never take a thread. Partial records are looked at again after
 * this long. */
#define TLS_RECORD_HEADER_SIZE 5
#define TLS_CONTENT_HANDSHAKE  0x16
#define TLS_HELLO_RECHECK_MS   50

/* A client that sends its ClientHello and then nothing holds that
 * thread until the handshake deadline, and the pool (shared by the whole
 * process) grows only slowly: a few dozen such clients would stall every
 * TLS handshake. So few run at once and fewer per address; waiting ones
 * start in order of how few their address is running, and one that has
 * stalled this long gives up its place to a waiting one from an address
 * that runs fewer. */
#define TLS_MAX_RUNNING          8
#define TLS_MAX_RUNNING_PER_PEER 2
#define TLS_STALLED_US           (2 * G_USEC_PER_SEC)

/* Marks a remote address object with its handshake. */
static G_DEFINE_QUARK (gc-server-handshake, handshake)

typedef enum {
  GC_TLS_STATE_NONE,
  GC_TLS_STATE_WAITING,     /* its ClientHello is in; no place yet */
  GC_TLS_STATE_RUNNING,     /* in glib-networking's handshake thread */
} GcTlsState;

/* What we remember about one client address (an IPv4 address or an IPv6
 * /64): its join bucket and its handshakes in progress. */
typedef struct {
  char          *key;
  GcTokenBucket  joins;
  GQueue         handshakes;   /* GcHandshake, oldest first */
  guint          n_tls_running;
  gint64         tls_evicted_us;  /* when one of its TLS handshakes last was */
} GcPeer;

struct _GcHandshake {
  GcAdmission    *admission;       /* NULL once finished */
  GSocket        *socket;
  GTlsConnection *tls;             /* while the TLS handshake runs */
  GSource        *hello_source;    /* while waiting for the ClientHello */
  GIOStream      *stream;          /* given to libsoup; watched by a weak ref */
  GSocketAddress *local_address;
  GSocketAddress *remote_address;  /* carries the handshake as qdata */
  GcPeer         *peer;
  char           *address;         /* printable peer address */
  GCancellable   *cancellable;
  GList           link;            /* in admission->handshakes */
  GList           peer_link;       /* in peer->handshakes */
  GcTlsState      tls_state;
  GList           tls_link;        /* in admission->tls_waiting or tls_running */
  gint64          tls_started_us;
  gint64          accepted_us;
  gint64          deadline_us;
  guint           ref_count;
};

struct _GcAdmission
{
  GObject               parent_instance;

  const GcServerConfig *config;        /* the server's */
  GMainContext         *context;
  SoupServer           *soup;
  GTlsCertificate      *tls_certificate;
  GcAdmissionRoomFunc   room_func;
  gpointer              room_data;

  GHashTable           *peers;         /* key → GcPeer */
  GQueue                handshakes;    /* GcHandshake, earliest deadline first */
  GQueue                tls_waiting;   /* GcHandshake, GC_TLS_STATE_WAITING, oldest first */
  GQueue                tls_running;   /* GcHandshake, GC_TLS_STATE_RUNNING, oldest first */
  GSource              *tls_timer;     /* schedules waiting TLS handshakes */
  GSource              *handshake_timer;
  GSource              *peer_sweep;
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

/* Peers (per-address state) ------------------------------------------------ */

/* IPv4-mapped IPv6 addresses (dual-stack sockets) as plain IPv4. */
static GInetAddress *
inet_address_unmap (GInetAddress *address)
{
  const guint8 *bytes = g_inet_address_to_bytes (address);
  static const guint8 mapped_prefix[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV6 &&
      memcmp (bytes, mapped_prefix, sizeof mapped_prefix) == 0)
    return g_inet_address_new_from_bytes (bytes + 12, G_SOCKET_FAMILY_IPV4);

  return g_object_ref (address);
}

/* One IPv6 host usually owns a whole /64, so that is what we limit. */
static char *
peer_key_for (GInetAddress *address)
{
  const guint8 *b = g_inet_address_to_bytes (address);

  if (g_inet_address_get_family (address) == G_SOCKET_FAMILY_IPV4)
    return g_inet_address_to_string (address);

  return g_strdup_printf ("%x:%x:%x:%x::/64",
                          b[0] << 8 | b[1], b[2] << 8 | b[3],
                          b[4] << 8 | b[5], b[6] << 8 | b[7]);
}

static void
peer_free (GcPeer *peer)
{
  g_assert (peer->handshakes.length == 0);
  g_free (peer->key);
  g_free (peer);
}

static GcPeer *
admission_get_peer (GcAdmission  *self,
                    GInetAddress *address)
{
  g_autofree char *key = peer_key_for (address);
  GcPeer *peer = g_hash_table_lookup (self->peers, key);

  if (peer != NULL)
    return peer;

  peer = g_new0 (GcPeer, 1);
  peer->key = g_steal_pointer (&key);
  gc_token_bucket_init (&peer->joins, self->config->join_burst, g_get_monotonic_time ());
  g_hash_table_insert (self->peers, peer->key, peer);

  return peer;
}

static gboolean
peer_is_idle (GcAdmission *self,
              GcPeer      *peer,
              gint64       now)
{
  return peer->handshakes.length == 0 &&
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

/* Handshakes --------------------------------------------------------------- */

GcHandshake *
gc_handshake_ref (GcHandshake *hs)
{
  hs->ref_count++;
  return hs;
}

void
gc_handshake_unref (GcHandshake *hs)
{
  if (--hs->ref_count > 0)
    return;

  g_assert (hs->admission == NULL);
  g_clear_object (&hs->tls);
  g_clear_object (&hs->socket);
  g_clear_object (&hs->local_address);
  g_clear_object (&hs->remote_address);
  g_clear_object (&hs->cancellable);
  g_free (hs->address);
  g_free (hs);
}

/* Whether @hs may be closed to make room; if not, @retry_at_us says
 * when to ask again. */
static gboolean
handshake_is_evictable (GcHandshake *hs,
                        gint64       now,
                        gint64      *retry_at_us)
{
  gint64 age = now - hs->accepted_us;

  if (age >= HANDSHAKE_GRACE_US)
    return TRUE;

  if (g_socket_get_available_bytes (hs->socket) > 0)
    {
      /* Its request is here; libsoup just has not read it yet. */
      *retry_at_us = now + HANDSHAKE_RECHECK_US;
      return FALSE;
    }

  if (age >= HANDSHAKE_QUIET_US)
    return TRUE;

  *retry_at_us = hs->accepted_us + HANDSHAKE_QUIET_US;
  return FALSE;
}

static gboolean
admission_is_full (GcAdmission *self)
{
  return self->config->max_handshakes > 0 &&
         self->handshakes.length >= self->config->max_handshakes;
}

static void
admission_update_handshake_timer (GcAdmission *self)
{
  GcHandshake *oldest = g_queue_peek_head (&self->handshakes);

  if (self->handshake_timer != NULL)
    g_source_set_ready_time (self->handshake_timer, oldest != NULL ? oldest->deadline_us : -1);
}

static void on_handshake_stream_finalized (gpointer  user_data,
                                           GObject  *where_the_object_was);

/* The TLS handshake of @hs ended, or will never start: its place is free. */
static void
handshake_end_tls (GcAdmission *self,
                   GcHandshake *hs)
{
  switch (hs->tls_state)
    {
    case GC_TLS_STATE_WAITING:
      g_queue_unlink (&self->tls_waiting, &hs->tls_link);
      break;
    case GC_TLS_STATE_RUNNING:
      g_queue_unlink (&self->tls_running, &hs->tls_link);
      hs->peer->n_tls_running--;
      if (self->tls_waiting.length > 0 && self->tls_timer != NULL)
        g_source_set_ready_time (self->tls_timer, 0);
      break;
    case GC_TLS_STATE_NONE:
    default:
      return;
    }

  hs->tls_state = GC_TLS_STATE_NONE;
}

/* The handshake no longer counts: upgraded, answered, or abandoned. */
void
gc_handshake_finish (GcHandshake *hs)
{
  GcAdmission *self = hs->admission;

  if (self == NULL)
    return;
  hs->admission = NULL;

  gc_clear_source (&hs->hello_source);
  handshake_end_tls (self, hs);

  if (hs->stream != NULL)
    {
      g_object_weak_unref (G_OBJECT (hs->stream), on_handshake_stream_finalized, hs);
      hs->stream = NULL;
    }
  g_object_set_qdata (G_OBJECT (hs->remote_address), handshake_quark (), NULL);

  g_queue_unlink (&self->handshakes, &hs->link);
  g_queue_unlink (&hs->peer->handshakes, &hs->peer_link);
  hs->peer = NULL;
  admission_update_handshake_timer (self);

  if (self->room_func != NULL && !admission_is_full (self))
    self->room_func (self->room_data);

  gc_handshake_unref (hs);
}

/* Closes a handshake that took too long or must make room: libsoup (or
 * the TLS handshake) sees the connection end and lets go of it. */
static void
handshake_abandon (GcHandshake *hs)
{
  g_cancellable_cancel (hs->cancellable);
  g_socket_shutdown (hs->socket, TRUE, TRUE, NULL);
  gc_handshake_finish (hs);
}

static void
on_handshake_stream_finalized (gpointer  user_data,
                               GObject  *where_the_object_was)
{
  GcHandshake *hs = user_data;

  hs->stream = NULL;
  gc_handshake_finish (hs);
}

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
      handshake_abandon (oldest);
    }

  admission_update_handshake_timer (self);

  return G_SOURCE_CONTINUE;
}

static void
handshake_give_to_soup (GcHandshake *hs,
                        GIOStream   *stream)
{
  g_autoptr(GcHandshake) hold = gc_handshake_ref (hs);
  GcAdmission *self = hs->admission;

  hs->stream = stream;
  g_object_weak_ref (G_OBJECT (stream), on_handshake_stream_finalized, hs);
  soup_server_accept_iostream (self->soup, stream, hs->local_address, hs->remote_address, NULL);
  g_object_unref (stream);
}

static void
on_tls_handshake_done (GObject      *source,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GcHandshake) hs = user_data;
  g_autoptr(GError) error = NULL;
  GTlsConnection *tls = G_TLS_CONNECTION (source);

  if (!g_tls_connection_handshake_finish (tls, result, &error) || hs->admission == NULL)
    {
      if (error != NULL)
        gc_server_log_event (G_LOG_LEVEL_DEBUG, "tls-failed", NULL, NULL,
                             hs->address, error->message);
      /* Closing the socket, not the TLS stream: a TLS close would try to
       * write to a peer that may not read. */
      g_socket_close (hs->socket, NULL);
      g_clear_object (&hs->tls);
      gc_handshake_finish (hs);
      return;
    }

  handshake_end_tls (hs->admission, hs);
  handshake_give_to_soup (hs, G_IO_STREAM (g_steal_pointer (&hs->tls)));
}

static void
handshake_start_tls (GcHandshake *hs)
{
  g_autoptr(GSocketConnection) connection = g_socket_connection_factory_create_connection (hs->socket);
  g_autoptr(GError) error = NULL;

  /* No trust database: we ask no client certificates, and without this
   * glib-networking loads the whole system store into every connection
   * (about 4 MB and 10 ms each). */
  hs->tls = g_initable_new (g_tls_backend_get_server_connection_type (g_tls_backend_get_default ()),
                            NULL, &error,
                            "base-io-stream", connection,
                            "certificate", hs->admission->tls_certificate,
                            "database", NULL,
                            NULL);
  if (hs->tls == NULL)
    {
      gc_server_log_event (G_LOG_LEVEL_WARNING, "tls-failed", NULL, NULL,
                           hs->address, error->message);
      g_socket_close (hs->socket, NULL);
      gc_handshake_finish (hs);
      return;
    }

  /* Many clients end TLS without close_notify; that is no attack on a
   * protocol with its own closing handshake. */
  g_tls_connection_set_require_close_notify (hs->tls, FALSE);
  g_tls_connection_handshake_async (hs->tls, G_PRIORITY_DEFAULT, hs->cancellable,
                                    on_tls_handshake_done, gc_handshake_ref (hs));
}

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
 * below its limit (and, with @evicting, may close a stalled one), one
 * whose address runs the fewest, the oldest of them; or %NULL. */
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
      if (best == NULL || hs->peer->n_tls_running < best->peer->n_tls_running)
        best = hs;
    }

  return best;
}

/* The oldest running TLS handshake from an address that runs more than
 * @n_running, if it has stalled; otherwise %NULL, and @retry_at_us says
 * when it will have (or -1: there is none). */
static GcHandshake *
admission_find_stalled_tls (GcAdmission *self,
                            guint        n_running,
                            gint64       now,
                            gint64      *retry_at_us)
{
  *retry_at_us = -1;

  for (GList *l = self->tls_running.head; l != NULL; l = l->next)
    {
      GcHandshake *hs = l->data;

      if (hs->peer->n_tls_running <= n_running)
        continue;
      if (now - hs->tls_started_us >= TLS_STALLED_US)
        return hs;
      *retry_at_us = hs->tls_started_us + TLS_STALLED_US;
      return NULL;
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
          stalled = admission_find_stalled_tls (self, next->peer->n_tls_running, now, &retry_at_us);
          if (stalled == NULL)
            break;
          gc_server_log_event (G_LOG_LEVEL_DEBUG, "handshake-evicted", NULL, NULL,
                               stalled->address, "TLS handshake stalled");
          stalled->peer->tls_evicted_us = now;
          handshake_abandon (stalled);
        }
      if (next == NULL)
        break;

      g_queue_unlink (&self->tls_waiting, &next->tls_link);
      g_queue_push_tail_link (&self->tls_running, &next->tls_link);
      next->tls_state = GC_TLS_STATE_RUNNING;
      next->tls_started_us = now;
      next->peer->n_tls_running++;
      handshake_start_tls (next);
    }

  g_source_set_ready_time (self->tls_timer, retry_at_us);

  return G_SOURCE_CONTINUE;
}

/* The ClientHello of @hs is in: its TLS handshake starts when there is
 * room. */
static void
handshake_queue_tls (GcHandshake *hs)
{
  GcAdmission *self = hs->admission;

  hs->tls_state = GC_TLS_STATE_WAITING;
  hs->tls_link.data = hs;
  g_queue_push_tail_link (&self->tls_waiting, &hs->tls_link);
  g_source_set_ready_time (self->tls_timer, 0);
}

typedef enum {
  HELLO_WAIT_DATA,     /* nothing to read yet */
  HELLO_WAIT_MORE,     /* part of the first record */
  HELLO_READY,
  HELLO_FAILED,        /* EOF, error, or not TLS */
} HelloState;

/* Peeks at the first TLS record without consuming anything. */
static HelloState
handshake_peek_hello (GcHandshake *hs)
{
  guint8 header[TLS_RECORD_HEADER_SIZE];
  GInputVector vector = { header, sizeof header };
  g_autoptr(GError) error = NULL;
  int flags = G_SOCKET_MSG_PEEK;
  gssize n;
  gsize record_size;

  n = g_socket_receive_message (hs->socket, NULL, &vector, 1, NULL, NULL, &flags, NULL, &error);
  if (n < 0)
    return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK) ? HELLO_WAIT_DATA : HELLO_FAILED;
  if (n == 0 || header[0] != TLS_CONTENT_HANDSHAKE)
    return HELLO_FAILED;
  if (n < TLS_RECORD_HEADER_SIZE)
    return HELLO_WAIT_MORE;

  record_size = TLS_RECORD_HEADER_SIZE + ((gsize) header[3] << 8 | header[4]);
  if (g_socket_get_available_bytes (hs->socket) < (gssize) record_size)
    return HELLO_WAIT_MORE;

  return HELLO_READY;
}

static void handshake_wait_for_hello (GcHandshake *hs,
                                      HelloState   state);

static gboolean
on_hello_ready (gpointer user_data)
{
  GcHandshake *hs = user_data;
  HelloState state = handshake_peek_hello (hs);

  gc_clear_source (&hs->hello_source);

  switch (state)
    {
    case HELLO_READY:
      handshake_queue_tls (hs);
      break;
    case HELLO_FAILED:
      g_socket_close (hs->socket, NULL);
      gc_handshake_finish (hs);
      break;
    case HELLO_WAIT_DATA:
    case HELLO_WAIT_MORE:
    default:
      handshake_wait_for_hello (hs, state);
      break;
    }

  return G_SOURCE_REMOVE;
}

static gboolean
on_hello_readable (GSocket      *socket,
                   GIOCondition  condition,
                   gpointer      user_data)
{
  return on_hello_ready (user_data);
}

/* Waits for readability, or (with part of a record already there, which
 * keeps the socket readable) for a moment. */
static void
handshake_wait_for_hello (GcHandshake *hs,
                          HelloState   state)
{
  if (state == HELLO_WAIT_DATA)
    {
      hs->hello_source = g_socket_create_source (hs->socket, G_IO_IN, NULL);
      g_source_set_callback (hs->hello_source, G_SOURCE_FUNC (on_hello_readable), hs, NULL);
    }
  else
    {
      hs->hello_source = g_timeout_source_new (TLS_HELLO_RECHECK_MS);
      g_source_set_callback (hs->hello_source, on_hello_ready, hs, NULL);
    }
  g_source_set_static_name (hs->hello_source, "[gochat] TLS hello");
  g_source_attach (hs->hello_source, hs->admission->context);
}

void
gc_admission_accept (GcAdmission *self,
                     GSocket     *socket)
{
  g_autoptr(GSocketAddress) remote = g_socket_get_remote_address (socket, NULL);
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (socket, NULL);
  g_autoptr(GInetAddress) inet = NULL;
  GcHandshake *hs;
  GcPeer *peer;

  g_return_if_fail (GC_IS_ADMISSION (self));
  g_return_if_fail (G_IS_SOCKET (socket));

  if (!G_IS_INET_SOCKET_ADDRESS (remote) || local == NULL)
    {
      g_socket_close (socket, NULL);
      return;
    }

  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);

  inet = inet_address_unmap (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
  peer = admission_get_peer (self, inet);

  /* One address cannot hold every handshake slot: its oldest goes if it
   * may; otherwise the global bound still holds. */
  if (self->config->max_handshakes_per_address > 0 &&
      peer->handshakes.length >= self->config->max_handshakes_per_address &&
      handshake_is_evictable (g_queue_peek_head (&peer->handshakes), g_get_monotonic_time (),
                              &(gint64) { 0 }))
    {
      GcHandshake *oldest = g_queue_peek_head (&peer->handshakes);

      gc_server_log_event (G_LOG_LEVEL_DEBUG, "handshake-evicted", NULL, NULL,
                           oldest->address, "too many handshakes from one address");
      handshake_abandon (oldest);
    }

  hs = g_new0 (GcHandshake, 1);
  hs->ref_count = 1;
  hs->admission = self;
  hs->socket = g_object_ref (socket);
  hs->local_address = g_steal_pointer (&local);
  hs->remote_address = g_steal_pointer (&remote);
  hs->peer = peer;
  hs->address = g_inet_address_to_string (inet);
  hs->cancellable = g_cancellable_new ();
  hs->accepted_us = g_get_monotonic_time ();
  hs->deadline_us = hs->accepted_us +
                    (gint64) self->config->handshake_timeout_seconds * G_USEC_PER_SEC;
  hs->link.data = hs;
  hs->peer_link.data = hs;
  g_queue_push_tail_link (&self->handshakes, &hs->link);
  g_queue_push_tail_link (&peer->handshakes, &hs->peer_link);
  g_object_set_qdata (G_OBJECT (hs->remote_address), handshake_quark (), hs);
  if (self->handshakes.length == 1)
    admission_update_handshake_timer (self);

  if (self->tls_certificate == NULL)
    handshake_give_to_soup (hs, G_IO_STREAM (g_socket_connection_factory_create_connection (socket)));
  else
    handshake_wait_for_hello (hs, HELLO_WAIT_DATA);
}


/* Admission ------------------------------------------------------------------ */

const char *
gc_handshake_get_address (GcHandshake *hs)
{
  return hs->address;
}

gboolean
gc_handshake_is_pending (GcHandshake *hs)
{
  return hs->admission != NULL;
}

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
gc_admission_make_room (GcAdmission *self,
                        guint       *out_retry_ms)
{
  GcHandshake *oldest;
  gint64 now;
  gint64 retry_at_us = 0;

  g_return_val_if_fail (GC_IS_ADMISSION (self), FALSE);

  if (!admission_is_full (self))
    return TRUE;

  oldest = g_queue_peek_head (&self->handshakes);
  now = g_get_monotonic_time ();
  if (!handshake_is_evictable (oldest, now, &retry_at_us))
    {
      *out_retry_ms = (guint) ((retry_at_us - now + 999) / 1000);
      return FALSE;
    }

  gc_server_log_event (G_LOG_LEVEL_DEBUG, "handshake-evicted", NULL, NULL,
                       oldest->address, "too many handshakes");
  handshake_abandon (oldest);

  return TRUE;
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

GcHandshake *
gc_admission_lookup (SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  return remote != NULL ? g_object_get_qdata (G_OBJECT (remote), handshake_quark ()) : NULL;
}

void
gc_admission_abandon_all (GcAdmission *self)
{
  g_return_if_fail (GC_IS_ADMISSION (self));

  while (self->handshakes.head != NULL)
    handshake_abandon (self->handshakes.head->data);
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
  gc_admission_abandon_all (self);
  gc_clear_source (&self->handshake_timer);
  gc_clear_source (&self->tls_timer);
  gc_clear_source (&self->peer_sweep);
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
  self->peers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) peer_free);
  g_queue_init (&self->handshakes);
  g_queue_init (&self->tls_waiting);
  g_queue_init (&self->tls_running);

  self->handshake_timer = admission_add_timer (self, "[gochat] handshake deadline",
                                               on_handshake_timer);
  self->tls_timer = admission_add_timer (self, "[gochat] TLS handshake places", on_tls_timer);
  self->peer_sweep = admission_add_timer (self, "[gochat] address table sweep", on_peer_sweep);
  g_source_set_ready_time (self->peer_sweep,
                           g_get_monotonic_time () + PEER_SWEEP_SECONDS * G_USEC_PER_SEC);
}
