/* test-server-abuse.c: bad input and load must not crash, bloat or starve the server
 *
 * Nothing may crash the server, grow its memory without bound or starve
 * other rooms: many slow readers dropped at once, thousands of abandoned
 * and stalled handshakes (plain and TLS), huge and endless headers, bad
 * frames and floods, each against its own GcServer
 * (tests/lib/gc-test-server.h) over loopback, with bounds on memory, file
 * descriptors and delays for the well-behaved clients.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdio.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <libsoup/soup.h>

#include "gc-server.h"
#include "gc-server-private.h"
#include "gc-test-server.h"

/* ------------------------------------------------------------------ */
/* Bad input and load: nothing may crash the server, grow its memory    */
/* without bound or stall other rooms                                   */
/* ------------------------------------------------------------------ */

/* Resident memory of this process (server and clients) in bytes. */
static gsize
resident_bytes (void)
{
  g_autofree char *statm = NULL;
  unsigned long pages_total = 0;
  unsigned long pages_resident = 0;

  g_assert_true (g_file_get_contents ("/proc/self/statm", &statm, NULL, NULL));
  g_assert_cmpint (sscanf (statm, "%lu %lu", &pages_total, &pages_resident), ==, 2);
  return (gsize) pages_resident * (gsize) sysconf (_SC_PAGESIZE);
}

/* Open file descriptors of this process: the server's sockets and ours. */
static guint
count_open_fds (void)
{
  g_autoptr(GDir) dir = g_dir_open ("/proc/self/fd", 0, NULL);
  guint n = 0;

  g_assert_nonnull (dir);
  while (g_dir_read_name (dir) != NULL)
    n++;
  return n;
}

/* The soft RLIMIT_NOFILE raised to the hard one; returns it. */
static rlim_t
raise_fd_limit (void)
{
  struct rlimit limit;

  g_assert_cmpint (getrlimit (RLIMIT_NOFILE, &limit), ==, 0);
  if (limit.rlim_cur < limit.rlim_max)
    {
      limit.rlim_cur = limit.rlim_max;
      g_assert_cmpint (setrlimit (RLIMIT_NOFILE, &limit), ==, 0);
    }
  return limit.rlim_cur;
}

/* A non-blocking TCP socket connecting to 127.0.0.1:@port, from
 * @source_address (another loopback address, another client host to
 * the server) or, if %NULL, from 127.0.0.1. */
static GSocket *
connect_nonblocking (guint16     port,
                     const char *source_address)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);
  g_autoptr(GError) error = NULL;
  GSocket *socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                  G_SOCKET_PROTOCOL_TCP, &error);

  g_assert_no_error (error);
  if (source_address != NULL)
    {
      g_autoptr(GSocketAddress) source = g_inet_socket_address_new_from_string (source_address, 0);

      g_assert_true (g_socket_bind (socket, source, FALSE, &error));
      g_assert_no_error (error);
    }
  g_socket_set_blocking (socket, FALSE);
  if (!g_socket_connect (socket, address, NULL, &error))
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
  return socket;
}

/* Reads what is there; returns FALSE once the server ended the
 * connection (EOF or reset). */
static gboolean
drain_socket (GSocket    *socket,
              GByteArray *into)
{
  for (;;)
    {
      g_autoptr(GError) error = NULL;
      guint8 buf[4096];
      gssize n = g_socket_receive (socket, (char *) buf, sizeof buf, NULL, &error);

      if (n > 0)
        {
          g_byte_array_append (into, buf, n);
          continue;
        }
      return n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);
    }
}

/* Whether @data starts with @prefix. */
static gboolean
bytes_have_prefix (GByteArray *data,
                   const char *prefix)
{
  gsize len = strlen (prefix);

  return data->len >= len && memcmp (data->data, prefix, len) == 0;
}

/* A connection that sends the start of a request (or nothing) and then
 * nothing more, watched from the main loop until the server ends it. */
typedef struct {
  GSocket     *socket;
  GSource     *source;
  GBytes      *payload;      /* sent once connected; NULL: silent */
  gboolean     connected;
  gboolean     gone;         /* the server closed or reset it */
  GByteArray  *received;     /* what the server sent */
  guint       *n_connected;
  guint       *n_gone;
} Abuser;

/* Replaces the source in @slot by one that calls @func when @socket is
 * ready for @condition or hung up. */
static void
watch_socket (GSource           **slot,
              GSocket            *socket,
              GIOCondition        condition,
              GSocketSourceFunc   func,
              gpointer            data)
{
  if (*slot != NULL)
    {
      g_source_destroy (*slot);
      g_source_unref (*slot);
    }
  *slot = g_socket_create_source (socket, condition | G_IO_HUP | G_IO_ERR, NULL);
  g_source_set_callback (*slot, G_SOURCE_FUNC (func), data, NULL);
  g_source_attach (*slot, NULL);
}

static gboolean on_abuser_ready (GSocket      *socket,
                                 GIOCondition  condition,
                                 gpointer      user_data);

static void
abuser_watch (Abuser       *abuser,
              GIOCondition  condition)
{
  watch_socket (&abuser->source, abuser->socket, condition, on_abuser_ready, abuser);
}

static gboolean
on_abuser_ready (GSocket      *socket,
                 GIOCondition  condition,
                 gpointer      user_data)
{
  Abuser *abuser = user_data;

  if (!abuser->connected)
    {
      g_autoptr(GError) error = NULL;

      /* Loopback connections complete (the server may close them at once). */
      g_assert_true (g_socket_check_connect_result (socket, &error));
      g_assert_no_error (error);
      abuser->connected = TRUE;
      (*abuser->n_connected)++;
      /* A small payload fits the socket buffer; a failure means the
       * server already let go, which reading shows next. */
      if (abuser->payload != NULL)
        g_socket_send (socket, g_bytes_get_data (abuser->payload, NULL),
                       g_bytes_get_size (abuser->payload), NULL, NULL);
      abuser_watch (abuser, G_IO_IN);
      return G_SOURCE_REMOVE;
    }

  if (drain_socket (socket, abuser->received))
    return G_SOURCE_CONTINUE;

  abuser->gone = TRUE;
  (*abuser->n_gone)++;
  g_clear_pointer (&abuser->source, g_source_unref);
  return G_SOURCE_REMOVE;
}

