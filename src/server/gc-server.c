/* gc-server.c: listening, HTTP endpoints, join admission, the room hub
 *
 * We accept TCP ourselves and hand each connection to libsoup with
 * soup_server_accept_iostream(), so that every connection is accounted
 * for until it is upgraded or answered: a deadline per handshake, a cap
 * per address, and back-pressure (we stop accepting) when too many are in
 * progress. libsoup parses the HTTP request; the refusals are ours, in
 * the order of protocol.md §7; src/ws does the upgrade.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <gio/gnetworking.h>
#include <libsoup/soup.h>

#include "gc-server-private.h"
#include "gc-token-bucket.h"
#include "gc-ws-handshake.h"
#include "gc-ws-poller.h"

#define SHUTDOWN_GRACE_MS   2000
#define ACCEPTS_PER_WAKEUP  64
#define ACCEPT_RETRY_MS     100
#define LISTEN_BACKLOG      1024
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

static const char * const subprotocols[] = { GC_PROTOCOL_SUBPROTOCOL, NULL };

/* Marks a remote address object with its handshake. */
static G_DEFINE_QUARK (gc-server-handshake, handshake)

typedef struct _GcHandshake GcHandshake;

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

/* One accepted TCP connection until it is upgraded or libsoup lets go. */
struct _GcHandshake {
  GcServer       *server;          /* NULL once finished */
  GSocket        *socket;
  GTlsConnection *tls;             /* while the TLS handshake runs */
  GSource        *hello_source;    /* while waiting for the ClientHello */
  GIOStream      *stream;          /* given to libsoup; watched by a weak ref */
  GSocketAddress *local_address;
  GSocketAddress *remote_address;  /* carries the handshake as qdata */
  GcPeer         *peer;
  char           *address;         /* printable peer address */
  GCancellable   *cancellable;
  GList           link;            /* in server->handshakes */
  GList           peer_link;       /* in peer->handshakes */
  GcTlsState      tls_state;
  GList           tls_link;        /* in server->tls_waiting or tls_running */
  gint64          tls_started_us;
  gint64          accepted_us;
  gint64          deadline_us;
  guint           ref_count;
};

typedef struct {
  GcServer *server;
  GSocket  *socket;
  GSource  *source;                /* while accepting */
  guint16   port;
} GcListener;

/* A join whose upgrade is in progress. */
typedef struct {
  GWeakRef     server;
  GcHandshake *handshake;
  GcRoom      *room;
  GcMember    *member;
  gboolean     resume;
  gboolean     has_since;
  guint64      since;
  gboolean     done;
} GcJoin;

struct _GcServer
{
  GObject           parent_instance;

  GcServerConfig    config;
  char            **allowed_origins;   /* config.allowed_origins points here */
  GcLimits          limits;

  GMainContext     *context;
  GcWsPoller       *poller;
  SoupServer       *soup;
  GTlsCertificate  *tls_certificate;

  GPtrArray        *listeners;         /* GcListener */
  gboolean          accept_paused;     /* out of fds, or too many handshakes */
  GSource          *accept_retry;      /* resumes accepting while paused */

  GHashTable       *rooms;             /* canonical code → GcRoom (the only strong ref) */
  GHashTable       *connections;       /* open GcWsConnection (strong refs) */
  GHashTable       *peers;             /* key → GcPeer */
  GQueue            handshakes;        /* GcHandshake, earliest deadline first */
  GQueue            tls_waiting;       /* GcHandshake, GC_TLS_STATE_WAITING, oldest first */
  GQueue            tls_running;       /* GcHandshake, GC_TLS_STATE_RUNNING, oldest first */
  GSource          *tls_timer;         /* schedules waiting TLS handshakes */
  GSource          *handshake_timer;
  GSource          *peer_sweep;

  guint64           last_message_id;
  gint64            started_us;
  guint64           counters[GC_SERVER_N_COUNTERS];
  guint64           refusals[GC_PROTOCOL_ERROR_SERVER_FULL + 1];
  guint64           leaves[GC_LEAVE_REASON_ERROR + 1];

  GTask            *shutdown_task;
  GSource          *shutdown_timer;
  gboolean          shutting_down;
};

G_DEFINE_FINAL_TYPE (GcServer, gc_server, G_TYPE_OBJECT)

static void server_watch_listeners (GcServer *self);
static void server_resume_accepting (GcServer *self);
static void server_finish_shutdown (GcServer *self);

/* Configuration ------------------------------------------------------------ */

