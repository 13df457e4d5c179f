/* test-server-hardening.c: the attacks of issue 14, each as a test
 *
 * A remote memory leak through libsoup's 501 path, lenient HTTP parsing,
 * TLS handshake starvation, eviction of honest upgrades in a silent
 * flood, honest clients closed as flooders after a stall, and defaults
 * that collapse under a low file-descriptor limit. Real loopback
 * sockets, in-process servers and gochat-server processes.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <gio/gio.h>

#include "gc-request-head.h"
#include "gc-test-http.h"
#include "gc-test-server.h"

/* ------------------------------------------------------------------ */
/* Servers                                                              */
/* ------------------------------------------------------------------ */

/* Resident memory of process @pid in kB (VmRSS). */
static guint64
resident_kb (const char *pid)
{
  g_autofree char *path = g_strdup_printf ("/proc/%s/status", pid);
  g_autofree char *status = NULL;
  const char *line;

  g_assert_true (g_file_get_contents (path, &status, NULL, NULL));
  line = strstr (status, "VmRSS:");
  g_assert_nonnull (line);
  return g_ascii_strtoull (line + strlen ("VmRSS:"), NULL, 10);
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

/* ------------------------------------------------------------------ */
/* Blocking HTTP from worker threads (against server processes only)    */
/* ------------------------------------------------------------------ */

/* Connects a blocking socket from @source (e.g. "127.0.0.12") to
 * 127.0.0.1:@port, with 10 s timeouts; -1 on failure. */
static int
blocking_connect (const char *source,
                  guint16     port)
{
  struct sockaddr_in from = { .sin_family = AF_INET };
  struct sockaddr_in to = { .sin_family = AF_INET, .sin_port = htons (port) };
  struct timeval timeout = { 10, 0 };
  int fd = socket (AF_INET, SOCK_STREAM, 0);

  if (fd < 0)
    return -1;
  inet_pton (AF_INET, source, &from.sin_addr);
  inet_pton (AF_INET, "127.0.0.1", &to.sin_addr);
  setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
  setsockopt (fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, sizeof timeout);
  if (bind (fd, (struct sockaddr *) &from, sizeof from) < 0 ||
      connect (fd, (struct sockaddr *) &to, sizeof to) < 0)
    {
      close (fd);
      return -1;
    }
  return fd;
}

/* Whether @answer (@len bytes) holds a whole response: its head and as
 * much body as its Content-Length says. */
static gboolean
response_is_complete (const char *answer,
                      gsize       len)
{
  g_autofree char *text = g_strndup (answer, len);
  const char *end = strstr (text, "\r\n\r\n");
  const char *length;

  if (end == NULL)
    return FALSE;
  length = g_strstr_len (text, end - text, "Content-Length:");
  return length != NULL &&
         len >= (gsize) (end + 4 - text) + g_ascii_strtoull (length + strlen ("Content-Length:"),
                                                             NULL, 10);
}

/* Sends @request, reads the answer (to its end or EOF); returns its first
 * bytes (at most 15) or NULL on an error. */
static char *
blocking_exchange (const char *source,
                   guint16     port,
                   const char *request,
                   gsize       len)
{
  char answer[4096];
  gsize got = 0;
  gsize sent = 0;
  int fd = blocking_connect (source, port);

  if (fd < 0)
    return NULL;
  while (sent < len)
    {
      ssize_t n = send (fd, request + sent, len - sent, MSG_NOSIGNAL);

      if (n <= 0)
        break;
      sent += n;
    }
  /* Not to EOF: libsoup kept connections open after its 501. */
  while (got < sizeof answer && !response_is_complete (answer, got))
    {
      ssize_t n = recv (fd, answer + got, sizeof answer - got, 0);

      if (n <= 0)
        break;
      got += n;
    }
  close (fd);

  return got > 0 ? g_strndup (answer, MIN (got, 15)) : NULL;
}

typedef struct {
  guint16      port;
  char        *source;
  const char  *request;
  gsize        request_len;
  guint        n_requests;
  gint64       give_up_us;
  guint        n_answered;  /* an HTTP answer */
  guint        n_refused;   /* answered 400 */
  gint         done;        /* atomic */
} LeakWorker;

static gpointer
leak_worker_run (gpointer data)
{
  LeakWorker *worker = data;

  for (guint i = 0; i < worker->n_requests && g_get_monotonic_time () < worker->give_up_us; i++)
    {
      g_autofree char *answer = blocking_exchange (worker->source, worker->port,
                                                   worker->request, worker->request_len);

      if (answer != NULL && g_str_has_prefix (answer, "HTTP/1.1 "))
        worker->n_answered++;
      if (answer != NULL && g_str_has_prefix (answer, "HTTP/1.1 400 "))
        worker->n_refused++;
    }

  g_atomic_int_set (&worker->done, TRUE);
  g_main_context_wakeup (NULL);
  return NULL;
}

#define LEAK_THREADS 4

/* Sends @n requests from LEAK_THREADS threads (each from its own source
 * address, so that closed connections' ports never run out); returns
 * how many got an answer, and @out_n_refused how many got 400. */
static guint
send_leaking_requests (guint16  port,
                       guint    n,
                       gint64   give_up_us,
                       guint   *out_n_refused)
{
  g_autofree char *path = g_strnfill (8 * 1024, 'p');
  static const char * const encodings[] = { "identity, chunked", "gzip", "chunked, gzip" };
  LeakWorker workers[LEAK_THREADS];
  GThread *threads[LEAK_THREADS];
  char *requests[LEAK_THREADS] = { NULL };
  guint n_answered = 0;

  for (guint t = 0; t < LEAK_THREADS; t++)
    {
      requests[t] = g_strdup_printf ("GET /%s HTTP/1.1\r\n"
                                     "Host: 127.0.0.1\r\n"
                                     "Transfer-Encoding: %s\r\n"
                                     "\r\n",
                                     path, encodings[t % G_N_ELEMENTS (encodings)]);
      workers[t] = (LeakWorker) {
        .port = port,
        .source = g_strdup_printf ("127.0.0.%u", 20 + t),
        .request = requests[t],
        .request_len = strlen (requests[t]),
        .n_requests = n / LEAK_THREADS,
        .give_up_us = give_up_us,
      };
      threads[t] = g_thread_new ("leaker", leak_worker_run, &workers[t]);
    }
  /* The main loop goes on meanwhile: it reads the server's log. */
  gc_test_wait_ms (g_atomic_int_get (&workers[0].done) && g_atomic_int_get (&workers[1].done) &&
                   g_atomic_int_get (&workers[2].done) && g_atomic_int_get (&workers[3].done),
                   180000);
  for (guint t = 0; t < LEAK_THREADS; t++)
    {
      g_thread_join (threads[t]);
      n_answered += workers[t].n_answered;
      *out_n_refused += workers[t].n_refused;
      g_free (workers[t].source);
      g_free (requests[t]);
    }

  return n_answered;
}

#define N_LEAKING_REQUESTS 40000

/* Issue 14.1: a Transfer-Encoding libsoup does not know made it answer
 * 501 and leak the request path, 8 KB a time: 40,000 such requests took
 * the server from 8.6 MB to 322 MB. Now they get 400 before libsoup
 * sees them, and the server's memory stays where it was. */
/* Starts a gochat-server whose freed memory is not held back: under
 * AddressSanitizer it waits in a quarantine (256 MB by default) that
 * resident memory counts, and a leak test would see it grow. */
static GcTestServerProcess *
start_server_without_quarantine (void)
{
  g_autofree char *saved = g_strdup (g_getenv ("ASAN_OPTIONS"));
  g_autofree char *options = g_strdup_printf ("%s%squarantine_size_mb=0",
                                              saved != NULL ? saved : "",
                                              saved != NULL && saved[0] != '\0' ? ":" : "");
  GcTestServerProcess *server;

  g_setenv ("ASAN_OPTIONS", options, TRUE);
  server = gc_test_server_process_start (NULL);
  if (saved != NULL)
    g_setenv ("ASAN_OPTIONS", saved, TRUE);
  else
    g_unsetenv ("ASAN_OPTIONS");
  return server;
}

static void
test_leak_transfer_encoding (void)
{
  g_autoptr(GcTestServerProcess) server = start_server_without_quarantine ();
  g_autofree char *pid = g_strdup (g_subprocess_get_identifier (server->process));
  gint64 start_us = g_get_monotonic_time ();
  gint64 give_up_us = start_us + 120 * G_USEC_PER_SEC;
  guint64 before_kb;
  guint64 after_kb;
  guint n_answered;
  guint n_refused = 0;

  /* Warm up the allocator first: what a steady state needs is no leak. */
  g_assert_cmpuint (send_leaking_requests (server->port, 2000, give_up_us, &n_refused), ==, 2000);
  before_kb = resident_kb (pid);

  n_refused = 0;
  n_answered = send_leaking_requests (server->port, N_LEAKING_REQUESTS, give_up_us, &n_refused);
  after_kb = resident_kb (pid);
  g_test_message ("%u requests with an 8 KB path and an unknown Transfer-Encoding in %"
                  G_GINT64_FORMAT " ms: server RSS %" G_GUINT64_FORMAT " kB before, %"
                  G_GUINT64_FORMAT " kB after",
                  N_LEAKING_REQUESTS, (g_get_monotonic_time () - start_us) / 1000,
                  before_kb, after_kb);

  g_assert_cmpuint (n_answered, ==, N_LEAKING_REQUESTS);
  /* The leak was 8 KB a request, 320 MB in all. */
  g_assert_cmpuint (after_kb, <, before_kb + 16 * 1024);
  g_assert_cmpuint (n_refused, ==, N_LEAKING_REQUESTS);
}

/* ------------------------------------------------------------------ */
/* HTTP leniency (issue 14.8)                                           */
/* ------------------------------------------------------------------ */

/* Sends @request and asserts a refusal @status with code bad_request,
 * within @within_ms. */
static void
assert_head_refused (guint16     port,
                     const char *request,
                     guint       status,
                     guint       within_ms)
{
  gint64 start_us = g_get_monotonic_time ();
  g_autoptr(GcTestHttpResponse) response = gc_test_http_request ("127.0.0.1", port, NULL, request);
  gint64 took_ms = (g_get_monotonic_time () - start_us) / 1000;

  gc_test_http_assert_refusal (response, status, "bad_request");
  g_assert_cmpstr (soup_message_headers_get_one (response->headers, "Connection"), ==, "close");
  g_assert_cmpint (took_ms, <, within_ms);
}

#define HEAD_LIMIT (64 * 1024)

/* Headers or a URI over 64 KiB: 431 and 414, not a reset. */
static void
test_http_too_long (void)
{
  g_autoptr(GcTestServer) ts = gc_test_server_new (NULL);
  g_autofree char *padding = g_strnfill (HEAD_LIMIT + 100, 'a');
  g_autofree char *long_header = g_strdup_printf ("GET /healthz HTTP/1.1\r\nHost: x\r\n"
                                                  "X-Padding: %s\r\n\r\n", padding);
  g_autofree char *many_headers = NULL;
  g_autofree char *long_uri = g_strdup_printf ("GET /joinRoom?room_code=%s HTTP/1.1\r\n"
                                               "Host: x\r\n\r\n", padding);
  g_autofree char *just_under = NULL;
  g_autoptr(GString) lines = g_string_new ("GET /healthz HTTP/1.1\r\nHost: x\r\n");
  g_autoptr(GcTestHttpResponse) fine = NULL;

  while (lines->len < HEAD_LIMIT + 1000)
    g_string_append_printf (lines, "X-Line-%u: %s\r\n", (guint) lines->len, "some value");
  g_string_append (lines, "\r\n");
  many_headers = g_strdup (lines->str);

  assert_head_refused (ts->port, long_header, 431, GC_TEST_TIMEOUT_MS);
  assert_head_refused (ts->port, many_headers, 431, GC_TEST_TIMEOUT_MS);
  assert_head_refused (ts->port, long_uri, 414, GC_TEST_TIMEOUT_MS);

  /* Just under the limit is a request like any other. */
  padding[HEAD_LIMIT - 200] = '\0';
  just_under = g_strdup_printf ("GET /healthz HTTP/1.1\r\nHost: x\r\nX-Padding: %s\r\n"
                                "Connection: close\r\n\r\n", padding);
  fine = gc_test_http_request ("127.0.0.1", ts->port, NULL, just_under);
  g_assert_cmpuint (fine->status, ==, 200);
}

/* Content-Length -1 or 2^66 (or any other non-number): 400 at once,
 * not held until the handshake deadline (a minute here). */
static void
test_http_bad_content_length (void)
{
  static const char * const lengths[] = {
    "-1", "73786976294838206464", "+5", "1 2", "0x10", "", "5, 5",
  };
  g_autoptr(GcTestServer) ts = NULL;
  GcServerConfig config;

  /* Held to the deadline, these took a minute. */
  gc_test_server_config_init (&config);
  config.handshake_timeout_seconds = 60;
  ts = gc_test_server_new (&config);

  for (guint i = 0; i < G_N_ELEMENTS (lengths); i++)
    {
      g_autofree char *request = g_strdup_printf ("GET /healthz HTTP/1.1\r\nHost: x\r\n"
                                                  "Content-Length: %s\r\n\r\n", lengths[i]);

      g_test_message ("Content-Length: %s", lengths[i]);
      assert_head_refused (ts->port, request, 400, 30000);
    }

  /* Two that disagree. */
  assert_head_refused (ts->port, "GET /healthz HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n"
                       "Content-Length: 1\r\n\r\n", 400, 30000);
}

/* RFC 9112 §5: header lines without a colon, with white space before
 * it, or folded; and any Transfer-Encoding (we take no bodies). */
static void
test_http_header_syntax (void)
{
  static const char * const heads[] = {
    "GET /healthz HTTP/1.1\r\nHost: x\r\nNo colon here\r\n\r\n",
    "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Space : before the colon\r\n\r\n",
    "GET /healthz HTTP/1.1\r\nHost : x\r\n\r\n",
    "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Folded: one\r\n two\r\n\r\n",
    "GET /healthz HTTP/1.1\r\nHost: x\r\n: no name\r\n\r\n",
    "GET /healthz HTTP/1.1\r\nHost: x\r\nX-Ctl: a\001b\r\n\r\n",
    "GET  /healthz HTTP/1.1\r\nHost: x\r\n\r\n",
    "GET /healthz\r\nHost: x\r\n\r\n",
    "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n",
    "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity, chunked\r\n\r\n",
    "GET /healthz HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: gzip\r\n\r\n",
  };
  g_autoptr(GcTestServer) ts = gc_test_server_new (NULL);
  g_autoptr(GcTestHttpResponse) fine = NULL;
  g_autoptr(GcTestClient) client = NULL;

  for (guint i = 0; i < G_N_ELEMENTS (heads); i++)
    {
      g_test_message ("%s", heads[i]);
      assert_head_refused (ts->port, heads[i], 400, GC_TEST_TIMEOUT_MS);
    }
  assert_head_refused (ts->port, "GET /healthz HTTP/2.0\r\nHost: x\r\n\r\n", 505,
                       GC_TEST_TIMEOUT_MS);

  /* Tabs, obs-text, LF-only lines and empty values are fine; so is
   * everything that still goes to libsoup. */
  fine = gc_test_http_request ("127.0.0.1", ts->port, NULL,
                               "GET /healthz HTTP/1.1\nHost:\tx\nX-Empty:\nX-Text: caf\xc3\xa9\n"
                               "Connection: close\n\n");
  g_assert_cmpuint (fine->status, ==, 200);
  client = gc_test_client_join (ts->port, "lobby", "alice");
}

/* The same refusals over TLS, where the head is read (not peeked) and
 * goes to libsoup through a prefix stream. */
static GTlsDatabase *load_tls (GcServer *server);

static void
test_http_tls (void)
{
  g_autoptr(GcTestServer) ts = gc_test_server_new (NULL);
  g_autoptr(GTlsDatabase) ca = load_tls (ts->server);
  g_autoptr(GcTestHttpResponse) refused = NULL;
  g_autoptr(GcTestHttpResponse) fine = NULL;
  g_autoptr(GcTestClient) client = NULL;
  g_autofree char *url = gc_test_join_url ("wss", "127.0.0.1", ts->port, "secure", "alice", NULL);
  GcTestJoinOptions options = { .tls_database = ca };

  refused = gc_test_http_request ("127.0.0.1", ts->port, ca,
                                  "GET /healthz HTTP/1.1\r\nHost: x\r\n"
                                  "Transfer-Encoding: gzip\r\n\r\n");
  gc_test_http_assert_refusal (refused, 400, "bad_request");
  fine = gc_test_http_get ("127.0.0.1", ts->port, ca, "/healthz");
  g_assert_cmpuint (fine->status, ==, 200);

  client = gc_test_client_new_for_url (url, &options);
  gc_test_client_wait_welcome (client);
}

/* ------------------------------------------------------------------ */
/* Floods from many addresses (issue 14.2 and 14.5)                     */
/* ------------------------------------------------------------------ */

/* A connection from @source that sends @payload (or nothing) once
 * connected and then nothing more; watched until the server ends it. */
typedef struct {
  GSocket  *socket;
  GSource  *source;
  GBytes   *payload;
  gboolean  connected;
  gboolean  answered;   /* the server sent something */
  gboolean  gone;       /* the server closed or reset it */
  guint    *n_connected;
} Staller;

static gboolean on_staller_ready (GSocket      *socket,
                                  GIOCondition  condition,
                                  gpointer      user_data);

static void
staller_watch (Staller      *staller,
               GIOCondition  condition)
{
  if (staller->source != NULL)
    {
      g_source_destroy (staller->source);
      g_source_unref (staller->source);
    }
  staller->source = g_socket_create_source (staller->socket, condition | G_IO_HUP | G_IO_ERR,
                                            NULL);
  g_source_set_callback (staller->source, G_SOURCE_FUNC (on_staller_ready), staller, NULL);
  g_source_attach (staller->source, NULL);
}

static gboolean
on_staller_ready (GSocket      *socket,
                  GIOCondition  condition,
                  gpointer      user_data)
{
  Staller *staller = user_data;
  char buffer[4096];
  gssize n;

  if (!staller->connected)
    {
      if (!g_socket_check_connect_result (socket, NULL))
        {
          staller->gone = TRUE;
          g_clear_pointer (&staller->source, g_source_unref);
          return G_SOURCE_REMOVE;
        }
      staller->connected = TRUE;
      (*staller->n_connected)++;
      if (staller->payload != NULL)
        g_socket_send (socket, g_bytes_get_data (staller->payload, NULL),
                       g_bytes_get_size (staller->payload), NULL, NULL);
      staller_watch (staller, G_IO_IN);
      return G_SOURCE_REMOVE;
    }

  for (;;)
    {
      g_autoptr(GError) error = NULL;

      n = g_socket_receive (socket, buffer, sizeof buffer, NULL, &error);
      if (n > 0)
        {
          staller->answered = TRUE;
          continue;
        }
      if (n < 0 && g_error_matches (error, G_IO_ERROR, G_IO_ERROR_WOULD_BLOCK))
        return G_SOURCE_CONTINUE;
      break;
    }

  staller->gone = TRUE;
  g_clear_pointer (&staller->source, g_source_unref);
  return G_SOURCE_REMOVE;
}

static Staller *
staller_new (guint16     port,
             const char *source,
             GBytes     *payload,
             guint      *n_connected)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, port);
  g_autoptr(GSocketAddress) from = g_inet_socket_address_new_from_string (source, 0);
  g_autoptr(GError) error = NULL;
  Staller *staller = g_new0 (Staller, 1);

  staller->socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                  G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_assert_true (g_socket_bind (staller->socket, from, FALSE, &error));
  g_assert_no_error (error);
  g_socket_set_blocking (staller->socket, FALSE);
  if (!g_socket_connect (staller->socket, address, NULL, &error))
    g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PENDING);
  staller->payload = payload != NULL ? g_bytes_ref (payload) : NULL;
  staller->n_connected = n_connected;
  staller_watch (staller, G_IO_OUT);
  return staller;
}