static Abuser *
abuser_new_full (guint16     port,
                 const char *source_address,
                 GBytes     *payload,
                 guint      *n_connected,
                 guint      *n_gone)
{
  Abuser *abuser = g_new0 (Abuser, 1);

  abuser->socket = connect_nonblocking (port, source_address);
  abuser->payload = payload != NULL ? g_bytes_ref (payload) : NULL;
  abuser->received = g_byte_array_new ();
  abuser->n_connected = n_connected;
  abuser->n_gone = n_gone;
  abuser_watch (abuser, G_IO_OUT);
  return abuser;
}

static void
abuser_free (Abuser *abuser)
{
  if (abuser->source != NULL)
    {
      g_source_destroy (abuser->source);
      g_source_unref (abuser->source);
    }
  g_socket_close (abuser->socket, NULL);
  g_object_unref (abuser->socket);
  g_clear_pointer (&abuser->payload, g_bytes_unref);
  g_byte_array_unref (abuser->received);
  g_free (abuser);
}

/* An abuser from 127.0.0.1 sending @payload (a string; NULL: nothing). */
static Abuser *
abuser_new (guint16     port,
            const char *payload,
            guint      *n_connected,
            guint      *n_gone)
{
  g_autoptr(GBytes) bytes = payload != NULL ? g_bytes_new_static (payload, strlen (payload)) : NULL;

  return abuser_new_full (port, NULL, bytes, n_connected, n_gone);
}

/* The start of a valid upgrade request, without its blank line. */
#define UPGRADE_HEAD(query)                                   \
  "GET /joinRoom?" query " HTTP/1.1\r\n"                      \
  "Host: 127.0.0.1\r\n"                                       \
  "Upgrade: websocket\r\n"                                    \
  "Connection: Upgrade\r\n"                                   \
  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"           \
  "Sec-WebSocket-Version: 13\r\n"

static void
configure_refusal_server_full_upgrades (GcServerConfig *config)
{
  config->max_connections = 2;
}

/* §3.6: 503 counts open WebSocket connections plus upgrades in progress. */
static void
test_refusal_server_full_upgrades (GcTestServer  *ts,
                                   gconstpointer  test_data)
{
  g_autoptr(GcTestClient) a = NULL;
  g_autoptr(GcTestClient) refused = NULL;
  g_autoptr(GcTestClient) b = NULL;
  Abuser *upgrading;
  guint n_connected = 0;
  guint n_gone = 0;

  a = gc_test_client_join (ts->port, "lobby", "a");

  /* An upgrade under way: the request has started, not ended. */
  upgrading = abuser_new (ts->port, UPGRADE_HEAD ("room_code=lobby&user_name=slowpoke"),
                          &n_connected, &n_gone);
  gc_test_wait (n_connected == 1 && gc_server_get_n_handshakes (ts->server) == 1);
  refused = gc_test_client_start_join (ts->port, "lobby", "b", NULL);
  gc_test_client_assert_refused (refused, 503, "server_full");

  /* Once it is given up, there is room again. */
  abuser_free (upgrading);
  gc_test_wait (gc_server_get_n_handshakes (ts->server) == 0);
  b = gc_test_client_join (ts->port, "lobby", "b");
  g_assert_cmpuint (gc_server_get_n_connections (ts->server), ==, 2);
}

#define N_ABUSERS_WANTED 2000
#define ABUSE_BATCH 200

/* Thousands of connections opened and abandoned mid-handshake, all from
 * the address a real client joins from: the server keeps its handshakes
 * within bounds, still lets the real client in, answers the abandoned
 * ones nothing, and after the handshake timeout holds none of them (no
 * socket left open on its side). */