void
gc_server_config_init_default (GcServerConfig *config)
{
  g_return_if_fail (config != NULL);

  *config = (GcServerConfig) {
    .history = 100,
    .resume_seconds = GC_PROTOCOL_DEFAULT_RESUME_S,
    .max_queued_bytes = 1024 * 1024,
    .rate_burst = GC_PROTOCOL_DEFAULT_RATE_BURST,
    .rate_per_second = GC_PROTOCOL_DEFAULT_RATE_PER_S,
    .join_burst = 30,
    .join_per_second = 10,
    .max_connections = 1024,
    .room_max_members = 1000,
    .max_message_bytes = GC_PROTOCOL_DEFAULT_MAX_MESSAGE_BYTES,
    .max_text_bytes = GC_PROTOCOL_DEFAULT_MAX_TEXT_BYTES,
    .keepalive_seconds = 25,
    .idle_timeout_seconds = 60,
    .allowed_origins = NULL,
    .handshake_timeout_seconds = 10,
    .max_handshakes = 1024,
    .max_handshakes_per_address = 64,
  };
}

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
server_add_timer (GcServer    *self,
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

static void
clear_source (GSource **source)
{
  if (*source == NULL)
    return;

  g_source_destroy (*source);
  g_clear_pointer (source, g_source_unref);
}

/* Logging ------------------------------------------------------------------ */

void
gc_server_log_event (GLogLevelFlags  level,
                     const char     *event,
                     const char     *room,
                     const char     *user_id,
                     const char     *address,
                     const char     *reason)
{
  g_autoptr(GString) text = g_string_new (event);
  GLogField fields[8];
  gsize n = 0;
  const char *priority = (level & G_LOG_LEVEL_WARNING) ? "4" :
                         (level & G_LOG_LEVEL_MESSAGE) ? "5" :
                         (level & G_LOG_LEVEL_INFO) ? "6" : "7";

#define ADD_FIELD(k, v) \
  G_STMT_START { \
    fields[n].key = (k); fields[n].value = (v); fields[n].length = -1; n++; \
  } G_STMT_END

  ADD_FIELD ("PRIORITY", priority);
  ADD_FIELD ("GLIB_DOMAIN", G_LOG_DOMAIN);
  ADD_FIELD ("GOCHAT_EVENT", event);
  if (room != NULL)
    {
      g_string_append_printf (text, " room=%s", room);
      ADD_FIELD ("GOCHAT_ROOM", room);
    }
  if (user_id != NULL)
    {
      g_string_append_printf (text, " user=%s", user_id);
      ADD_FIELD ("GOCHAT_USER_ID", user_id);
    }
  if (address != NULL)
    {
      g_string_append_printf (text, " address=%s", address);
      ADD_FIELD ("GOCHAT_ADDRESS", address);
    }
  if (reason != NULL)
    {
      g_string_append_printf (text, " reason=%s", reason);
      ADD_FIELD ("GOCHAT_REASON", reason);
    }
  ADD_FIELD ("MESSAGE", text->str);

#undef ADD_FIELD

  g_log_structured_array (level, fields, n);
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
server_get_peer (GcServer     *self,
                 GInetAddress *address)
{
  g_autofree char *key = peer_key_for (address);
  GcPeer *peer = g_hash_table_lookup (self->peers, key);

  if (peer != NULL)
    return peer;

  peer = g_new0 (GcPeer, 1);
  peer->key = g_steal_pointer (&key);
  gc_token_bucket_init (&peer->joins, self->config.join_burst, g_get_monotonic_time ());
  g_hash_table_insert (self->peers, peer->key, peer);

  return peer;
}

static gboolean
peer_is_idle (GcServer *self,
              GcPeer   *peer,
              gint64    now)
{
  return peer->handshakes.length == 0 &&
         (self->config.join_per_second <= 0 ||
          gc_token_bucket_is_full (&peer->joins, self->config.join_burst,
                                   self->config.join_per_second, now));
}

/* Keeps the address table bounded: idle entries carry no state. */
static gboolean
on_peer_sweep (gpointer user_data)
{
  GcServer *self = user_data;
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

static GcHandshake *
handshake_ref (GcHandshake *hs)
{
  hs->ref_count++;
  return hs;
}

static void
handshake_unref (GcHandshake *hs)
{
  if (--hs->ref_count > 0)
    return;

  g_assert (hs->server == NULL);
  g_clear_object (&hs->tls);
  g_clear_object (&hs->socket);
  g_clear_object (&hs->local_address);
  g_clear_object (&hs->remote_address);
  g_clear_object (&hs->cancellable);
  g_free (hs->address);
  g_free (hs);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcHandshake, handshake_unref)

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
server_handshakes_full (GcServer *self)
{
  return self->config.max_handshakes > 0 &&
         self->handshakes.length >= self->config.max_handshakes;
}

static void
server_update_handshake_timer (GcServer *self)
{
  GcHandshake *oldest = g_queue_peek_head (&self->handshakes);

  if (self->handshake_timer != NULL)
    g_source_set_ready_time (self->handshake_timer, oldest != NULL ? oldest->deadline_us : -1);
}

static void on_handshake_stream_finalized (gpointer  user_data,
                                           GObject  *where_the_object_was);

/* The TLS handshake of @hs ended, or will never start: its place is free. */
static void
handshake_end_tls (GcServer    *self,
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
static void
handshake_finish (GcHandshake *hs)
{
  GcServer *self = hs->server;

  if (self == NULL)
    return;
  hs->server = NULL;

  clear_source (&hs->hello_source);
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
  server_update_handshake_timer (self);

  if (self->accept_paused && !server_handshakes_full (self))
    server_resume_accepting (self);

  handshake_unref (hs);
}

/* Closes a handshake that took too long or must make room: libsoup (or
 * the TLS handshake) sees the connection end and lets go of it. */
static void
handshake_abandon (GcHandshake *hs)
{
  g_cancellable_cancel (hs->cancellable);
  g_socket_shutdown (hs->socket, TRUE, TRUE, NULL);
  handshake_finish (hs);
}

static void
on_handshake_stream_finalized (gpointer  user_data,
                               GObject  *where_the_object_was)
{
  GcHandshake *hs = user_data;

  hs->stream = NULL;
  handshake_finish (hs);
}

static gboolean
on_handshake_timer (gpointer user_data)
{
  GcServer *self = user_data;
  gint64 now = g_get_monotonic_time ();
  GcHandshake *oldest;

  while ((oldest = g_queue_peek_head (&self->handshakes)) != NULL &&
         oldest->deadline_us <= now)
    {
      gc_server_log_event (G_LOG_LEVEL_DEBUG, "handshake-timeout", NULL, NULL,
                           oldest->address, NULL);
      handshake_abandon (oldest);
    }

  server_update_handshake_timer (self);

  return G_SOURCE_CONTINUE;
}

static void
handshake_give_to_soup (GcHandshake *hs,
                        GIOStream   *stream)
{
  g_autoptr(GcHandshake) hold = handshake_ref (hs);
  GcServer *self = hs->server;

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

  if (!g_tls_connection_handshake_finish (tls, result, &error) || hs->server == NULL)
    {
      if (error != NULL)
        gc_server_log_event (G_LOG_LEVEL_DEBUG, "tls-failed", NULL, NULL,
                             hs->address, error->message);
      /* Closing the socket, not the TLS stream: a TLS close would try to
       * write to a peer that may not read. */
      g_socket_close (hs->socket, NULL);
      g_clear_object (&hs->tls);
      handshake_finish (hs);
      return;
    }

  handshake_end_tls (hs->server, hs);
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
                            "certificate", hs->server->tls_certificate,
                            "database", NULL,
                            NULL);
  if (hs->tls == NULL)
    {
      gc_server_log_event (G_LOG_LEVEL_WARNING, "tls-failed", NULL, NULL,
                           hs->address, error->message);
      g_socket_close (hs->socket, NULL);
      handshake_finish (hs);
      return;
    }

  /* Many clients end TLS without close_notify; that is no attack on a
   * protocol with its own closing handshake. */
  g_tls_connection_set_require_close_notify (hs->tls, FALSE);
  g_tls_connection_handshake_async (hs->tls, G_PRIORITY_DEFAULT, hs->cancellable,
                                    on_tls_handshake_done, handshake_ref (hs));
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
server_next_tls_waiting (GcServer *self,
                         gboolean  evicting,
                         gint64    now)
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
server_find_stalled_tls (GcServer *self,
                         guint     n_running,
                         gint64    now,
                         gint64   *retry_at_us)
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
  GcServer *self = user_data;
  gint64 now = g_get_monotonic_time ();
  gint64 retry_at_us = -1;
  GcHandshake *next;

  for (;;)
    {
      if (self->tls_running.length < TLS_MAX_RUNNING)
        {
          next = server_next_tls_waiting (self, FALSE, now);
        }
      else
        {
          GcHandshake *stalled;

          next = server_next_tls_waiting (self, TRUE, now);
          if (next == NULL)
            break;
          stalled = server_find_stalled_tls (self, next->peer->n_tls_running, now, &retry_at_us);
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
  GcServer *self = hs->server;

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

  clear_source (&hs->hello_source);

  switch (state)
    {
    case HELLO_READY:
      handshake_queue_tls (hs);
      break;
    case HELLO_FAILED:
      g_socket_close (hs->socket, NULL);
      handshake_finish (hs);
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
  g_source_attach (hs->hello_source, hs->server->context);
}

static void
server_accept_socket (GcServer *self,
                      GSocket  *socket)
{
  g_autoptr(GSocketAddress) remote = g_socket_get_remote_address (socket, NULL);
  g_autoptr(GSocketAddress) local = g_socket_get_local_address (socket, NULL);
  g_autoptr(GInetAddress) inet = NULL;
  GcHandshake *hs;
  GcPeer *peer;

  if (!G_IS_INET_SOCKET_ADDRESS (remote) || local == NULL)
    {
      g_socket_close (socket, NULL);
      return;
    }

  g_socket_set_option (socket, IPPROTO_TCP, TCP_NODELAY, TRUE, NULL);

  inet = inet_address_unmap (g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (remote)));
  peer = server_get_peer (self, inet);

  /* One address cannot hold every handshake slot: its oldest goes if it
   * may; otherwise the global bound still holds. */
  if (self->config.max_handshakes_per_address > 0 &&
      peer->handshakes.length >= self->config.max_handshakes_per_address &&
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
  hs->server = self;
  hs->socket = g_object_ref (socket);
  hs->local_address = g_steal_pointer (&local);
  hs->remote_address = g_steal_pointer (&remote);
  hs->peer = peer;
  hs->address = g_inet_address_to_string (inet);
  hs->cancellable = g_cancellable_new ();
  hs->accepted_us = g_get_monotonic_time ();
  hs->deadline_us = hs->accepted_us +
                    (gint64) self->config.handshake_timeout_seconds * G_USEC_PER_SEC;
  hs->link.data = hs;
  hs->peer_link.data = hs;
  g_queue_push_tail_link (&self->handshakes, &hs->link);
  g_queue_push_tail_link (&peer->handshakes, &hs->peer_link);
  g_object_set_qdata (G_OBJECT (hs->remote_address), handshake_quark (), hs);
  if (self->handshakes.length == 1)
    server_update_handshake_timer (self);

  if (self->tls_certificate == NULL)
    handshake_give_to_soup (hs, G_IO_STREAM (g_socket_connection_factory_create_connection (socket)));
  else
    handshake_wait_for_hello (hs, HELLO_WAIT_DATA);
}

/* Listening ---------------------------------------------------------------- */

static void
listener_free (GcListener *listener)
{
  clear_source (&listener->source);
  g_socket_close (listener->socket, NULL);
  g_object_unref (listener->socket);
  g_free (listener);
}

static void
server_unwatch_listeners (GcServer *self)
{
  for (guint i = 0; i < self->listeners->len; i++)
    {
      GcListener *listener = g_ptr_array_index (self->listeners, i);

      clear_source (&listener->source);
    }
}

static void
server_resume_accepting (GcServer *self)
{
  clear_source (&self->accept_retry);
  self->accept_paused = FALSE;
  server_watch_listeners (self);
}

static gboolean
on_accept_retry (gpointer user_data)
{
  GcServer *self = user_data;

  server_resume_accepting (self);

  return G_SOURCE_REMOVE;
}

/* Stops accepting for @delay_ms (or until a handshake finishes); the
 * kernel queues new connections meanwhile. */
static void
server_pause_accepting (GcServer *self,
                        guint     delay_ms)
{
  server_unwatch_listeners (self);
  self->accept_paused = TRUE;
  clear_source (&self->accept_retry);
  self->accept_retry = g_timeout_source_new (delay_ms);
  g_source_set_static_name (self->accept_retry, "[gochat] accept retry");
  g_source_set_callback (self->accept_retry, on_accept_retry, self, NULL);
  g_source_attach (self->accept_retry, self->context);
}

static gboolean
on_listener_ready (GSocket      *socket,
                   GIOCondition  condition,
                   gpointer      user_data)
{
  GcListener *listener = user_data;
  GcServer *self = listener->server;

  for (guint i = 0; i < ACCEPTS_PER_WAKEUP; i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GSocket) accepted = NULL;

      /* Too many handshakes: the oldest makes room if it may, else
       * back-pressure until it may. */
      if (server_handshakes_full (self))
        {
          GcHandshake *oldest = g_queue_peek_head (&self->handshakes);
          gint64 now = g_get_monotonic_time ();
          gint64 retry_at_us = 0;

          if (!handshake_is_evictable (oldest, now, &retry_at_us))
            {
              server_pause_accepting (self, (guint) ((retry_at_us - now + 999) / 1000));
              return G_SOURCE_REMOVE;
            }
          gc_server_log_event (G_LOG_LEVEL_DEBUG, "handshake-evicted", NULL, NULL,
                               oldest->address, "too many handshakes");
          handshake_abandon (oldest);
        }

      accepted = g_socket_accept (socket, NULL, &error);
      if (accepted != NULL)
        {
          server_accept_socket (self, accepted);
          continue;
        }

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        break;

      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_TOO_MANY_OPEN_FILES))
        {
          /* The listening socket stays readable: retry later instead of
           * spinning. */
          gc_server_log_event (G_LOG_LEVEL_WARNING, "accept-failed", NULL, NULL, NULL,
                               error->message);
          server_pause_accepting (self, ACCEPT_RETRY_MS);
          return G_SOURCE_REMOVE;
        }

      /* ECONNABORTED and the like concern that one connection only. */
    }

  return G_SOURCE_CONTINUE;
}

static void
server_watch_listeners (GcServer *self)
{
  if (self->accept_paused)
    return;

  for (guint i = 0; i < self->listeners->len; i++)
    {
      GcListener *listener = g_ptr_array_index (self->listeners, i);

      if (listener->source != NULL)
        continue;
      listener->source = g_socket_create_source (listener->socket, G_IO_IN, NULL);
      g_source_set_static_name (listener->source, "[gochat] listener");
      g_source_set_callback (listener->source, (GSourceFunc) on_listener_ready, listener, NULL);
      g_source_attach (listener->source, self->context);
    }
}

static GcListener *
server_add_listener (GcServer      *self,
                     GInetAddress  *address,
                     guint16        port,
                     gboolean       want_dual_stack,
                     gboolean      *out_dual_stack,
                     GError       **error)
{
  g_autoptr(GSocket) socket = NULL;
  g_autoptr(GSocketAddress) socket_address = NULL;
  g_autoptr(GSocketAddress) bound = NULL;
  GcListener *listener;

  socket = g_socket_new (g_inet_address_get_family (address), G_SOCKET_TYPE_STREAM,
                         G_SOCKET_PROTOCOL_TCP, error);
  if (socket == NULL)
    return NULL;

  if (want_dual_stack)
    *out_dual_stack = g_socket_set_option (socket, IPPROTO_IPV6, IPV6_V6ONLY, FALSE, NULL);

  g_socket_set_blocking (socket, FALSE);
  g_socket_set_listen_backlog (socket, LISTEN_BACKLOG);
  socket_address = g_inet_socket_address_new (address, port);
  if (!g_socket_bind (socket, socket_address, TRUE, error) ||
      !g_socket_listen (socket, error))
    return NULL;

  bound = g_socket_get_local_address (socket, error);
  if (bound == NULL)
    return NULL;

  listener = g_new0 (GcListener, 1);
  listener->server = self;
  listener->socket = g_steal_pointer (&socket);
  listener->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_ptr_array_add (self->listeners, listener);
  server_watch_listeners (self);

  return listener;
}

gboolean
gc_server_listen (GcServer      *self,
                  GInetAddress  *bind_address,
                  guint16        port,
                  GError       **error)
{
  g_autoptr(GInetAddress) any6 = NULL;
  g_autoptr(GInetAddress) any4 = NULL;
  g_autoptr(GError) ipv6_error = NULL;
  GcListener *listener6;
  gboolean dual_stack = FALSE;

  g_return_val_if_fail (GC_IS_SERVER (self), FALSE);
  g_return_val_if_fail (bind_address == NULL || G_IS_INET_ADDRESS (bind_address), FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->shutting_down)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CLOSED, "The server is shut down");
      return FALSE;
    }

  if (bind_address != NULL)
    return server_add_listener (self, bind_address, port, FALSE, NULL, error) != NULL;

  /* All interfaces: one dual-stack IPv6 socket where possible, else
   * IPv6 and IPv4 on the same port, else IPv4 alone. */
  any6 = g_inet_address_new_any (G_SOCKET_FAMILY_IPV6);
  any4 = g_inet_address_new_any (G_SOCKET_FAMILY_IPV4);
  listener6 = server_add_listener (self, any6, port, TRUE, &dual_stack, &ipv6_error);
  if (listener6 != NULL && dual_stack)
    return TRUE;

  if (server_add_listener (self, any4, listener6 != NULL ? listener6->port : port,
                           FALSE, NULL, error) == NULL)
    {
      if (listener6 != NULL)
        {
          g_ptr_array_remove (self->listeners, listener6);
          listener_free (listener6);
        }
      return FALSE;
    }

  return TRUE;
}

guint16
gc_server_get_port (GcServer *self)
{
  g_return_val_if_fail (GC_IS_SERVER (self), 0);

  if (self->listeners->len == 0)
    return 0;

  return ((GcListener *) g_ptr_array_index (self->listeners, 0))->port;
}

GPtrArray *
gc_server_get_listen_addresses (GcServer *self)
{
  GPtrArray *addresses;

  g_return_val_if_fail (GC_IS_SERVER (self), NULL);

  addresses = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < self->listeners->len; i++)
    {
      GcListener *listener = g_ptr_array_index (self->listeners, i);
      GSocketAddress *address = g_socket_get_local_address (listener->socket, NULL);

      if (address != NULL)
        g_ptr_array_add (addresses, address);
    }

  return addresses;
}