static void
staller_free (Staller *staller)
{
  if (staller->source != NULL)
    {
      g_source_destroy (staller->source);
      g_source_unref (staller->source);
    }
  g_socket_close (staller->socket, NULL);
  g_object_unref (staller->socket);
  g_clear_pointer (&staller->payload, g_bytes_unref);
  g_free (staller);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Staller, staller_free)

static guint
count_gone (GPtrArray *stallers)
{
  guint n = 0;

  for (guint i = 0; i < stallers->len; i++)
    if (((Staller *) g_ptr_array_index (stallers, i))->gone)
      n++;
  return n;
}

/* Opens @n stallers from @n_addresses addresses starting at 127.0.0.@first,
 * in batches so that the accept queue takes them, and waits until all
 * connected. */
static void
open_stallers (GPtrArray *stallers,
               guint16    port,
               GBytes    *payload,
               guint      n,
               guint      first,
               guint      n_addresses,
               guint     *n_connected)
{
  guint start = stallers->len;

  while (stallers->len < start + n)
    {
      for (guint i = 0; i < 200 && stallers->len < start + n; i++)
        {
          guint index = stallers->len - start;
          g_autofree char *source = g_strdup_printf ("127.0.0.%u", first + index % n_addresses);

          g_ptr_array_add (stallers, staller_new (port, source, payload, n_connected));
        }
      gc_test_wait_ms (*n_connected >= stallers->len - MIN (stallers->len, 50),
                       6 * GC_TEST_TIMEOUT_MS);
    }
  gc_test_wait_ms (*n_connected == stallers->len, 6 * GC_TEST_TIMEOUT_MS);
}