static void
test_abuse_abandoned_handshakes (void)
{
  static const char * const payloads[] = {
    NULL,                                               /* silent */
    "GET /joinRoom?room_co",                            /* half a request line */
    "GET /joinRoom?room_code=lobby&user_name=x HTTP/1.1\r\n"
    "Host: 127.0.0.1\r\nUpgrade: websocket\r\n",        /* no blank line */
  };
  g_autoptr(GcTestServer) ts = NULL;
  g_autoptr(GPtrArray) abusers = g_ptr_array_new_with_free_func ((GDestroyNotify) abuser_free);
  g_autoptr(GcTestClient) real = NULL;
  g_autoptr(GcTestClient) other = NULL;
  g_autoptr(GcTestEvent) echo = NULL;
  GcServerConfig config;
  GcTestDeadline deadline;
  rlim_t fd_limit = raise_fd_limit ();
  guint n_abusers;
  guint max_handshakes;
  guint n_connected = 0;
  guint n_gone = 0;
  guint max_handshakes_seen = 0;
  guint fds_before;
  gsize resident_before;
  gsize received = 0;
  gint64 start_us;

  /* Each connection costs two descriptors here: ours and the server's. */
  fds_before = count_open_fds ();
  n_abusers = MIN (N_ABUSERS_WANTED, (MIN (fd_limit, 100000) - MIN (fd_limit, fds_before + 200)) / 2);
  if (n_abusers < 400)
    {
      g_test_skip ("too few file descriptors for a meaningful flood");
      return;
    }
  /* Far fewer than the connections, so that the bound is tested. */
  max_handshakes = MIN (256, n_abusers / 4);
  g_test_message ("fd limit %lu: %u abandoned connections, at most %u handshakes",
                  (unsigned long) fd_limit, n_abusers, max_handshakes);

  gc_test_server_config_init (&config);
  config.handshake_timeout_seconds = 2;
  config.max_handshakes = max_handshakes;
  ts = gc_test_server_new (&config);
  fds_before = count_open_fds ();
  resident_before = resident_bytes ();

  /* In batches, so that the kernel's accept queue takes them without
   * dropping SYNs. */
  start_us = g_get_monotonic_time ();
  gc_test_deadline_start (&deadline, 6 * GC_TEST_TIMEOUT_MS);
  while (n_connected < n_abusers)
    {
      guint n_handshakes = gc_server_get_n_handshakes (ts->server);

      g_assert_cmpuint (n_handshakes, <=, max_handshakes);
      max_handshakes_seen = MAX (max_handshakes_seen, n_handshakes);
      if (abusers->len == n_connected && abusers->len < n_abusers)
        {
          for (guint i = 0; i < ABUSE_BATCH && abusers->len < n_abusers; i++)
            g_ptr_array_add (abusers, abuser_new (ts->port, payloads[abusers->len % 3],
                                                  &n_connected, &n_gone));
          continue;
        }
      gc_test_deadline_iterate (&deadline, "abandoned connections", __FILE__, __LINE__);
    }
  gc_test_deadline_stop (&deadline);
  g_test_message ("%u connections in %" G_GINT64_FORMAT " ms; at most %u handshakes; "
                  "%u already closed by the server",
                  n_abusers, (g_get_monotonic_time () - start_us) / 1000,
                  max_handshakes_seen, n_gone);

  /* A real client from the same address still gets in, and chats. */
  start_us = g_get_monotonic_time ();
  real = gc_test_client_join (ts->port, "lobby", "real");
  g_test_message ("the real client joined after %" G_GINT64_FORMAT " ms",
                  (g_get_monotonic_time () - start_us) / 1000);
  other = gc_test_client_join (ts->port, "lobby", "other");
  gc_test_client_send_message (real, "still here", NULL);
  echo = gc_test_client_wait_message (other, "still here");
  g_assert_cmpuint (gc_server_get_n_handshakes (ts->server), <=, max_handshakes);

  /* After the handshake timeout the server holds none of them, and it
   * never answered them. */
  gc_test_wait_ms (n_gone == n_abusers && gc_server_get_n_handshakes (ts->server) == 0,
                   6 * GC_TEST_TIMEOUT_MS);
  for (guint i = 0; i < abusers->len; i++)
    received += ((Abuser *) g_ptr_array_index (abusers, i))->received->len;
  g_assert_cmpuint (received, ==, 0);
  g_assert_cmpuint (gc_server_get_n_connections (ts->server), ==, 2);
  g_assert_cmpuint (gc_server_get_n_members (ts->server), ==, 2);
  {
    gsize resident_after = resident_bytes ();

    g_test_message ("resident memory grew by %" G_GSIZE_FORMAT " kB",
                    (resident_after - MIN (resident_after, resident_before)) / 1024);
  }

  /* Every server-side socket is closed: with ours and the two clients
   * gone, the descriptors are back where they were. */
  g_ptr_array_set_size (abusers, 0);
  g_clear_pointer (&real, gc_test_client_free);
  g_clear_pointer (&other, gc_test_client_free);
  gc_test_wait (gc_server_get_n_connections (ts->server) == 0);
  gc_test_wait (count_open_fds () <= fds_before + 4);
}

static guint
count_answered (GPtrArray *abusers)
{
  guint n = 0;

  for (guint i = 0; i < abusers->len; i++)
    if (((Abuser *) g_ptr_array_index (abusers, i))->received->len > 0)
      n++;
  return n;
}

#define N_TLS_STALLERS 100
#define N_TLS_STALLER_ADDRESSES 8

static void
configure_abuse_stalled_tls_handshakes (GcServerConfig *config)
{
  /* Far beyond the test's deadlines: the stalled handshakes are not
   * simply timed out. */
  config->handshake_timeout_seconds = 120;
}

/* Clients from several addresses send a ClientHello and then nothing.
 * Each TLS handshake holds a thread of GLib's task pool while it waits,
 * so unless the server limits them, they hold every thread until the
 * handshake deadline and no other TLS client gets through. */
static void
test_abuse_stalled_tls_handshakes (GcTestServer  *ts,
                                   gconstpointer  test_data)
{
  g_autofree char *cert_path = g_test_build_filename (G_TEST_DIST, "tls", "server.pem", NULL);
  g_autofree char *key_path = g_test_build_filename (G_TEST_DIST, "tls", "server-key.pem", NULL);
  g_autofree char *ca_path = g_test_build_filename (G_TEST_DIST, "tls", "ca.pem", NULL);
  g_autoptr(GTlsCertificate) certificate = NULL;
  g_autoptr(GTlsDatabase) ca = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) stallers = g_ptr_array_new_with_free_func ((GDestroyNotify) abuser_free);
  g_autoptr(GBytes) hello = NULL;
  g_autoptr(GcTestClient) first = NULL;
  g_autoptr(GcTestClient) second = NULL;
  g_autoptr(GcTestEvent) echo = NULL;
  GcTestJoinOptions options = { 0 };
  guint n_connected = 0;
  guint n_gone = 0;
  gint64 start_us;

  certificate = g_tls_certificate_new_from_files (cert_path, key_path, &error);
  g_assert_no_error (error);
  ca = g_tls_file_database_new (ca_path, &error);
  g_assert_no_error (error);
  options.tls_database = ca;

  g_assert_true (gc_server_set_tls_certificate (ts->server, certificate, &error));
  g_assert_no_error (error);

  hello = gc_test_tls_client_hello ();
  for (guint i = 0; i < N_TLS_STALLERS; i++)
    {
      g_autofree char *source = g_strdup_printf ("127.0.0.%u", 2 + i % N_TLS_STALLER_ADDRESSES);

      g_ptr_array_add (stallers, abuser_new_full (ts->port, source, hello, &n_connected, &n_gone));
    }
  gc_test_wait (n_connected == N_TLS_STALLERS &&
                gc_server_get_n_handshakes (ts->server) == N_TLS_STALLERS);
  /* The server answers some of them: those handshakes are running. */
  gc_test_wait (count_answered (stallers) >= 8);

  start_us = g_get_monotonic_time ();
  {
    g_autofree char *url = gc_test_join_url ("wss", "127.0.0.1", ts->port, "secure", "first",
                                             NULL);

    first = gc_test_client_new_for_url (url, &options);
    gc_test_client_wait_welcome (first);
  }
  g_test_message ("a TLS client joined %" G_GINT64_FORMAT " ms after %u ClientHellos "
                  "stalled (%u of them answered, %u closed)",
                  (g_get_monotonic_time () - start_us) / 1000, N_TLS_STALLERS,
                  count_answered (stallers), n_gone);
  {
    g_autofree char *url = gc_test_join_url ("wss", "127.0.0.1", ts->port, "secure", "second",
                                             NULL);

    second = gc_test_client_new_for_url (url, &options);
    gc_test_client_wait_welcome (second);
  }
  gc_test_client_send_message (first, "through", NULL);
  echo = gc_test_client_wait_message (second, "through");

  /* Giving up on them frees everything. */
  g_ptr_array_set_size (stallers, 0);
  gc_test_wait (gc_server_get_n_handshakes (ts->server) == 0);
}