gboolean
gc_server_set_tls_certificate (GcServer         *self,
                               GTlsCertificate  *certificate,
                               GError          **error)
{
  g_return_val_if_fail (GC_IS_SERVER (self), FALSE);
  g_return_val_if_fail (certificate == NULL || G_IS_TLS_CERTIFICATE (certificate), FALSE);

  if (certificate != NULL && !g_tls_backend_supports_tls (g_tls_backend_get_default ()))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                           "TLS support is not available (is glib-networking installed?)");
      return FALSE;
    }

  g_set_object (&self->tls_certificate, certificate);

  return TRUE;
}

/* HTTP ----------------------------------------------------------------------- */

static GcHandshake *
message_get_handshake (SoupServerMessage *msg)
{
  GSocketAddress *remote = soup_server_message_get_remote_address (msg);

  return remote != NULL ? g_object_get_qdata (G_OBJECT (remote), handshake_quark ()) : NULL;
}

static const char *
message_get_address (SoupServerMessage *msg)
{
  GcHandshake *hs = message_get_handshake (msg);

  return hs != NULL ? hs->address : soup_server_message_get_remote_host (msg);
}

/* libsoup 3.2 knows no phrase for some statuses we send. */
static const char *
status_phrase (guint status)
{
  switch (status)
    {
    case 426:
      return "Upgrade Required";
    case 429:
      return "Too Many Requests";
    default:
      return soup_status_get_phrase (status);
    }
}