/* Skips the test unless this process may hold @n descriptors. */
static gboolean have_fds (rlim_t n);

static gboolean
have_fds (rlim_t n)
{
  rlim_t limit = raise_fd_limit ();

  if (limit >= n)
    return TRUE;
  g_test_skip_printf ("needs %lu file descriptors, has %lu", (unsigned long) n,
                      (unsigned long) limit);
  return FALSE;
}

/* Gives @server the test certificate; returns the CA that trusts it. */
static GTlsDatabase *
load_tls (GcServer *server)
{
  g_autoptr(GTlsCertificate) certificate = gc_test_tls_certificate ();
  g_autoptr(GError) error = NULL;

  g_assert_true (gc_server_set_tls_certificate (server, certificate, &error));
  g_assert_no_error (error);
  return gc_test_tls_ca ();
}

#define N_TLS_STALLERS 1000
#define N_TLS_STALLER_ADDRESSES 40

/* Issue 14.2: 1000 clients from 40 addresses send a ClientHello and then
 * nothing. An honest wss:// join took 9 s: few TLS handshakes run at
 * once, and ties between addresses went first come first served. Now
 * places go first to addresses that run and stalled fewest, and one that
 * ran half a second makes room: the honest join takes under a second. */
static void
test_flood_stalled_tls (void)
{
  g_autoptr(GcTestServer) ts = NULL;
  g_autoptr(GTlsDatabase) ca = NULL;
  g_autoptr(GPtrArray) stallers = g_ptr_array_new_with_free_func ((GDestroyNotify) staller_free);
  g_autoptr(GBytes) hello = NULL;
  GcServerConfig config;
  guint n_connected = 0;

  if (!have_fds (2 * N_TLS_STALLERS + 500))
    return;

  gc_test_server_config_init (&config);
  /* Far beyond the test: the stalled handshakes are not simply timed out. */
  config.handshake_timeout_seconds = 120;
  ts = gc_test_server_new (&config);
  ca = load_tls (ts->server);
  hello = gc_test_tls_client_hello ();

  open_stallers (stallers, ts->port, hello, N_TLS_STALLERS, 2, N_TLS_STALLER_ADDRESSES,
                 &n_connected);
  /* All of them are in, but for the stalled ones the server closed to
   * make room for others (from half a second on). */
  gc_test_wait (gc_server_get_n_handshakes (ts->server) + count_gone (stallers) ==
                N_TLS_STALLERS);

  for (guint round = 0; round < 3; round++)
    {
      g_autoptr(GcTestClient) client = NULL;
      g_autofree char *name = g_strdup_printf ("honest%u", round);
      g_autofree char *url = gc_test_join_url ("wss", "127.0.0.1", ts->port, "secure", name, NULL);
      GcTestJoinOptions options = { .tls_database = ca };
      gint64 start_us = g_get_monotonic_time ();
      gint64 took_ms;

      client = gc_test_client_new_for_url (url, &options);
      gc_test_client_wait_welcome (client);
      took_ms = (g_get_monotonic_time () - start_us) / 1000;
      g_test_message ("honest wss:// join %u under %u stalled ClientHellos from %u addresses: "
                      "%" G_GINT64_FORMAT " ms (%u handshakes in progress)",
                      round, N_TLS_STALLERS, N_TLS_STALLER_ADDRESSES, took_ms,
                      gc_server_get_n_handshakes (ts->server));
      /* It got in (before, it waited behind the stallers: 9 s, or the
       * test's timeout). The issue asks for under a second, and it takes
       * a few hundred ms here; the bound is looser and scaled for loaded
       * and sanitizer runs. */
      g_assert_true (client->welcome != NULL && !client->closed);
      g_assert_cmpint (took_ms, <, gc_test_timeout_ms (5000));
      /* Later rounds meet stallers that have run a while: their age is
       * the stimulus, nothing is awaited. */
      gc_test_run_for_ms (700);
    }

  g_ptr_array_set_size (stallers, 0);
  gc_test_wait (gc_server_get_n_handshakes (ts->server) == 0);
}