/* A connection that streams a request as fast as the server takes it:
 * @head, then @filler @n_filler times, then @tail; or, with a drip
 * interval, @head and then one @filler every @drip_ms forever. */
typedef struct {
  GSocket     *socket;
  GSource     *source;
  GSource     *drip;
  GBytes      *pieces[3];    /* head, filler, tail */
  guint64      n_filler;
  guint64      piece_index;  /* 0 head, 1 .. n_filler filler, then tail */
  gsize        piece_offset;
  guint64      sent;
  gboolean     all_sent;
  gboolean     closed;       /* the server ended the connection */
  gint64       closed_us;
  GByteArray  *response;
} Pusher;

static gboolean on_pusher_ready (GSocket      *socket,
                                 GIOCondition  condition,
                                 gpointer      user_data);

static void
pusher_watch (Pusher       *pusher,
              GIOCondition  condition)
{
  watch_socket (&pusher->source, pusher->socket, condition, on_pusher_ready, pusher);
}

static void
pusher_set_closed (Pusher *pusher)
{
  if (pusher->closed)
    return;
  pusher->closed = TRUE;
  pusher->closed_us = g_get_monotonic_time ();
}

/* The piece now being sent, or NULL when everything went out. */
static GBytes *
pusher_current_piece (Pusher *pusher)
{
  if (pusher->piece_index == 0)
    return pusher->pieces[0];
  if (pusher->drip != NULL)
    return NULL;
  if (pusher->piece_index <= pusher->n_filler)
    return pusher->pieces[1];
  if (pusher->piece_index == pusher->n_filler + 1)
    return pusher->pieces[2];
  return NULL;
}

/* Sends what the socket takes; FALSE if the server ended the connection. */
static gboolean
pusher_send (Pusher *pusher)
{
  GBytes *piece;

  while ((piece = pusher_current_piece (pusher)) != NULL)
    {
      g_autoptr(GError) error = NULL;
      gsize len;
      const char *data = g_bytes_get_data (piece, &len);
      gssize n = g_socket_send (pusher->socket, data + pusher->piece_offset,
                                len - pusher->piece_offset, NULL, &error);

      if (n < 0)
        return g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK);

      pusher->sent += n;
      pusher->piece_offset += n;
      if (pusher->piece_offset == len)
        {
          pusher->piece_index++;
          pusher->piece_offset = 0;
        }
    }

  pusher->all_sent = pusher->drip == NULL;
  return TRUE;
}

static gboolean
on_pusher_ready (GSocket      *socket,
                 GIOCondition  condition,
                 gpointer      user_data)
{
  Pusher *pusher = user_data;

  if ((condition & (G_IO_IN | G_IO_HUP | G_IO_ERR)) != 0 &&
      !drain_socket (socket, pusher->response))
    {
      pusher_set_closed (pusher);
      g_clear_pointer (&pusher->source, g_source_unref);
      return G_SOURCE_REMOVE;
    }

  if ((condition & G_IO_OUT) != 0)
    {
      if (!pusher_send (pusher))
        {
          pusher_set_closed (pusher);
          g_clear_pointer (&pusher->source, g_source_unref);
          return G_SOURCE_REMOVE;
        }
      if (pusher_current_piece (pusher) == NULL)
        {
          /* Everything is out: only reading from now on. */
          pusher_watch (pusher, G_IO_IN);
          return G_SOURCE_REMOVE;
        }
    }

  return G_SOURCE_CONTINUE;
}

static gboolean
on_pusher_drip (gpointer user_data)
{
  Pusher *pusher = user_data;
  g_autoptr(GError) error = NULL;
  gsize len;
  const char *data = g_bytes_get_data (pusher->pieces[1], &len);

  if (pusher->closed || pusher->piece_index == 0)
    return G_SOURCE_CONTINUE;

  /* A line is a few bytes; the window never fills at this pace. */
  if (g_socket_send (pusher->socket, data, len, NULL, &error) > 0)
    pusher->sent += len;
  return G_SOURCE_CONTINUE;
}