static void
respond (SoupServerMessage *msg,
         guint              status,
         const char        *content_type,
         const char        *body,
         gsize              len)
{
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);

  soup_server_message_set_status (msg, status, status_phrase (status));
  /* libsoup closes connections it did not accept itself after one
   * request; say so, so that clients do not try to reuse them. */
  soup_message_headers_replace (headers, "Connection", "close");
  soup_message_headers_replace (headers, "Cache-Control", "no-store");
  soup_server_message_set_response (msg, content_type, SOUP_MEMORY_COPY, body, len);
}

static void
server_refuse (GcServer          *self,
               SoupServerMessage *msg,
               GcProtocolError    code,
               const char        *message,
               const char        *suggestion,
               guint64            retry_after_ms,
               const char        *room)
{
  g_autoptr(GBytes) body = gc_protocol_build_refusal (code, message, suggestion, retry_after_ms);
  SoupMessageHeaders *headers = soup_server_message_get_response_headers (msg);
  gsize len;
  const char *data = g_bytes_get_data (body, &len);

  respond (msg, gc_protocol_error_http_status (code), "application/json", data, len);

  if (code == GC_PROTOCOL_ERROR_RATE_LIMITED)
    {
      char seconds[32];

      g_snprintf (seconds, sizeof seconds, "%" G_GUINT64_FORMAT,
                  MAX ((retry_after_ms + 999) / 1000, 1));
      soup_message_headers_replace (headers, "Retry-After", seconds);
    }
  else if (code == GC_PROTOCOL_ERROR_UPGRADE_REQUIRED)
    {
      soup_message_headers_replace (headers, "Upgrade", "websocket");
      soup_message_headers_replace (headers, "Sec-WebSocket-Version", "13");
    }

  self->refusals[code]++;
  gc_server_log_event (G_LOG_LEVEL_INFO, "refusal", room, NULL, message_get_address (msg),
                       gc_protocol_error_to_string (code));
}

/* @error is in the GC_PROTOCOL_ERROR domain. */
static void
server_refuse_gerror (GcServer          *self,
                      SoupServerMessage *msg,
                      const GError      *error,
                      const char        *room)
{
  server_refuse (self, msg, error->code, error->message, NULL, 0, room);
}

static gboolean
is_known_path (const char *path)
{
  return g_str_equal (path, "/joinRoom") ||
         g_str_equal (path, "/healthz") ||
         g_str_equal (path, "/metrics");
}

static gboolean
message_wants_websocket (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  return soup_message_headers_header_contains (headers, "Upgrade", "websocket");
}

static gboolean
message_has_body (SoupServerMessage *msg)
{
  SoupMessageHeaders *headers = soup_server_message_get_request_headers (msg);

  switch (soup_message_headers_get_encoding (headers))
    {
    case SOUP_ENCODING_NONE:
      return FALSE;
    case SOUP_ENCODING_CONTENT_LENGTH:
      return soup_message_headers_get_content_length (headers) > 0;
    default:
      return TRUE;
    }
}