#define N_SILENT 3000
#define N_SILENT_ADDRESSES 60
#define N_HONEST 18

/* An honest join from a thread of its own: connect, send the upgrade at
 * once, read the 101 and the welcome (blocking, with generous timeouts). */
typedef struct {
  guint16   port;
  char     *name;
  gboolean  welcomed;
  char     *answer;    /* the start of what came back, for the message */
  gint     *n_done;
} HonestJoin;

/* Whether @data holds @needle; binary data (a frame header may hold
 * NULs, where g_strstr_len() stops). */
static gboolean
bytes_contain (const char *data,
               gsize       len,
               const char *needle)
{
  gsize needle_len = strlen (needle);

  for (gsize i = 0; i + needle_len <= len; i++)
    {
      if (memcmp (data + i, needle, needle_len) == 0)
        return TRUE;
    }
  return FALSE;
}

static gpointer
honest_join_run (gpointer data)
{
  HonestJoin *join = data;
  g_autofree char *path = g_strdup_printf ("/joinRoom?room_code=lobby&user_name=%s", join->name);
  g_autofree char *request = gc_test_upgrade_request (path, NULL, NULL);
  struct timeval timeout = { 60, 0 };
  char answer[65536];
  gsize got = 0;
  gsize sent = 0;
  int fd = blocking_connect ("127.0.0.1", join->port);

  if (fd >= 0)
    {
      setsockopt (fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
      while (sent < strlen (request))
        {
          ssize_t n = send (fd, request + sent, strlen (request) - sent, MSG_NOSIGNAL);

          if (n <= 0)
            break;
          sent += n;
        }
      while (got < sizeof answer &&
             !bytes_contain (answer, got, "\"type\":\"welcome\""))
        {
          ssize_t n = recv (fd, answer + got, sizeof answer - got, 0);

          if (n <= 0)
            break;
          got += n;
        }
      close (fd);
    }

  join->welcomed = got > 0 && g_str_has_prefix (answer, "HTTP/1.1 101") &&
                   bytes_contain (answer, got, "\"type\":\"welcome\"");
  {
    g_autofree char *start = g_strndup (answer, MIN (got, 40));

    join->answer = g_strescape (start, NULL);
  }
  g_atomic_int_inc (join->n_done);

  return NULL;
}

/* Issue 14.5: 3000 connections from 60 addresses that send nothing. The
 * handshake cap (1024) makes room by closing the stalest, and once
 * libsoup had read an honest request its socket looked quiet and was
 * closed too: 4 of 18 honest joins got EOF. A handshake whose request has
 * been read is never closed to make room now.
 *
 * The honest clients join from threads of their own. A connection that
 * has sent nothing since it was accepted is, to the server, a staller
 * like the others, however honest its client: the stalest of them make
 * room. An honest client sends its request as soon as it is connected
 * (a browser does); one started from this test's main loop sent it only
 * when the loop came round, which under load (the loop busy opening and
 * reopening 3000 sockets) was late enough for it to be the stalest, and
 * closed (as it was twice, once under ASan and once in a normal build). */
static void
test_flood_silent (void)
{
  g_autoptr(GcTestServerProcess) server = NULL;
  g_autoptr(GPtrArray) stallers = g_ptr_array_new_with_free_func ((GDestroyNotify) staller_free);
  HonestJoin honest[N_HONEST];
  GThread *threads[N_HONEST];
  gint n_done = 0;
  guint n_connected = 0;
  guint n_welcomed = 0;
  guint n_reconnected = 0;
  GcTestDeadline deadline;
  gint64 start_us;

  if (!have_fds (2 * N_SILENT + 500))
    return;

  /* A gochat-server process, as attacked: its own main loop, its
   * defaults. */
  server = gc_test_server_process_start (NULL);

  /* The flood comes in all at once (the kernel queues what the server
   * has not accepted yet) and honest joins start among it, each after
   * an eighteenth more of it. */
  start_us = g_get_monotonic_time ();
  for (guint i = 0; i < N_HONEST; i++)
    {
      for (guint j = 0; j < N_SILENT / N_HONEST + 1 && stallers->len < N_SILENT; j++)
        {
          g_autofree char *source = g_strdup_printf ("127.0.0.%u",
                                                     50 + stallers->len % N_SILENT_ADDRESSES);

          g_ptr_array_add (stallers, staller_new (server->port, source, NULL, &n_connected));
        }
      honest[i] = (HonestJoin) {
        .port = server->port,
        .name = g_strdup_printf ("honest%u", i),
        .n_done = &n_done,
      };
      threads[i] = g_thread_new ("honest-join", honest_join_run, &honest[i]);
      gc_test_run_for_ms (20);  /* pacing the arrivals, not a wait */
    }
  /* The flood is sustained: whatever the server closes comes back. */
  gc_test_deadline_start (&deadline, 6 * GC_TEST_TIMEOUT_MS);
  while (g_atomic_int_get (&n_done) < N_HONEST)
    {
      for (guint j = 0; j < stallers->len; j++)
        {
          Staller *staller = g_ptr_array_index (stallers, j);

          if (staller->gone)
            {
              g_autofree char *source = g_strdup_printf ("127.0.0.%u",
                                                         50 + j % N_SILENT_ADDRESSES);

              staller_free (staller);
              stallers->pdata[j] = staller_new (server->port, source, NULL, &n_connected);
              n_reconnected++;
            }
        }
      gc_test_deadline_iterate (&deadline, "honest joins in a silent flood", __FILE__, __LINE__);
    }
  gc_test_deadline_stop (&deadline);

  for (guint i = 0; i < N_HONEST; i++)
    {
      g_thread_join (threads[i]);
      if (honest[i].welcomed)
        n_welcomed++;
      else
        g_test_message ("%s was not welcomed: \"%s\"", honest[i].name, honest[i].answer);
    }
  g_test_message ("%u of %u honest joins during a flood of %u silent connections from %u "
                  "addresses (%u more as the server closed them), in %" G_GINT64_FORMAT " ms",
                  n_welcomed, N_HONEST, N_SILENT, N_SILENT_ADDRESSES, n_reconnected,
                  (g_get_monotonic_time () - start_us) / 1000);
  g_assert_cmpuint (n_welcomed, ==, N_HONEST);

  for (guint i = 0; i < N_HONEST; i++)
    {
      g_free (honest[i].name);
      g_free (honest[i].answer);
    }
}

#define N_DRIPPERS 12
#define N_STALE_FLOOD 20
#define N_EVICTIONS 10

static gboolean
on_drip (gpointer user_data)
{
  GPtrArray *drippers = user_data;

  for (guint i = 0; i < drippers->len; i++)
    {
      Staller *dripper = g_ptr_array_index (drippers, i);

      if (dripper->connected && !dripper->gone)
        g_socket_send (dripper->socket, "a", 1, NULL, NULL);
    }

  return G_SOURCE_CONTINUE;
}

/* The flaky /flood/silent, made deterministic: the honest clients share
 * one address, which then has the most handshakes in progress (here 12
 * that keep sending their heads), and one of them is slow to send its
 * request. The server must make room; the silent connections from other
 * addresses are staler, and each address has more of them: they go,
 * and the slow honest one stays (it used to go first, its address
 * having the most in progress). */
static void
test_flood_slow_honest (void)
{
  g_autoptr(GcTestServer) ts = NULL;
  g_autoptr(GPtrArray) drippers = g_ptr_array_new_with_free_func ((GDestroyNotify) staller_free);
  g_autoptr(GPtrArray) flood = g_ptr_array_new_with_free_func ((GDestroyNotify) staller_free);
  g_autoptr(GPtrArray) more = g_ptr_array_new_with_free_func ((GDestroyNotify) staller_free);
  g_autoptr(GBytes) head_start = g_bytes_new_static ("GET /healthz HTTP/1.1\r\nX-Drip: ", 31);
  g_autoptr(GSource) drip = NULL;
  g_autoptr(Staller) slow = NULL;
  GcServerConfig config;
  guint n_flood = 0;
  guint n_drippers = 0;
  guint n_more = 0;
  guint n_slow = 0;

  gc_test_server_config_init (&config);
  config.max_handshakes = N_DRIPPERS + N_STALE_FLOOD + 2;
  ts = gc_test_server_new (&config);

  drip = g_timeout_source_new (20);
  g_source_set_callback (drip, on_drip, drippers, NULL);
  g_source_attach (drip, NULL);

  open_stallers (flood, ts->port, NULL, N_STALE_FLOOD, 50, N_STALE_FLOOD / 2, &n_flood);
  open_stallers (drippers, ts->port, head_start, N_DRIPPERS, 1, 1, &n_drippers);
  slow = staller_new (ts->port, "127.0.0.1", NULL, &n_slow);
  gc_test_wait (n_slow == 1 &&
                gc_server_get_n_handshakes (ts->server) == flood->len + drippers->len + 1);

  /* Both the flood and the slow one are stale now (silent 250 ms): time
   * is the stimulus. */
  gc_test_run_for_ms (300);
  open_stallers (more, ts->port, NULL, N_EVICTIONS + 1, 70, N_EVICTIONS + 1, &n_more);
  gc_test_wait (count_gone (flood) >= N_EVICTIONS);

  g_assert_false (slow->gone);
  g_assert_cmpuint (count_gone (drippers), ==, 0);

  /* And its request, when it comes, is answered. */
  g_socket_send (slow->socket, "GET /healthz HTTP/1.1\r\n\r\n", 25, NULL, NULL);
  gc_test_wait (slow->answered || slow->gone);
  g_assert_true (slow->answered);

  g_source_destroy (drip);
}

/* ------------------------------------------------------------------ */
/* A low descriptor limit (issue 14.4)                                  */
/* ------------------------------------------------------------------ */

#define N_LOW_LIMIT_CLIENTS 900
#define LOW_LIMIT_ROOM_SIZE 100

/* Under `ulimit -n 1024` the connection cap was 1024 - 64 - 1024,
 * raised to 16: the 17th join got 503. The descriptors are shared
 * between handshakes and connections now: 900 clients join. */
static void
test_low_fd_limit (void)
{
  g_autoptr(GcTestServerProcess) server = NULL;
  g_autoptr(GPtrArray) clients = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_test_client_free);
  g_autoptr(GcTestHttpResponse) metrics = NULL;
  static const char * const args[] = { "--join-per-second=0", NULL };

  if (!have_fds (N_LOW_LIMIT_CLIENTS + 500))
    return;

  server = gc_test_server_process_start_full (args, &(GcTestServerProcessOptions) {
                                                 .fd_limit = 1024 });
  for (guint i = 0; i < N_LOW_LIMIT_CLIENTS; i++)
    {
      g_autofree char *room = g_strdup_printf ("room%u", i / LOW_LIMIT_ROOM_SIZE);
      g_autofree char *name = g_strdup_printf ("user%u", i);

      g_ptr_array_add (clients, gc_test_client_join (server->port, room, name));
    }

  metrics = gc_test_http_get ("127.0.0.1", server->port, NULL, "/metrics");
  g_assert_cmpuint (metrics->status, ==, 200);
  g_assert_nonnull (strstr (metrics->body_text, "\ngochat_connections 900\n"));
  g_test_message ("%u clients joined a server limited to 1024 descriptors",
                  N_LOW_LIMIT_CLIENTS);
}