static Pusher *
pusher_new (guint16     port,
            const char *head,
            const char *filler,
            guint64     n_filler,
            const char *tail,
            guint       drip_ms)
{
  Pusher *pusher = g_new0 (Pusher, 1);

  pusher->socket = connect_nonblocking (port, NULL);
  pusher->pieces[0] = g_bytes_new (head, strlen (head));
  pusher->pieces[1] = g_bytes_new (filler, strlen (filler));
  pusher->pieces[2] = g_bytes_new (tail, strlen (tail));
  pusher->n_filler = n_filler;
  pusher->response = g_byte_array_new ();
  if (drip_ms > 0)
    {
      pusher->drip = g_timeout_source_new (drip_ms);
      g_source_set_callback (pusher->drip, on_pusher_drip, pusher, NULL);
      g_source_attach (pusher->drip, NULL);
    }
  pusher_watch (pusher, G_IO_IN | G_IO_OUT);
  return pusher;
}

static void
pusher_free (Pusher *pusher)
{
  if (pusher->source != NULL)
    {
      g_source_destroy (pusher->source);
      g_source_unref (pusher->source);
    }
  if (pusher->drip != NULL)
    {
      g_source_destroy (pusher->drip);
      g_source_unref (pusher->drip);
    }
  g_socket_close (pusher->socket, NULL);
  g_object_unref (pusher->socket);
  for (guint i = 0; i < G_N_ELEMENTS (pusher->pieces); i++)
    g_bytes_unref (pusher->pieces[i]);
  g_byte_array_unref (pusher->response);
  g_free (pusher);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Pusher, pusher_free)

#define HUGE_HEADER_BYTES (64 * 1024 * 1024)

/* Asserts the server refused @pusher's request (no gc_test_http_upgrade) and ended
 * the connection long before the 64 MiB went out, without taking that
 * much memory. */
static void
assert_huge_refused (GcTestServer *ts,
                     Pusher     *pusher,
                     gsize       resident_before)
{
  gsize resident_after;
  gsize grown;

  gc_test_wait (pusher->closed);
  resident_after = resident_bytes ();
  grown = resident_after - MIN (resident_after, resident_before);
  g_test_message ("server ended it after %" G_GUINT64_FORMAT " bytes: %.*s; "
                  "resident memory grew by %" G_GSIZE_FORMAT " kB",
                  pusher->sent, (int) MIN (pusher->response->len, 40),
                  (const char *) pusher->response->data, grown / 1024);
  g_assert_false (pusher->all_sent);
  g_assert_cmpuint (pusher->sent, <, HUGE_HEADER_BYTES / 4);
  g_assert_cmpuint (grown, <, 32 * 1024 * 1024);
  /* Not upgraded: no answer at all, or an HTTP error status. */
  if (pusher->response->len > 0)
    g_assert_true (bytes_have_prefix (pusher->response, "HTTP/1.1 4") ||
                   bytes_have_prefix (pusher->response, "HTTP/1.1 5"));
  gc_test_wait (gc_server_get_n_handshakes (ts->server) == 0);
  g_assert_cmpuint (gc_server_get_n_connections (ts->server), ==, 0);
  g_assert_cmpuint (gc_server_get_n_rooms (ts->server), ==, 0);
}

static void
configure_abuse_huge_headers (GcServerConfig *config)
{
  /* Far beyond the test: only the size can end these early. */
  config->handshake_timeout_seconds = 600;
}

/* Huge headers, as many lines or as one line, are refused long before
 * the server would have buffered them; it goes on serving. */
static void
test_abuse_huge_headers (GcTestServer  *ts,
                         gconstpointer  test_data)
{
  g_autoptr(GcTestClient) after = NULL;
  g_autofree char *line = g_strdup_printf ("X-Padding: %0*d\r\n", 4000, 0);
  g_autofree char *run = g_strnfill (4096, 'a');

  {
    gsize resident_before = resident_bytes ();
    g_autoptr(Pusher) lines = pusher_new (ts->port, UPGRADE_HEAD ("room_code=big&user_name=a"),
                                          line, HUGE_HEADER_BYTES / strlen (line), "\r\n", 0);

    assert_huge_refused (ts, lines, resident_before);
  }

  {
    gsize resident_before = resident_bytes ();
    g_autoptr(Pusher) one_line = pusher_new (ts->port,
                                             UPGRADE_HEAD ("room_code=big&user_name=b")
                                             "X-Huge: ",
                                             run, HUGE_HEADER_BYTES / 4096, "\r\n\r\n", 0);

    assert_huge_refused (ts, one_line, resident_before);
  }

  /* A request line that never ends. */
  {
    gsize resident_before = resident_bytes ();
    g_autoptr(Pusher) url = pusher_new (ts->port, "GET /joinRoom?room_code=", run,
                                        HUGE_HEADER_BYTES / 4096, " HTTP/1.1\r\n\r\n", 0);

    assert_huge_refused (ts, url, resident_before);
  }

  after = gc_test_client_join (ts->port, "big", "after");
}

static void
configure_abuse_endless_headers (GcServerConfig *config)
{
  config->handshake_timeout_seconds = 2;
}

/* Headers that never end, sent slowly (a line every 20 ms, never the
 * blank line): closed by the handshake deadline, not before. */
static void
test_abuse_endless_headers (GcTestServer  *ts,
                            gconstpointer  test_data)
{
  g_autoptr(Pusher) drip = NULL;
  g_autoptr(GcTestClient) meanwhile = NULL;
  gint64 start_us;
  gint64 lasted_ms;

  start_us = g_get_monotonic_time ();
  drip = pusher_new (ts->port, UPGRADE_HEAD ("room_code=drip&user_name=d"),
                     "X-Drip: more\r\n", 0, "", 20);
  gc_test_wait (gc_server_get_n_handshakes (ts->server) == 1);

  /* Others are served meanwhile. */
  meanwhile = gc_test_client_join (ts->port, "drip", "meanwhile");
  g_assert_false (drip->closed);

  gc_test_wait (drip->closed);
  lasted_ms = (drip->closed_us - start_us) / 1000;
  g_test_message ("the drip lasted %" G_GINT64_FORMAT " ms, %" G_GUINT64_FORMAT " bytes",
                  lasted_ms, drip->sent);
  g_assert_cmpint (lasted_ms, >=, 1900);
  /* Its 2 s handshake timeout, with the 5 s of slack it always had. */
  g_assert_cmpint (lasted_ms, <, 2000 + 5000);
  g_assert_cmpuint (drip->response->len, ==, 0);
  gc_test_wait (gc_server_get_n_handshakes (ts->server) == 0);
  g_assert_cmpuint (gc_room_get_n_members (gc_server_lookup_room (ts->server, "drip")), ==, 1);
}