/* Runs once the headers are in, before any body is read: refusing here
 * means libsoup never buffers a body. */
static void
on_request_headers (SoupServer        *soup,
                    SoupServerMessage *msg,
                    const char        *path,
                    GHashTable        *query,
                    gpointer           user_data)
{
  GcServer *self = user_data;

  /* A connection we abandoned (deadline, eviction) ends in EOF, which
   * libsoup may take for the end of the headers: answer nothing. */
  if (message_get_handshake (msg) == NULL)
    {
      soup_server_message_set_status (msg, SOUP_STATUS_BAD_REQUEST, NULL);
      return;
    }

  if (!is_known_path (path))
    server_refuse (self, msg, GC_PROTOCOL_ERROR_NOT_FOUND, "No such endpoint", NULL, 0, NULL);
  else if (g_str_equal (path, "/joinRoom") && !message_wants_websocket (msg))
    server_refuse (self, msg, GC_PROTOCOL_ERROR_UPGRADE_REQUIRED,
                   "Join with a WebSocket upgrade", NULL, 0, NULL);
  else if (message_has_body (msg))
    server_refuse (self, msg, GC_PROTOCOL_ERROR_BAD_REQUEST,
                   "Requests with a body are not accepted", NULL, 0, NULL);
}

/* @count summed over the rooms. */
static guint
server_sum_rooms (GcServer *self,
                  guint   (*count) (GcRoom *room))
{
  GHashTableIter iter;
  GcRoom *room;
  guint n = 0;

  g_hash_table_iter_init (&iter, self->rooms);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &room))
    n += count (room);

  return n;
}

static void
server_handle_healthz (GcServer          *self,
                       SoupServerMessage *msg)
{
  g_autoptr(GString) body = g_string_new ("{\"status\":\"ok\",\"version\":");

  gc_protocol_append_json_string (body, PACKAGE_VERSION, -1);
  g_string_append_printf (body,
                          ",\"rooms\":%u,\"connections\":%u,\"members\":%u,"
                          "\"handshakes\":%u,\"uptime_s\":%" G_GINT64_FORMAT "}",
                          g_hash_table_size (self->rooms),
                          server_sum_rooms (self, gc_room_get_n_announced),
                          gc_server_get_n_members (self),
                          self->handshakes.length,
                          (g_get_monotonic_time () - self->started_us) / G_USEC_PER_SEC);

  respond (msg, SOUP_STATUS_OK, "application/json", body->str, body->len);
}