/* ------------------------------------------------------------------ */
/* A stalled server and an honest sender (issue 14.3)                   */
/* ------------------------------------------------------------------ */

#define STALL_SECONDS 10

/* Whether any event queued for @client is a leave for flooding. */
static gboolean
has_flood_leave (GcTestClient *client)
{
  for (GList *l = client->events.head; l != NULL; l = l->next)
    {
      GcTestEvent *event = l->data;

      if (event->event->type == GC_EVENT_LEAVE &&
          event->event->leave.reason == GC_LEAVE_REASON_FLOOD)
        return TRUE;
    }
  return FALSE;
}

/* A client sends 1 message a second, under the limit of 2; the server
 * stops (SIGSTOP) for STALL_SECONDS and then reads them all at once.
 * The bucket (3) refuses what exceeds it with rate_limited, but the
 * refusals were no flood: the client had sent nothing faster than
 * allowed, and before it could see any refusal. It was closed with 1008
 * and announced as `flood` (with the defaults, after a 30 s stall; these
 * smaller limits show the same with 10 s). */
static void
test_stall_no_flood (void)
{
  g_autoptr(GcTestServerProcess) server = NULL;
  g_autoptr(GcTestClient) sender = NULL;
  g_autoptr(GcTestClient) observer = NULL;
  GPid pid;
  guint n_sent = 0;
  guint n_refused;
  guint n_delivered;

  server = gc_test_server_process_start ("--rate-burst=3", "--rate-per-second=2", NULL);
  pid = (GPid) g_ascii_strtoll (g_subprocess_get_identifier (server->process), NULL, 10);
  sender = gc_test_client_join (server->port, "lobby", "sender");
  observer = gc_test_client_join (server->port, "lobby", "observer");

  for (guint second = 0; second < 2 + STALL_SECONDS + 4; second++)
    {
      g_autofree char *text = g_strdup_printf ("tick %u", second);

      if (second == 2)
        g_assert_cmpint (kill (pid, SIGSTOP), ==, 0);
      if (second == 2 + STALL_SECONDS)
        g_assert_cmpint (kill (pid, SIGCONT), ==, 0);
      gc_test_client_send_message (sender, text, NULL);
      n_sent++;
      gc_test_run_for_ms (1000);  /* one a second through the stall: time is the stimulus */
      g_assert_false (sender->closed);
    }
  /* The last one is through: everything before it was answered. */
  gc_test_wait (observer->closed || sender->closed ||
                gc_test_client_count_queued (observer, GC_EVENT_MESSAGE) +
                gc_test_client_count_queued (sender, GC_EVENT_ERROR) >= n_sent);

  n_refused = gc_test_client_count_queued (sender, GC_EVENT_ERROR);
  n_delivered = gc_test_client_count_queued (observer, GC_EVENT_MESSAGE);
  g_test_message ("%u messages at 1/s across a %u s stall: %u delivered, %u refused "
                  "(rate_limited), sender %s", n_sent, STALL_SECONDS, n_delivered, n_refused,
                  sender->closed ? "closed" : "still connected");
  g_assert_false (sender->closed);
  g_assert_false (observer->closed);
  g_assert_false (has_flood_leave (observer));
  g_assert_cmpuint (gc_test_client_count_queued (observer, GC_EVENT_LEAVE), ==, 0);
  /* What exceeded the bucket was refused, not dropped silently. */
  g_assert_cmpuint (n_refused, >, 0);
  g_assert_cmpuint (n_delivered + n_refused, ==, n_sent);
  while (gc_test_client_count_queued (sender, GC_EVENT_ERROR) > 0)
    {
      g_autoptr(GcTestEvent) error = gc_test_client_wait_error (sender, "rate_limited");
    }
}