#define N_BAD_CLIENTS 30
#define N_BAD_JSON_EACH 100
#define N_OTHER_ROOM_MESSAGES 40

static void
configure_abuse_bad_frames_other_room (GcServerConfig *config)
{
  config->resume_seconds = 1;
  /* The quiet room sends its messages as one burst. */
  config->rate_burst = N_OTHER_ROOM_MESSAGES;
}

/* Many clients of one room send invalid JSON, binary frames and broken
 * frames at once: each gets what it deserves (errors, then 1008; 1003;
 * 1002), the room is gone afterwards, and another room's chat goes on
 * complete and in order meanwhile. */
static void
test_abuse_bad_frames_other_room (GcTestServer  *ts,
                                  gconstpointer  test_data)
{
  g_autoptr(GcTestClient) b1 = NULL;
  g_autoptr(GcTestClient) b2 = NULL;
  GcTestRawClient *bad[N_BAD_CLIENTS];
  GcRoom *room_a;
  const guint8 binary[] = { 0x00, 0xff, 0x10, 0x20 };
  const char *not_json = "{\"type\":\"message\",\"text\":";
  /* A text frame with a reserved bit set, masked. */
  const guint8 reserved_bit[] = { 0xC1, 0x81, 0, 0, 0, 0, 'x' };
  guint64 last_id = 0;

  b1 = gc_test_client_join (ts->port, "quiet", "b1");
  b2 = gc_test_client_join (ts->port, "quiet", "b2");
  {
    g_autoptr(GcUser) joined = gc_test_client_wait_join_user (b1);
  }

  for (guint i = 0; i < N_BAD_CLIENTS; i++)
    {
      g_autofree char *path = g_strdup_printf ("/joinRoom?room_code=noisy&user_name=bad%u", i);

      bad[i] = gc_test_raw_client_connect (ts->port, path, TRUE, 0);
    }
  room_a = gc_server_lookup_room (ts->server, "noisy");
  g_assert_nonnull (room_a);
  g_object_add_weak_pointer (G_OBJECT (room_a), (gpointer *) &room_a);

  /* All the bad input goes out before the server sees any of it. */
  for (guint i = 0; i < N_BAD_CLIENTS; i++)
    {
      switch (i % 3)
        {
        case 0:
          for (guint j = 0; j < N_BAD_JSON_EACH; j++)
            gc_test_raw_client_send_frame (bad[i], GC_WS_OPCODE_TEXT, TRUE,
                                           (const guint8 *) not_json, strlen (not_json));
          break;
        case 1:
          gc_test_raw_client_send_frame (bad[i], GC_WS_OPCODE_BINARY, TRUE, binary, sizeof binary);
          break;
        default:
          gc_test_raw_client_send_bytes (bad[i], reserved_bit, sizeof reserved_bit);
          break;
        }
    }
  for (guint i = 0; i < N_OTHER_ROOM_MESSAGES; i++)
    {
      g_autofree char *text = g_strdup_printf ("quiet %u", i);

      gc_test_client_send_message (b1, text, NULL);
    }

  /* The other room: everything, in order, and nothing from the noisy room. */
  for (guint i = 0; i < N_OTHER_ROOM_MESSAGES; i++)
    {
      g_autofree char *text = g_strdup_printf ("quiet %u", i);
      g_autoptr(GcTestEvent) event = gc_test_client_next_event (b2);

      if (event->event->type != GC_EVENT_MESSAGE)
        g_error ("the quiet room got %s", event->json);
      g_assert_cmpstr (event->event->message->text, ==, text);
      g_assert_cmpuint (event->event->message->id, >, last_id);
      last_id = event->event->message->id;
    }
  gc_test_client_sync (b2);
  g_assert_cmpuint (gc_test_client_count_queued (b2, GC_EVENT_UNKNOWN), ==, 0);

  /* The noisy room: each got its close. */
  for (guint i = 0; i < N_BAD_CLIENTS; i++)
    {
      gushort expected = i % 3 == 0 ? 1008 : i % 3 == 1 ? 1003 : 1002;

      gc_test_wait (bad[i]->close_code != 0 || bad[i]->eof);
      g_assert_cmpuint (bad[i]->close_code, ==, expected);
      if (i % 3 == 0)
        {
          /* A burst's worth of bad_request errors, then rate_limited, then the close. */
          guint n_bad_request = 0;

          for (GList *l = bad[i]->events.head; l != NULL; l = l->next)
            {
              GcTestEvent *event = l->data;

              if (event->event->type == GC_EVENT_ERROR &&
                  g_strcmp0 (event->event->error.code, "bad_request") == 0)
                n_bad_request++;
            }
          /* The burst, and perhaps a token that refilled meanwhile. */
          g_assert_cmpuint (n_bad_request, >=, ts->config.rate_burst);
          g_assert_cmpuint (n_bad_request, <, N_BAD_JSON_EACH / 2);
        }
    }

  /* Every bad client was dropped at once (no resume wait): the room is
   * disposed, and once they hang up only the quiet room's two
   * connections remain. */
  gc_test_wait (room_a == NULL);
  g_assert_cmpuint (gc_server_get_n_rooms (ts->server), ==, 1);
  g_assert_cmpuint (gc_server_get_n_members (ts->server), ==, 2);
  for (guint i = 0; i < N_BAD_CLIENTS; i++)
    gc_test_raw_client_free (bad[i]);
  gc_test_wait (gc_server_get_n_connections (ts->server) == 2);
}