static void
metric_header (GString    *out,
               const char *name,
               const char *type,
               const char *help)
{
  g_string_append_printf (out, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

static void
server_handle_metrics (GcServer          *self,
                       SoupServerMessage *msg)
{
  g_autoptr(GString) out = g_string_new (NULL);
  static const GcLeaveReason dropped[] = {
    GC_LEAVE_REASON_SLOW, GC_LEAVE_REASON_FLOOD, GC_LEAVE_REASON_ERROR,
  };
  static const GcProtocolError refusal_codes[] = {
    GC_PROTOCOL_ERROR_BAD_REQUEST, GC_PROTOCOL_ERROR_INVALID_ROOM_CODE,
    GC_PROTOCOL_ERROR_INVALID_USER_NAME, GC_PROTOCOL_ERROR_NOT_FOUND,
    GC_PROTOCOL_ERROR_NAME_TAKEN, GC_PROTOCOL_ERROR_ROOM_FULL,
    GC_PROTOCOL_ERROR_ORIGIN_NOT_ALLOWED, GC_PROTOCOL_ERROR_UPGRADE_REQUIRED,
    GC_PROTOCOL_ERROR_RATE_LIMITED, GC_PROTOCOL_ERROR_SERVER_FULL,
  };

  metric_header (out, "gochat_connections", "gauge", "Open WebSocket connections.");
  g_string_append_printf (out, "gochat_connections %u\n", g_hash_table_size (self->connections));
  metric_header (out, "gochat_handshakes", "gauge",
                 "TCP connections accepted but not yet upgraded or answered.");
  g_string_append_printf (out, "gochat_handshakes %u\n", self->handshakes.length);
  metric_header (out, "gochat_rooms", "gauge", "Rooms.");
  g_string_append_printf (out, "gochat_rooms %u\n", g_hash_table_size (self->rooms));
  metric_header (out, "gochat_members", "gauge",
                 "Room members, those waiting for a resume included.");
  g_string_append_printf (out, "gochat_members %u\n", gc_server_get_n_members (self));

  metric_header (out, "gochat_messages_total", "counter", "Chat messages broadcast.");
  g_string_append_printf (out, "gochat_messages_total %" G_GUINT64_FORMAT "\n",
                          self->counters[GC_SERVER_COUNTER_MESSAGES]);
  metric_header (out, "gochat_joins_total", "counter", "Joins (resumes not included).");
  g_string_append_printf (out, "gochat_joins_total %" G_GUINT64_FORMAT "\n",
                          self->counters[GC_SERVER_COUNTER_JOINS]);
  metric_header (out, "gochat_resumes_total", "counter", "Resumed sessions.");
  g_string_append_printf (out, "gochat_resumes_total %" G_GUINT64_FORMAT "\n",
                          self->counters[GC_SERVER_COUNTER_RESUMES]);
  metric_header (out, "gochat_bytes_sent_total", "counter",
                 "Bytes of events queued to WebSocket connections.");
  g_string_append_printf (out, "gochat_bytes_sent_total %" G_GUINT64_FORMAT "\n",
                          self->counters[GC_SERVER_COUNTER_BYTES_SENT]);

  metric_header (out, "gochat_refusals_total", "counter", "Refused HTTP requests by error code.");
  for (guint i = 0; i < G_N_ELEMENTS (refusal_codes); i++)
    g_string_append_printf (out, "gochat_refusals_total{code=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            gc_protocol_error_to_string (refusal_codes[i]),
                            self->refusals[refusal_codes[i]]);

  metric_header (out, "gochat_leaves_total", "counter", "Members who left, by reason.");
  for (guint reason = 0; reason < G_N_ELEMENTS (self->leaves); reason++)
    g_string_append_printf (out, "gochat_leaves_total{reason=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            gc_leave_reason_to_string (reason), self->leaves[reason]);

  metric_header (out, "gochat_dropped_total", "counter",
                 "Members the server dropped (slow reader, flooding, protocol error).");
  for (guint i = 0; i < G_N_ELEMENTS (dropped); i++)
    g_string_append_printf (out, "gochat_dropped_total{reason=\"%s\"} %" G_GUINT64_FORMAT "\n",
                            gc_leave_reason_to_string (dropped[i]), self->leaves[dropped[i]]);

  metric_header (out, "gochat_uptime_seconds", "gauge", "Seconds since the server started.");
  g_string_append_printf (out, "gochat_uptime_seconds %" G_GINT64_FORMAT "\n",
                          (g_get_monotonic_time () - self->started_us) / G_USEC_PER_SEC);

  respond (msg, SOUP_STATUS_OK, "text/plain; version=0.0.4; charset=utf-8", out->str, out->len);
}

/* Joining -------------------------------------------------------------------- */

static void
join_free (gpointer data)
{
  GcJoin *join = data;

  /* The upgrade never completed: give back what was reserved. */
  if (!join->done)
    gc_room_release (join->room, join->member, join->resume);

  g_weak_ref_clear (&join->server);
  g_clear_pointer (&join->handshake, handshake_unref);
  g_object_unref (join->room);
  gc_member_unref (join->member);
  g_free (join);
}

static void
on_connection_closed (GcWsConnection *connection,
                      gpointer        user_data)
{
  GcServer *self = user_data;
  g_autoptr(GcWsConnection) hold = g_object_ref (connection);

  g_signal_handlers_disconnect_by_func (connection, on_connection_closed, self);
  g_hash_table_remove (self->connections, connection);

  if (self->shutdown_task != NULL && g_hash_table_size (self->connections) == 0)
    server_finish_shutdown (self);
}

static void
on_upgraded (GcWsConnection *connection,
             gpointer        user_data)
{
  GcJoin *join = user_data;
  g_autoptr(GcWsConnection) owned = connection;
  g_autoptr(GcServer) self = g_weak_ref_get (&join->server);

  /* The server went away, or the handshake outlived its deadline. */
  if (self == NULL || (join->handshake != NULL && join->handshake->server == NULL))
    {
      gc_ws_connection_abort (connection);
      return;
    }

  if (join->handshake != NULL)
    handshake_finish (join->handshake);

  g_hash_table_add (self->connections, g_object_ref (connection));
  g_signal_connect (connection, "closed", G_CALLBACK (on_connection_closed), self);

  gc_ws_connection_set_max_message_size (connection, self->config.max_message_bytes);
  gc_ws_connection_set_max_queued_bytes (connection, self->config.max_queued_bytes);
  gc_ws_connection_set_keepalive (connection, self->config.keepalive_seconds,
                                  self->config.idle_timeout_seconds);

  join->done = TRUE;
  if (gc_room_attach (join->room, join->member, join->resume, connection,
                      join->has_since, join->since))
    return;

  /* 1001 only means shutdown (§6); otherwise the member to resume left
   * during the upgrade (its old connection closed), and the client must
   * join afresh. */
  if (self->shutting_down)
    gc_ws_connection_close (connection, GC_WS_CLOSE_GOING_AWAY, "server shutting down");
  else
    gc_ws_connection_close (connection, GC_WS_CLOSE_SERVER_ERROR,
                            "the session ended during the upgrade; join again");
}

static gboolean
origin_is_allowed (GcServer   *self,
                   const char *origin)
{
  if (origin == NULL || self->allowed_origins == NULL || self->allowed_origins[0] == NULL)
    return TRUE;

  for (guint i = 0; self->allowed_origins[i] != NULL; i++)
    {
      if (g_ascii_strcasecmp (self->allowed_origins[i], origin) == 0)
        return TRUE;
    }

  return FALSE;
}

static gboolean
server_is_full (GcServer    *self,
                GcHandshake *hs)
{
  guint in_use;

  if (self->config.max_connections == 0)
    return FALSE;

  /* Open WebSocket connections plus upgrades in progress, this one not
   * included. */
  in_use = g_hash_table_size (self->connections) + self->handshakes.length -
           (hs != NULL && hs->server != NULL ? 1 : 0);

  return in_use >= self->config.max_connections;
}

/* Form-decodes (§7) [@start, @end): `+` is a space, `%XX` a byte. %NULL
 * for a malformed escape or an encoded NUL. */
static char *
form_decode (const char *start,
             const char *end)
{
  g_autofree char *spaced = g_strndup (start, end - start);

  g_strdelimit (spaced, "+", ' ');

  return g_uri_unescape_segment (spaced, NULL, NULL);
}

/* Looks up @key in the raw (still encoded) query of a join. We decode it
 * ourselves because soup_form_decode() cuts a value at an encoded NUL
 * ("bob%00evil" would join as "bob"), silently drops pairs it cannot
 * decode and lets a repeated key override the first. Here a value that
 * does not decode, or a key given twice, is an error with @code; a key
 * without `=` has the empty value. *@out_value is %NULL when @key is
 * absent. */
static gboolean
query_lookup (const char       *query,
              const char       *key,
              GcProtocolError   code,
              char            **out_value,
              GError          **error)
{
  g_autofree char *value = NULL;
  gboolean found = FALSE;
  const char *pair = query;

  while (pair != NULL && *pair != '\0')
    {
      const char *pair_end = strchr (pair, '&');
      const char *equals;
      g_autofree char *pair_key = NULL;

      if (pair_end == NULL)
        pair_end = pair + strlen (pair);
      equals = memchr (pair, '=', pair_end - pair);
      pair_key = form_decode (pair, equals != NULL ? equals : pair_end);

      if (pair_key != NULL && g_str_equal (pair_key, key))
        {
          if (found)
            {
              g_set_error (error, GC_PROTOCOL_ERROR, code, "%s is given more than once", key);
              return FALSE;
            }
          found = TRUE;
          value = equals != NULL ? form_decode (equals + 1, pair_end) : g_strdup ("");
          if (value == NULL)
            {
              g_set_error (error, GC_PROTOCOL_ERROR, code,
                           "%s holds an encoded NUL (%%00) or a malformed escape", key);
              return FALSE;
            }
        }

      pair = *pair_end == '&' ? pair_end + 1 : NULL;
    }

  *out_value = g_steal_pointer (&value);

  return TRUE;
}

static void
server_handle_join (GcServer          *self,
                    SoupServerMessage *msg)
{
  SoupMessageHeaders *request_headers = soup_server_message_get_request_headers (msg);
  GcHandshake *hs = message_get_handshake (msg);
  g_autoptr(GError) error = NULL;
  g_autofree char *code = NULL;
  g_autofree char *name = NULL;
  g_autofree char *name_key = NULL;
  g_autofree char *suggestion = NULL;
  g_autoptr(GcMember) member = NULL;
  g_autofree char *raw_code = NULL;
  g_autofree char *raw_name = NULL;
  g_autofree char *since_str = NULL;
  g_autofree char *session_id = NULL;
  const char *query;
  guint64 since = 0;
  gboolean resume = FALSE;
  GcRoom *room;
  GcJoin *join;

  if (!soup_websocket_server_check_handshake (msg, NULL, (char **) subprotocols, NULL, &error))
    {
      const char *version = soup_message_headers_get_one (request_headers, "Sec-WebSocket-Version");

      server_refuse (self, msg, GC_PROTOCOL_ERROR_BAD_REQUEST, error->message, NULL, 0, NULL);
      if (g_strcmp0 (version, "13") != 0)
        soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                      "Sec-WebSocket-Version", "13");
      return;
    }

  if (!origin_is_allowed (self, soup_message_headers_get_one (request_headers, "Origin")))
    {
      server_refuse (self, msg, GC_PROTOCOL_ERROR_ORIGIN_NOT_ALLOWED,
                     "This origin may not join", NULL, 0, NULL);
      return;
    }

  if (hs != NULL && hs->peer != NULL && self->config.join_per_second > 0)
    {
      gint64 retry_after_us = 0;

      if (!gc_token_bucket_take (&hs->peer->joins, self->config.join_burst,
                                 self->config.join_per_second, g_get_monotonic_time (),
                                 &retry_after_us))
        {
          server_refuse (self, msg, GC_PROTOCOL_ERROR_RATE_LIMITED,
                         "Too many joins from your address; try again later", NULL,
                         gc_ms_from_us_ceil (retry_after_us), NULL);
          return;
        }
    }

  if (self->shutting_down || server_is_full (self, hs))
    {
      server_refuse (self, msg, GC_PROTOCOL_ERROR_SERVER_FULL,
                     self->shutting_down ? "The server is shutting down" : "The server is full",
                     NULL, 0, NULL);
      return;
    }

  query = g_uri_get_query (soup_server_message_get_uri (msg));

  if (!query_lookup (query, "room_code", GC_PROTOCOL_ERROR_INVALID_ROOM_CODE, &raw_code, &error) ||
      (code = gc_protocol_canonical_room_code (raw_code, &error)) == NULL)
    {
      server_refuse_gerror (self, msg, error, NULL);
      return;
    }

  if (!query_lookup (query, "user_name", GC_PROTOCOL_ERROR_INVALID_USER_NAME, &raw_name, &error) ||
      (name = gc_protocol_normalize_user_name (raw_name, &error)) == NULL)
    {
      server_refuse_gerror (self, msg, error, code);
      return;
    }

  if (!query_lookup (query, "since", GC_PROTOCOL_ERROR_BAD_REQUEST, &since_str, &error) ||
      (since_str != NULL && !gc_protocol_parse_since (since_str, &since, &error)) ||
      !query_lookup (query, "session_id", GC_PROTOCOL_ERROR_BAD_REQUEST, &session_id, &error))
    {
      server_refuse_gerror (self, msg, error, code);
      return;
    }

  name_key = gc_protocol_user_name_key (name);

  room = g_hash_table_lookup (self->rooms, code);
  if (room == NULL)
    {
      room = gc_room_new (self, code);
      g_hash_table_insert (self->rooms, g_strdup (code), room);
    }

  member = gc_room_reserve (room, name, name_key, session_id, message_get_address (msg),
                            &resume, &suggestion, &error);
  if (member == NULL)
    {
      server_refuse (self, msg, error->code, error->message, suggestion, 0, code);
      if (gc_room_get_n_members (room) == 0)
        gc_server_room_emptied (self, room);
      return;
    }

  join = g_new0 (GcJoin, 1);
  g_weak_ref_init (&join->server, self);
  join->handshake = hs != NULL ? handshake_ref (hs) : NULL;
  join->room = g_object_ref (room);
  join->member = g_steal_pointer (&member);
  join->resume = resume;
  join->has_since = since_str != NULL;
  join->since = since;

  /* On failure the join is still ours (the handshake was checked above,
   * so this is not expected). */
  if (!gc_ws_server_accept (msg, NULL, subprotocols, self->poller,
                            on_upgraded, join, join_free, &error))
    {
      join_free (join);
      server_refuse (self, msg, GC_PROTOCOL_ERROR_BAD_REQUEST, error->message, NULL, 0, code);
    }
}

static void
on_request (SoupServer        *soup,
            SoupServerMessage *msg,
            const char        *path,
            GHashTable        *query,
            gpointer           user_data)
{
  GcServer *self = user_data;
  const char *method = soup_server_message_get_method (msg);

  if (g_str_equal (path, "/joinRoom"))
    {
      server_handle_join (self, msg);
      return;
    }

  if (method != SOUP_METHOD_GET && method != SOUP_METHOD_HEAD)
    {
      server_refuse (self, msg, GC_PROTOCOL_ERROR_BAD_REQUEST,
                     "Only GET and HEAD are supported here", NULL, 0, NULL);
      soup_message_headers_replace (soup_server_message_get_response_headers (msg),
                                    "Allow", "GET, HEAD");
      return;
    }

  if (g_str_equal (path, "/healthz"))
    server_handle_healthz (self, msg);
  else
    server_handle_metrics (self, msg);
}

/* Rooms' side ---------------------------------------------------------------- */

GcWsPoller *
gc_server_get_poller (GcServer *self)
{
  return self->poller;
}

const GcLimits *
gc_server_get_limits (GcServer *self)
{
  return &self->limits;
}

guint64
gc_server_next_message_id (GcServer *self)
{
  return ++self->last_message_id;
}

void
gc_server_room_emptied (GcServer *self,
                        GcRoom   *room)
{
  const char *code = gc_room_get_code (room);

  if (g_hash_table_lookup (self->rooms, code) == room)
    g_hash_table_remove (self->rooms, code);
}

void
gc_server_count (GcServer        *self,
                 GcServerCounter  counter,
                 guint64          amount)
{
  self->counters[counter] += amount;
}

void
gc_server_count_leave (GcServer      *self,
                       GcLeaveReason  reason)
{
  self->leaves[reason]++;
}

/* Shutdown ------------------------------------------------------------------- */

/* Rooms go first, so that no member sees its connection close. */
static void
server_drop_rooms (GcServer *self)
{
  g_autoptr(GPtrArray) rooms = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  GcRoom *room;

  g_hash_table_iter_init (&iter, self->rooms);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &room))
    g_ptr_array_add (rooms, g_object_ref (room));
  g_hash_table_remove_all (self->rooms);

  /* A join in progress may still hold a room: make it inert now. */
  for (guint i = 0; i < rooms->len; i++)
    g_object_run_dispose (g_ptr_array_index (rooms, i));
}

