/* gc-test-server.h: the one way the tests start a GoChat server, in this process or as one
 *
 * In process: a GcServer on 127.0.0.1 (a port the system picks, or a
 * given one to restart on), in the thread-default main context, which the
 * test spins with gc_test_wait(); its clients run in the same context.
 * As a fixture, one server per test, with the test defaults changed by a
 * function given at registration:
 *
 *   static void
 *   small_rooms (GcServerConfig *config)
 *   {
 *     config->room_max_members = 2;
 *   }
 *
 *   static void
 *   test_room_full (GcTestServer  *ts,
 *                   gconstpointer  data)
 *   {
 *     g_autoptr(GcTestClient) ann = gc_test_client_join (ts->port, "lobby", "ann");
 *     …
 *   }
 *
 *   gc_test_add_server ("/server/refusal/room-full", small_rooms, test_room_full);
 *
 * or by hand: g_autoptr(GcTestServer) ts = gc_test_server_new (&config).
 * Stopping shuts the server down gracefully (unless the test did) and
 * asserts it leaves no room, no connection and no reference behind.
 *
 * In Redis mode (GC_TEST_REDIS=1 in the environment, as the redis
 * suite's second registration of the protocol suites sets it; only in
 * builds with hiredis) every in-process server is a single node run as
 * `gochat-server --redis` is (docs/protocol.md §6.7): one redis-server per
 * test program (tests/lib/gc-test-redis.h), emptied before each server
 * starts, so that each test begins as on a fresh server. A test that
 * cannot hold there by design (a per-node rule of §6.7) says why with
 * gc_test_server_skip_if_redis().
 *
 * As a process: gochat-server (the one this build made) on 127.0.0.1,
 * port 0, with the extra arguments given; started once it printed its
 * "listening on ADDRESS:PORT" line, its stderr kept in @log. It gets
 * SIGTERM if the test process dies.
 *
 *   g_autoptr(GcTestServerProcess) server = gc_test_server_process_start ("--history=5", NULL);
 *   …
 *   gc_test_server_process_stop (server, SIGTERM, GC_TEST_TIMEOUT_MS);
 *   g_assert_cmpint (g_subprocess_get_exit_status (server->process), ==, 0);
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gc-server.h"

#include "gc-test-client.h"
#include "gc-test-http.h"
#include "gc-test-threads.h"
#include "gc-test-tls.h"
#include "gc-test-wait.h"

G_BEGIN_DECLS

/* ------------------------------------------------------------------ */
/* In process                                                           */
/* ------------------------------------------------------------------ */

typedef struct {
  GcServer       *server;
  guint16         port;
  char           *url;      /* "ws://127.0.0.1:PORT", or wss:// */
  GcServerConfig  config;   /* what it runs with */
  gboolean        tls;
  GObject        *redis;    /* Redis mode: its GcRedisRooms; else NULL */
} GcTestServer;

typedef struct {
  const GcServerConfig *config;  /* NULL: gc_test_server_config_init()'s */
  guint16               port;    /* 0: one the system picks */
  gboolean              tls;     /* wss:// with the test certificate */
} GcTestServerOptions;

/* The server's defaults, except the per-address join limit (0, off):
 * every test client joins from 127.0.0.1. */
void          gc_test_server_config_init (GcServerConfig            *config);

GcTestServer *gc_test_server_new_full    (const GcTestServerOptions *options);
/* A plain ws:// server with @config (NULL: the test defaults). */
GcTestServer *gc_test_server_new         (const GcServerConfig      *config);
/* Shuts it down (see above); gc_test_server_start() may start it again,
 * e.g. on the same port. Does nothing if it is stopped. */
void          gc_test_server_stop        (GcTestServer              *ts);
void          gc_test_server_start       (GcTestServer              *ts,
                                          const GcTestServerOptions *options);
/* Starts the server's graceful shutdown, for tests of the shutdown
 * itself; *@done becomes %TRUE when it finished (asserted successful).
 * Stopping afterwards only checks what is left. */