#define N_NOISY_MEMBERS 20
#define N_ROUND_TRIPS 100
#define FLOOD_TICK_MS 12
#define FLOOD_PER_TICK 8

typedef struct {
  GcTestServer   *ts;
  GcTestClient *flooder;
  GcTestClient *erring;
  GPtrArray    *refused;    /* Pusher: joins with a bad room code */
  guint         n_ticks;
  guint         n_sent;
  guint         n_refusals;
} Flood;

/* One tick: messages and bad requests (each near the rate limit), and a
 * join with a bad room code. */
static gboolean
on_flood_tick (gpointer user_data)
{
  Flood *flood = user_data;

  for (guint i = 0; i < FLOOD_PER_TICK; i++)
    {
      g_autofree char *text = g_strdup_printf ("flood %u", flood->n_sent++);

      gc_test_client_send_message (flood->flooder, text, NULL);
      gc_test_client_send_text (flood->erring, "{\"type\":\"shout\"}");
    }
  flood->n_ticks++;
  g_ptr_array_add (flood->refused,
                   pusher_new (flood->ts->port, UPGRADE_HEAD ("room_code=bad!&user_name=x"),
                               "", 0, "\r\n", 0));
  return G_SOURCE_CONTINUE;
}

static void
configure_abuse_flood_fairness (GcServerConfig *config)
{
  config->rate_burst = 2 * FLOOD_PER_TICK;
  config->rate_per_second = 1000.0 * FLOOD_PER_TICK / FLOOD_TICK_MS * 1.2;
}

/* A room flooded near the rate limit (fanned out to 20 members), with a
 * stream of bad requests and refused joins besides, does not stall
 * another room: its round trips all complete, in order, within the
 * usual deadline. */
static void
test_abuse_flood_fairness (GcTestServer  *ts,
                           gconstpointer  test_data)
{
  g_autoptr(GcTestClient) b1 = NULL;
  g_autoptr(GcTestClient) b2 = NULL;
  g_autoptr(GPtrArray) noisy = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_test_client_free);
  g_autoptr(GPtrArray) refused = g_ptr_array_new_with_free_func ((GDestroyNotify) pusher_free);
  Flood flood = { 0 };
  guint tick_id;
  gint64 worst_us = 0;
  guint n_delivered_meanwhile;
  guint n_errors_meanwhile;

  for (guint i = 0; i < N_NOISY_MEMBERS; i++)
    {
      g_autofree char *name = g_strdup_printf ("n%u", i);

      g_ptr_array_add (noisy, gc_test_client_join (ts->port, "noisy", name));
    }
  b1 = gc_test_client_join (ts->port, "quiet", "b1");
  b2 = gc_test_client_join (ts->port, "quiet", "b2");
  {
    g_autoptr(GcUser) joined = gc_test_client_wait_join_user (b1);
  }

  flood.ts = ts;
  flood.flooder = g_ptr_array_index (noisy, 0);
  flood.erring = g_ptr_array_index (noisy, 1);
  flood.refused = refused;
  /* Just under the rate limit: ticks come late, never early. */
  tick_id = g_timeout_add (FLOOD_TICK_MS, on_flood_tick, &flood);

  /* One round trip per tick, so they span the flood. */
  for (guint i = 0; i < N_ROUND_TRIPS; i++)
    {
      GcTestClient *from = i % 2 == 0 ? b1 : b2;
      GcTestClient *to = i % 2 == 0 ? b2 : b1;
      g_autofree char *text = g_strdup_printf ("round trip %u", i);
      g_autoptr(GcTestEvent) event = NULL;
      gint64 start_us;

      gc_test_wait (flood.n_ticks > i);
      start_us = g_get_monotonic_time ();
      gc_test_client_send_message (from, text, NULL);
      /* Nothing else is in the quiet room: the next event is this one. */
      event = gc_test_client_next_event (to);
      g_assert_cmpint (event->event->type, ==, GC_EVENT_MESSAGE);
      g_assert_cmpstr (event->event->message->text, ==, text);
      worst_us = MAX (worst_us, g_get_monotonic_time () - start_us);
      g_clear_pointer (&event, gc_test_event_free);
      event = gc_test_client_next_event (from);
      g_assert_cmpstr (event->event->message->text, ==, text);
    }
  g_source_remove (tick_id);

  /* The flood really ran meanwhile. */
  n_delivered_meanwhile = gc_test_client_count_queued (g_ptr_array_index (noisy, N_NOISY_MEMBERS - 1),
                                                       GC_EVENT_MESSAGE);
  n_errors_meanwhile = gc_test_client_count_queued (flood.erring, GC_EVENT_ERROR);
  for (guint i = 0; i < refused->len; i++)
    {
      Pusher *pusher = g_ptr_array_index (refused, i);

      if (pusher->response->len > 0)
        flood.n_refusals++;
    }
  g_test_message ("%u round trips, the slowest %" G_GINT64_FORMAT " ms, while the noisy room "
                  "delivered %u of %u messages (to each of %u members), %u errors and %u "
                  "refused joins",
                  N_ROUND_TRIPS, worst_us / 1000, n_delivered_meanwhile, flood.n_sent,
                  N_NOISY_MEMBERS, n_errors_meanwhile, flood.n_refusals);
  g_assert_cmpuint (flood.n_ticks, >=, N_ROUND_TRIPS);
  g_assert_cmpuint (n_delivered_meanwhile, >=, N_ROUND_TRIPS);
  g_assert_cmpuint (n_errors_meanwhile, >=, N_ROUND_TRIPS);
  g_assert_cmpuint (flood.n_refusals, >=, N_ROUND_TRIPS / 2);
  /* Near the limit, never over it: the flood was all delivered. */
  g_assert_cmpuint (gc_test_client_count_queued (flood.flooder, GC_EVENT_ERROR), ==, 0);
  g_assert_false (flood.flooder->closed);
  g_assert_false (flood.erring->closed);

  /* Every refused join got its answer: after the upgrade (docs/protocol.md
   * §3.6), a `refused` event with invalid_room_code, or a JSON 400. */
  for (guint i = 0; i < refused->len; i++)
    {
      Pusher *pusher = g_ptr_array_index (refused, i);

      gc_test_wait (pusher->closed);
      /* Beyond a few in flight from one address, refusals are HTTP ones. */
      if (bytes_have_prefix (pusher->response, "HTTP/1.1 101"))
        g_assert_nonnull (g_strstr_len ((const char *) pusher->response->data, pusher->response->len,
                                        "\"type\":\"refused\",\"error\":\"invalid_room_code\""));
      else
        g_assert_true (bytes_have_prefix (pusher->response, "HTTP/1.1 400"));
    }
  g_assert_cmpuint (gc_test_client_count_queued (b1, GC_EVENT_UNKNOWN), ==, 0);
  g_assert_cmpuint (gc_test_client_count_queued (b2, GC_EVENT_UNKNOWN), ==, 0);
}