static void
server_abort_connections (GcServer *self)
{
  g_autoptr(GPtrArray) connections = g_ptr_array_new_with_free_func (g_object_unref);
  GHashTableIter iter;
  GcWsConnection *connection;

  g_hash_table_iter_init (&iter, self->connections);
  while (g_hash_table_iter_next (&iter, (gpointer *) &connection, NULL))
    g_ptr_array_add (connections, g_object_ref (connection));
  for (guint i = 0; i < connections->len; i++)
    {
      connection = g_ptr_array_index (connections, i);
      gc_ws_connection_abort (connection);
      g_signal_handlers_disconnect_by_func (connection, on_connection_closed, self);
    }

  /* Whatever did not report "closed" is forgotten all the same. */
  g_hash_table_remove_all (self->connections);
}

static void
server_stop_listening (GcServer *self)
{
  clear_source (&self->accept_retry);
  g_ptr_array_set_size (self->listeners, 0);
  while (self->handshakes.head != NULL)
    handshake_abandon (self->handshakes.head->data);
}

/* Every closing handshake finished, or the grace period ran out. */
static void
server_finish_shutdown (GcServer *self)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->shutdown_task);

  clear_source (&self->shutdown_timer);
  server_abort_connections (self);
  server_stop_listening (self);
  g_task_return_boolean (task, TRUE);
}