void          gc_test_server_begin_shutdown (GcTestServer           *ts,
                                             gboolean               *done);
void          gc_test_server_free        (GcTestServer              *ts);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcTestServer, gc_test_server_free)

/* Whether in-process servers run with Redis (see above). */
gboolean      gc_test_server_redis_mode  (void);
/* In Redis mode: skips the test with @reason (g_test_skip) and returns
 * %TRUE; the test then returns at once. Otherwise %FALSE. */
gboolean      gc_test_server_skip_if_redis (const char              *reason);

/* Changes the test defaults before a fixture's server starts. */
typedef void (*GcTestServerConfigure) (GcServerConfig *config);

/* The fixture functions: @configure is a GcTestServerConfigure or NULL. */
void          gc_test_server_setup       (GcTestServer              *ts,
                                          gconstpointer              configure);
void          gc_test_server_teardown    (GcTestServer              *ts,
                                          gconstpointer              configure);

/* Registers @test (void (*) (GcTestServer *, gconstpointer)) to run on a
 * server configured by @configure (NULL: the test defaults). */
#define gc_test_add_server(path, configure, test)                             \
  g_test_add ((path), GcTestServer, (gconstpointer) (configure),              \
              gc_test_server_setup, (test), gc_test_server_teardown)

/* ------------------------------------------------------------------ */
/* As a process                                                         */
/* ------------------------------------------------------------------ */

typedef struct {
  GSubprocess      *process;
  GDataInputStream *stderr_lines;
  GCancellable     *cancellable;
  GString          *log;          /* everything it wrote to stderr */
  guint             n_listening;  /* "listening on" lines seen */
  guint16           port;         /* from the first of them */
  gboolean          stderr_done;
  gboolean          exited;
} GcTestServerProcess;

typedef enum {
  GC_TEST_SERVER_PROCESS_DEFAULT   = 0,
  /* G_MESSAGES_DEBUG=all for the server (not for the test process). */
  GC_TEST_SERVER_PROCESS_DEBUG_LOG = 1 << 0,
} GcTestServerProcessFlags;

typedef struct {
  GcTestServerProcessFlags flags;
  /* RLIMIT_NOFILE for the server, soft and hard (the hard one no higher
   * than ours), as `ulimit -n` sets them; 0: inherited. */
  guint                    fd_limit;
} GcTestServerProcessOptions;

/* Starts gochat-server --bind=127.0.0.1 --port=0 @args (NULL-terminated;
 * may be %NULL) and waits for it to listen; fails the test if it exits
 * first. @options may be %NULL. */
GcTestServerProcess *gc_test_server_process_start_full (const char * const               *args,
                                                        const GcTestServerProcessOptions *options);
GcTestServerProcess *gc_test_server_process_startv (const char * const      *args,
                                                    GcTestServerProcessFlags flags);
GcTestServerProcess *gc_test_server_process_start  (const char          *first_arg,
                                                    ...);
GcTestServerProcess *gc_test_server_process_start_flags (GcTestServerProcessFlags flags,
                                                         const char              *first_arg,
                                                         ...);
/* Sends @signal_number and waits (at most @timeout_ms, scaled) for the
 * exit and the end of its stderr. Returns the milliseconds it took. */
gint64               gc_test_server_process_stop   (GcTestServerProcess *server,
                                                    int                  signal_number,
                                                    guint                timeout_ms);
/* Kills it if it still runs. */
void                 gc_test_server_process_free   (GcTestServerProcess *server);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcTestServerProcess, gc_test_server_process_free)

/* Any child program (@argv[0] a path), which gets SIGTERM if the test
 * process dies: a child left behind would run forever. */
GSubprocess         *gc_test_spawn                 (const char * const  *argv,
                                                    GSubprocessFlags     flags);

/* The path of the gochat-server this build made. */
const char          *gc_test_server_program        (void);

G_END_DECLS