static void
configure_slow_readers_many (GcServerConfig *config)
{
  config->max_queued_bytes = 32 * 1024;
  config->max_text_bytes = 40000;
  config->history = 0;
}

/* One message drops many slow readers: their leaves go out one after
 * another once the broadcast is over, never a broadcast nested in the
 * previous drop's leave broadcast (which overflowed the stack at some
 * thousands of readers), and the reader gets everything. The slow
 * readers' bound is below one message, so all of them overflow in the
 * same broadcast however much their sockets buffer; the reader and the
 * sender have none. */
static void
test_slow_readers_many (GcTestServer  *ts,
                        gconstpointer  test_data)
{
  enum { N_SLOW = 200 };
  g_autoptr(GcTestClient) sender = NULL;
  g_autoptr(GcTestClient) reader = NULL;
  g_autoptr(GPtrArray) slow = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_test_raw_client_free);
  g_autoptr(GHashTable) slow_ids = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GcTestEvent) message = NULL;
  g_autofree char *text = NULL;
  GcRoom *room;
  guint n_left = 0;

  raise_fd_limit ();
  sender = gc_test_client_join (ts->port, "lobby", "sender");
  reader = gc_test_client_join (ts->port, "lobby", "reader");
  room = gc_server_lookup_room (ts->server, "lobby");
  gc_ws_connection_set_max_queued_bytes (gc_room_get_member_connection (room, "sender"), 0);
  gc_ws_connection_set_max_queued_bytes (gc_room_get_member_connection (room, "reader"), 0);
  for (guint i = 0; i < N_SLOW; i++)
    {
      g_autofree char *path = g_strdup_printf ("/joinRoom?room_code=lobby&user_name=slow%u", i);

      g_ptr_array_add (slow, gc_test_raw_client_connect (ts->port, path, FALSE, 4096));
    }
  for (guint i = 0; i < N_SLOW; i++)
    {
      GcUser *user = gc_test_client_wait_join_user (reader);

      g_hash_table_add (slow_ids, g_strdup (user->id));
      gc_user_free (user);
    }
  g_assert_cmpuint (gc_room_get_n_members (room), ==, N_SLOW + 2);
  g_assert_cmpuint (gc_room_get_max_walk_depth (room), ==, 1);

  text = g_strnfill (40000, 'z');
  gc_test_client_send_message (sender, text, NULL);
  message = gc_test_client_wait_event (reader, GC_EVENT_MESSAGE);
  g_assert_cmpstr (message->event->message->text, ==, text);
  while (n_left < N_SLOW)
    {
      g_autoptr(GcTestEvent) event = gc_test_client_next_event (reader);

      g_assert_cmpint (event->event->type, ==, GC_EVENT_LEAVE);
      g_assert_true (g_hash_table_remove (slow_ids, event->event->leave.user->id));
      g_assert_cmpstr (gc_leave_reason_to_string (event->event->leave.reason), ==, "slow");
      n_left++;
    }

  g_assert_cmpuint (gc_room_get_n_members (room), ==, 2);
  /* Every broadcast ran at the top level. */
  g_assert_cmpuint (gc_room_get_max_walk_depth (room), ==, 1);
  /* The room goes on. */
  gc_test_client_sync (reader);
  g_assert_cmpuint (gc_test_client_count_queued (reader, GC_EVENT_LEAVE), ==, 0);
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);

  gc_test_add_server ("/server/refusal/server-full-upgrades",
                      configure_refusal_server_full_upgrades,
                      test_refusal_server_full_upgrades);
  gc_test_add_server ("/server/slow/many-readers", configure_slow_readers_many,
                      test_slow_readers_many);
  g_test_add_func ("/server/abuse/abandoned-handshakes", test_abuse_abandoned_handshakes);
  gc_test_add_server ("/server/abuse/stalled-tls-handshakes",
                      configure_abuse_stalled_tls_handshakes,
                      test_abuse_stalled_tls_handshakes);
  gc_test_add_server ("/server/abuse/huge-headers", configure_abuse_huge_headers,
                      test_abuse_huge_headers);
  gc_test_add_server ("/server/abuse/endless-headers", configure_abuse_endless_headers,
                      test_abuse_endless_headers);
  gc_test_add_server ("/server/abuse/bad-frames-other-room", configure_abuse_bad_frames_other_room,
                      test_abuse_bad_frames_other_room);
  gc_test_add_server ("/server/abuse/flood-fairness", configure_abuse_flood_fairness,
                      test_abuse_flood_fairness);

  return gc_test_run ();
}