static gboolean
on_shutdown_timeout (gpointer user_data)
{
  GcServer *self = user_data;

  server_finish_shutdown (self);

  return G_SOURCE_REMOVE;
}

void
gc_server_shutdown_async (GcServer            *self,
                          GCancellable        *cancellable,
                          GAsyncReadyCallback  callback,
                          gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  GHashTableIter iter;
  GcRoom *room;

  g_return_if_fail (GC_IS_SERVER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, gc_server_shutdown_async);

  if (self->shutting_down)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_PENDING,
                               "The server is already shut down");
      return;
    }

  self->shutting_down = TRUE;
  gc_server_log_event (G_LOG_LEVEL_INFO, "shutdown", NULL, NULL, NULL, NULL);

  g_hash_table_iter_init (&iter, self->rooms);
  while (g_hash_table_iter_next (&iter, NULL, (gpointer *) &room))
    gc_room_close_all (room, GC_WS_CLOSE_GOING_AWAY, "server shutting down");
  server_drop_rooms (self);

  /* Joins keep getting 503 until the closing handshakes are done. */
  self->shutdown_task = g_steal_pointer (&task);
  if (g_hash_table_size (self->connections) == 0)
    {
      server_finish_shutdown (self);
      return;
    }

  self->shutdown_timer = g_timeout_source_new (SHUTDOWN_GRACE_MS);
  g_source_set_static_name (self->shutdown_timer, "[gochat] shutdown grace");
  g_source_set_callback (self->shutdown_timer, on_shutdown_timeout, self, NULL);
  g_source_attach (self->shutdown_timer, self->context);
}

gboolean
gc_server_shutdown_finish (GcServer      *self,
                           GAsyncResult  *result,
                           GError       **error)
{
  g_return_val_if_fail (GC_IS_SERVER (self), FALSE);
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Object ----------------------------------------------------------------------- */

GcServer *
gc_server_new (const GcServerConfig *config)
{
  GcServerConfig defaults;
  GcServer *self;

  if (config == NULL)
    {
      gc_server_config_init_default (&defaults);
      config = &defaults;
    }

  g_return_val_if_fail (config->rate_per_second > 0, NULL);
  g_return_val_if_fail (config->join_per_second >= 0, NULL);
  g_return_val_if_fail (config->max_text_bytes > 0, NULL);

  self = g_object_new (GC_TYPE_SERVER, NULL);
  self->config = *config;
  self->allowed_origins = g_strdupv ((char **) config->allowed_origins);
  self->config.allowed_origins = (const char * const *) self->allowed_origins;

  self->limits.max_text_bytes = config->max_text_bytes;
  self->limits.max_message_bytes = config->max_message_bytes;
  self->limits.rate_burst = config->rate_burst;
  self->limits.rate_per_s = config->rate_per_second;

  return self;
}

const GcServerConfig *
gc_server_get_config (GcServer *self)
{
  g_return_val_if_fail (GC_IS_SERVER (self), NULL);

  return &self->config;
}

guint
gc_server_get_n_rooms (GcServer *self)
{
  g_return_val_if_fail (GC_IS_SERVER (self), 0);

  return g_hash_table_size (self->rooms);
}

guint
gc_server_get_n_connections (GcServer *self)
{
  g_return_val_if_fail (GC_IS_SERVER (self), 0);

  return g_hash_table_size (self->connections);
}

guint
gc_server_get_n_members (GcServer *self)
{
  g_return_val_if_fail (GC_IS_SERVER (self), 0);

  return server_sum_rooms (self, gc_room_get_n_members);
}

guint
gc_server_get_n_handshakes (GcServer *self)
{
  g_return_val_if_fail (GC_IS_SERVER (self), 0);

  return self->handshakes.length;
}

GcRoom *
gc_server_lookup_room (GcServer   *self,
                       const char *room_code)
{
  g_autofree char *code = NULL;

  g_return_val_if_fail (GC_IS_SERVER (self), NULL);

  code = gc_protocol_canonical_room_code (room_code, NULL);

  return code != NULL ? g_hash_table_lookup (self->rooms, code) : NULL;
}

static void
gc_server_dispose (GObject *object)
{
  GcServer *self = GC_SERVER (object);

  self->shutting_down = TRUE;

  server_drop_rooms (self);
  server_abort_connections (self);
  server_stop_listening (self);
  if (self->soup != NULL)
    soup_server_disconnect (self->soup);
  g_clear_object (&self->soup);

  clear_source (&self->shutdown_timer);
  clear_source (&self->handshake_timer);
  clear_source (&self->tls_timer);
  clear_source (&self->peer_sweep);
  g_clear_object (&self->tls_certificate);

  G_OBJECT_CLASS (gc_server_parent_class)->dispose (object);
}

static void
gc_server_finalize (GObject *object)
{
  GcServer *self = GC_SERVER (object);

  g_hash_table_unref (self->rooms);
  g_hash_table_unref (self->connections);
  g_hash_table_unref (self->peers);
  g_ptr_array_unref (self->listeners);
  g_strfreev (self->allowed_origins);
  g_clear_object (&self->poller);
  g_main_context_unref (self->context);

  G_OBJECT_CLASS (gc_server_parent_class)->finalize (object);
}

static void
gc_server_class_init (GcServerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gc_server_dispose;
  object_class->finalize = gc_server_finalize;
}

static void
gc_server_init (GcServer *self)
{
  self->context = g_main_context_ref_thread_default ();
  self->poller = g_object_ref (gc_ws_poller_get_default ());
  self->listeners = g_ptr_array_new_with_free_func ((GDestroyNotify) listener_free);
  self->rooms = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_object_unref);
  self->connections = g_hash_table_new_full (NULL, NULL, g_object_unref, NULL);
  self->peers = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, (GDestroyNotify) peer_free);
  g_queue_init (&self->handshakes);
  g_queue_init (&self->tls_waiting);
  g_queue_init (&self->tls_running);

  self->started_us = g_get_monotonic_time ();
  /* Ids stay above those of any earlier run (§3). */
  self->last_message_id = (guint64) g_get_real_time ();

  self->soup = soup_server_new ("server-header", NULL, NULL);
  soup_server_add_early_handler (self->soup, NULL, on_request_headers, self, NULL);
  soup_server_add_handler (self->soup, NULL, on_request, self, NULL);

  self->handshake_timer = server_add_timer (self, "[gochat] handshake deadline",
                                            on_handshake_timer);
  self->tls_timer = server_add_timer (self, "[gochat] TLS handshake places", on_tls_timer);
  self->peer_sweep = server_add_timer (self, "[gochat] address table sweep", on_peer_sweep);
  g_source_set_ready_time (self->peer_sweep,
                           g_get_monotonic_time () + PEER_SWEEP_SECONDS * G_USEC_PER_SEC);
}