/* ------------------------------------------------------------------ */
/* The request-head checks alone, and a stage's idleness                */
/* ------------------------------------------------------------------ */

/* gc_request_head_check() on whole and partial heads. */
static void
test_request_head_table (void)
{
  static const struct {
    const char          *head;
    GcRequestHeadResult  result;
    guint                status;
  } cases[] = {
    { "GET / HTTP/1.1\r\nHost: x\r\n\r\n", GC_REQUEST_HEAD_VALID, 0 },
    { "GET / HTTP/1.0\n\n", GC_REQUEST_HEAD_VALID, 0 },
    { "HEAD /healthz HTTP/1.1\r\nX-A:\r\nX-B: \t v \t\r\nContent-Length: 0\r\n\r\n",
      GC_REQUEST_HEAD_VALID, 0 },
    { "GET / HTTP/1.1\r\nContent-Length: 000\r\nContent-Length: 0\r\n\r\n",
      GC_REQUEST_HEAD_VALID, 0 },
    { "", GC_REQUEST_HEAD_INCOMPLETE, 0 },
    { "GET /joinRoom?room_co", GC_REQUEST_HEAD_INCOMPLETE, 0 },
    { "GET / HTTP/1.1\r\nHost: x\r\n", GC_REQUEST_HEAD_INCOMPLETE, 0 },
    { "GET / HTTP/1.1\r\nNo colon\r\n", GC_REQUEST_HEAD_REFUSED, 400 },  /* before the end */
    { "\r\n", GC_REQUEST_HEAD_REFUSED, 400 },
    { "GET /\tx HTTP/1.1\r\n\r\n", GC_REQUEST_HEAD_REFUSED, 400 },
    { "G(T / HTTP/1.1\r\n\r\n", GC_REQUEST_HEAD_REFUSED, 400 },
    { "GET / HTTP/1.1 \r\n\r\n", GC_REQUEST_HEAD_REFUSED, 400 },
    { "GET / HTTP/11\r\n\r\n", GC_REQUEST_HEAD_REFUSED, 400 },
    { "GET / HTTP/2.0\r\n\r\n", GC_REQUEST_HEAD_REFUSED, 505 },
    { "GET / HTTP/1.1\r\nX\r:y\r\n\r\n", GC_REQUEST_HEAD_REFUSED, 400 },
    { "GET / HTTP/1.1\r\nX: a\rb\r\n\r\n", GC_REQUEST_HEAD_REFUSED, 400 },
    { "GET / HTTP/1.1\r\nTRANSFER-ENCODING: chunked\r\n\r\n", GC_REQUEST_HEAD_REFUSED, 400 },
    { "GET / HTTP/1.1\r\nContent-Length: 1\r\n\r\n", GC_REQUEST_HEAD_REFUSED, 400 },
    { "GET / HTTP/1.1\r\nContent-Length: 9999999999999999999\r\n\r\n",
      GC_REQUEST_HEAD_REFUSED, 400 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize head_len = 0;
      guint status = 0;
      const char *reason = NULL;
      gboolean is_head = FALSE;
      GcRequestHeadResult result;

      result = gc_request_head_check (cases[i].head, strlen (cases[i].head), &head_len,
                                      &status, &reason, &is_head);
      g_test_message ("%u: %s", i, cases[i].head);
      g_assert_cmpint (result, ==, cases[i].result);
      if (result == GC_REQUEST_HEAD_VALID)
        g_assert_cmpuint (head_len, ==, strlen (cases[i].head));
      if (result == GC_REQUEST_HEAD_REFUSED)
        {
          g_assert_cmpuint (status, ==, cases[i].status);
          g_assert_nonnull (reason);
        }
    }

  /* A head followed by the first frame: only the head is the head. */
  {
    const char *data = "GET / HTTP/1.1\r\n\r\n\x81\x85";
    gsize head_len = 0;
    guint status = 0;
    const char *reason = NULL;
    gboolean is_head = FALSE;

    g_assert_cmpint (gc_request_head_check (data, strlen (data), &head_len, &status, &reason,
                                            &is_head), ==, GC_REQUEST_HEAD_VALID);
    g_assert_cmpuint (head_len, ==, strlen ("GET / HTTP/1.1\r\n\r\n"));
  }
}

/* A connection that sends nothing is closed after 5 s without a byte,
 * whatever the handshake deadline (a minute here): time to the first
 * byte is bounded per stage. */
static void
test_stage_idle (void)
{
  g_autoptr(GcTestServer) ts = NULL;
  g_autoptr(GPtrArray) stallers = g_ptr_array_new_with_free_func ((GDestroyNotify) staller_free);
  GcServerConfig config;
  guint n_connected = 0;
  gint64 start_us;
  gint64 lasted_ms;

  gc_test_server_config_init (&config);
  config.handshake_timeout_seconds = 60;
  ts = gc_test_server_new (&config);

  start_us = g_get_monotonic_time ();
  g_ptr_array_add (stallers, staller_new (ts->port, "127.0.0.1", NULL, &n_connected));
  gc_test_wait (n_connected == 1 && gc_server_get_n_handshakes (ts->server) == 1);
  gc_test_wait_ms (((Staller *) g_ptr_array_index (stallers, 0))->gone, 30000);
  lasted_ms = (g_get_monotonic_time () - start_us) / 1000;
  g_test_message ("a silent connection lasted %" G_GINT64_FORMAT " ms", lasted_ms);
  g_assert_cmpint (lasted_ms, >=, 4900);
  g_assert_false (((Staller *) g_ptr_array_index (stallers, 0))->answered);
  gc_test_wait (gc_server_get_n_handshakes (ts->server) == 0);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  signal (SIGPIPE, SIG_IGN);
  raise_fd_limit ();

  g_test_add_func ("/server/hardening/leak/transfer-encoding", test_leak_transfer_encoding);
  g_test_add_func ("/server/hardening/http/too-long", test_http_too_long);
  g_test_add_func ("/server/hardening/http/bad-content-length", test_http_bad_content_length);
  g_test_add_func ("/server/hardening/http/header-syntax", test_http_header_syntax);
  g_test_add_func ("/server/hardening/http/tls", test_http_tls);
  g_test_add_func ("/server/hardening/http/request-head-table", test_request_head_table);
  g_test_add_func ("/server/hardening/stage-idle", test_stage_idle);
  g_test_add_func ("/server/hardening/flood/stalled-tls", test_flood_stalled_tls);
  g_test_add_func ("/server/hardening/flood/silent", test_flood_silent);
  g_test_add_func ("/server/hardening/flood/slow-honest", test_flood_slow_honest);
  g_test_add_func ("/server/hardening/fd-limit/1024", test_low_fd_limit);
  g_test_add_func ("/server/hardening/rate/stall-is-no-flood", test_stall_no_flood);

  return gc_test_run ();
}
