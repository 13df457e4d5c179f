/* gc-bench-run.c: one gochat-bench run — connect, send, match, measure
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <gio/gio.h>

#include "gc-bench-run-private.h"
#include "gc-protocol.h"
#include "gc-ws-random.h"

/* Process limits ------------------------------------------------------------------ */

static gboolean
raise_fd_limit (guint     needed,
                GError  **error)
{
  struct rlimit limit;

  if (getrlimit (RLIMIT_NOFILE, &limit) != 0)
    return TRUE;

  if (limit.rlim_cur < needed && limit.rlim_cur < limit.rlim_max)
    {
      struct rlimit raised = limit;

      raised.rlim_cur = limit.rlim_max == RLIM_INFINITY ? MAX (needed, 1024 * 1024)
                                                        : limit.rlim_max;
      if (setrlimit (RLIMIT_NOFILE, &raised) == 0)
        limit = raised;
    }

  if (limit.rlim_cur < needed)
    {
      g_set_error (error, GC_BENCH_ERROR, GC_BENCH_ERROR_LIMIT,
                   "%u clients need %u file descriptors, but this process may open only %lu "
                   "(its hard limit); raise it with ulimit -Hn, LimitNOFILE= or limits.conf",
                   needed - RESERVED_FDS, needed, (unsigned long) limit.rlim_cur);
      return FALSE;
    }

  return TRUE;
}

static void
on_signal (GcBenchWatch *watch,
           guint32       events)
{
  GcBenchRun *self = (GcBenchRun *) ((char *) watch - G_STRUCT_OFFSET (GcBenchRun, signal_watch));
  struct signalfd_siginfo info;

  while (read (self->signal_fd, &info, sizeof info) == sizeof info)
    self->results.interrupted = TRUE;
}

/* SIGINT and SIGTERM end a run early, with the results so far. */
static gboolean
watch_signals (GcBenchRun  *self,
               GError     **error)
{
  sigset_t mask;

  sigemptyset (&mask);
  sigaddset (&mask, SIGINT);
  sigaddset (&mask, SIGTERM);
  if (sigprocmask (SIG_BLOCK, &mask, &self->saved_mask) != 0)
    {
      g_set_error (error, GC_BENCH_ERROR, GC_BENCH_ERROR_FAILED, "sigprocmask: %s",
                   g_strerror (errno));
      return FALSE;
    }

  self->signal_fd = signalfd (-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
  if (self->signal_fd < 0)
    {
      g_set_error (error, GC_BENCH_ERROR, GC_BENCH_ERROR_FAILED, "signalfd: %s",
                   g_strerror (errno));
      return FALSE;
    }

  gc_bench_watch_init (&self->signal_watch, on_signal);
  return gc_bench_loop_add (self->loop, &self->signal_watch, self->signal_fd, EPOLLIN, error);
}

/* Server samples --------------------------------------------------------------------- */

static GcBenchProcSample *
process_sample (GcBenchProcess *process,
                SamplePoint     point)
{
  switch (point)
    {
    case SAMPLE_START:
      return &process->start;
    case SAMPLE_CONNECTED:
      return &process->connected;
    case SAMPLE_END:
    default:
      return &process->end;
    }
}

/* A process that died (or was killed) keeps its sample before: the
 * report then shows what was sampled. */
static void
sample_process (GcBenchProcess *process,
                SamplePoint     point,
                const char     *option,
                gboolean        quiet)
{
  g_autoptr(GError) error = NULL;
  GcBenchProcSample sample;

  if (gc_bench_proc_sample (process->pid, &sample, &error))
    {
      *process_sample (process, point) = sample;
      return;
    }

  if (!quiet)
    g_printerr ("gochat-bench: %s %d: %s\n", option, process->pid, error->message);
  if (point == SAMPLE_CONNECTED)
    process->connected = process->start;
  else if (point == SAMPLE_END && process->end.rss_kb == 0)
    process->end = process->connected;
}

void
gc_bench_run_sample_processes (GcBenchRun  *self,
                               SamplePoint  point)
{
  for (guint i = 0; i < self->results.n_nodes; i++)
    {
      gboolean killed = self->results.killed && self->results.killed_pid == self->results.nodes[i].pid;

      /* The killed node's end is its sample just before the kill. */
      if (killed && point == SAMPLE_END)
        continue;
      sample_process (&self->results.nodes[i], point, "--server-pid", killed);
    }
  if (self->results.has_redis)
    sample_process (&self->results.redis, point, "--redis-pid", FALSE);

  if (self->results.has_server)
    {
      self->results.server_start = self->results.nodes[0].start;
      self->results.server_connected = self->results.nodes[0].connected;
      self->results.server_end = self->results.nodes[0].end;
    }
}

/* The node of the last URL: its clients are marked first, so that their
 * disconnections are told from failures. */
void
gc_bench_run_kill_node (GcBenchRun *self)
{
  guint node = self->options.n_urls - 1;
  GcBenchProcess *process = &self->results.nodes[node];

  self->kill_at_ns = 0;
  for (guint i = 0; i < self->options.clients; i++)
    {
      if (self->clients[i].node == node)
        self->clients[i].killed = TRUE;
    }

  sample_process (process, SAMPLE_END, "--server-pid", FALSE);
  self->results.killed = TRUE;
  self->results.killed_pid = process->pid;
  self->results.kill_seconds = (double) (gc_bench_now_ns () - self->phase_start_ns) / NS_PER_SECOND;
  if (kill (process->pid, SIGKILL) != 0)
    g_printerr ("gochat-bench: kill %d: %s\n", process->pid, g_strerror (errno));
  else if (self->options.progress)
    {
      gc_bench_run_progress_end (self);
      g_printerr ("gochat-bench: killed node %u (pid %d) %.1f s into the messages\n", node,
                  process->pid, self->results.kill_seconds);
    }
}


/* Progress ----------------------------------------------------------------------------- */

static void
progress_line (GcBenchRun *self,
               gint64      now)
{
  double elapsed = (double) (now - self->phase_start_ns) / NS_PER_SECOND;

  if (!self->options.progress)
    return;

  if (self->phase == PHASE_CONNECT)
    g_printerr ("%sconnecting: %u of %u joined (%.1f s)%s", self->progress_tty ? "\r\033[K" : "",
                self->results.joined, self->options.clients, elapsed,
                self->progress_tty ? "" : "\n");
  else if (self->phase == PHASE_MESSAGES)
    g_printerr ("%smessages: %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " sent, %"
                G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " delivered (%.1f s)%s",
                self->progress_tty ? "\r\033[K" : "",
                self->results.sent, (guint64) self->options.clients * self->options.messages,
                self->results.delivered, self->results.expected, elapsed,
                self->progress_tty ? "" : "\n");
  self->progress_shown = TRUE;
}

void
gc_bench_run_progress_tick (GcBenchRun *self,
                            gint64      now)
{
  if (now < self->next_progress_ns)
    return;

  self->next_progress_ns = now + PROGRESS_INTERVAL_NS;
  progress_line (self, now);
}

void
gc_bench_run_progress_end (GcBenchRun *self)
{
  if (self->progress_shown && self->progress_tty)
    g_printerr ("\r\033[K");
  self->progress_shown = FALSE;
}

void
gc_bench_run_phase_begin (GcBenchRun *self,
                          Phase       phase)
{
  gint64 now = gc_bench_now_ns ();

  self->phase = phase;
  self->phase_start_ns = now;
  self->last_activity_ns = now;
  /* Short runs print nothing. */
  self->next_progress_ns = now + PROGRESS_INTERVAL_NS;
}

/* Connections ----------------------------------------------------------------------------------- */

static void
client_joined (GcBenchRun *self,
               Client     *client)
{
  gint64 now = gc_bench_now_ns ();

  if (client->joined)
    return;

  client->joined = TRUE;
  self->connecting--;
  self->results.joined++;
  self->last_activity_ns = now;
  gc_bench_histogram_record (self->results.connect_time, now - client->connect_start_ns);
}

static void
on_client_opened (GcBenchConnection *connection,
                  gpointer           user_data)
{
  Client *client = user_data;

  /* gochat members are in once their welcome arrives. */
  if (client->run->options.protocol == GC_BENCH_PROTOCOL_RELAY)
    client_joined (client->run, client);
}

static const char *refusal_hint (guint http_status);

/* The HTTP status of a `refused` event's code (docs/protocol.md §3.6),
 * read by the protocol module. */
static guint
refusal_status (const char *text,
                gsize       len)
{
  g_autoptr(GcRefusal) refusal = gc_refusal_parse (text, len, NULL);

  return gc_protocol_error_http_status (refusal != NULL ? refusal->error
                                                        : GC_PROTOCOL_ERROR_FAILED);
}

/* A join refused after the upgrade, with a `refused` event (what
 * gochat-server does for requests that are valid upgrades): reported as
 * an HTTP refusal is. */
static void
client_refused_in_band (GcBenchRun *self,
                        Client     *client,
                        const char *text,
                        gsize       len)
{
  g_autofree char *event = g_utf8_make_valid (text, MIN (len, 512));
  guint status = refusal_status (text, len);
  const char *hint = refusal_hint (status);

  if (client->joined || client->failed)
    return;

  client->failed = TRUE;
  self->connecting--;
  if (self->error == NULL)
    self->error = g_error_new (GC_BENCH_ERROR, GC_BENCH_ERROR_REFUSED,
                               "client %u (of %u) could not join: HTTP %u after the upgrade: %s%s%s",
                               client->index, self->options.clients, status, event,
                               hint != NULL ? "\n  " : "", hint != NULL ? hint : "");
}

static void
on_client_message (GcBenchConnection *connection,
                   const char        *text,
                   gsize              len,
                   gint64             received_ns,
                   gpointer           user_data)
{
  Client *client = user_data;
  GcBenchRun *self = client->run;
  GcBenchMarker marker;
  guint64 id = 0;

  if (self->options.protocol == GC_BENCH_PROTOCOL_GOCHAT)
    {
      GcBenchEvent event;

      if (!gc_bench_event_scan (text, len, &event))
        {
          self->results.foreign++;
          return;
        }

      switch (event.type)
        {
        case GC_BENCH_EVENT_WELCOME:
          client_joined (self, client);
          return;
        case GC_BENCH_EVENT_ERROR:
          gc_bench_run_handle_error_event (self, client, &event);
          return;
        case GC_BENCH_EVENT_REFUSED:
          client_refused_in_band (self, client, text, len);
          return;
        case GC_BENCH_EVENT_JOIN:
          self->results.join_events++;
          self->last_activity_ns = received_ns;
          return;
        case GC_BENCH_EVENT_MESSAGE:
          if (event.text == NULL || !gc_bench_text_parse (event.text, event.text_len, &marker))
            {
              self->results.foreign++;
              return;
            }
          id = event.id;
          break;
        case GC_BENCH_EVENT_OTHER:
        default:
          return;
        }
    }
  else if (!gc_bench_text_parse (text, len, &marker))
    {
      self->results.foreign++;
      return;
    }

  gc_bench_run_handle_delivery (self, client, &marker, id, received_ns);
}

/* How to run the server so that the bench is not refused. */
static const char *
refusal_hint (guint http_status)
{
  switch (http_status)
    {
    case 429:
      return "gochat-server limits joins per address: run it with --join-per-second=0 "
             "for benchmarks";
    case 503:
      return "the server is at its connection limit: raise gochat-server --max-connections "
             "(and its file-descriptor limit)";
    case 403:
      return "if the room is full, raise gochat-server --room-max-members";
    case 404:
      return "wrong --protocol? gochat servers answer /joinRoom, relays any path";
    default:
      return NULL;
    }
}

static void
on_client_failed (GcBenchConnection *connection,
                  const GError      *error,
                  gpointer           user_data)
{
  Client *client = user_data;
  GcBenchRun *self = client->run;

  /* Refused after the upgrade: reported already. */
  if (client->failed)
    return;

  client->failed = TRUE;

  if (client->joined)
    {
      /* Its messages in flight will never be echoed to it. */
      self->in_flight -= client->in_flight;
      client->in_flight = 0;
      if (client->killed)
        {
          self->results.killed_clients++;
          return;
        }
      self->results.disconnected++;
      if (self->results.disconnected == 1 && self->phase != PHASE_IDLE)
        {
          gc_bench_run_progress_end (self);
          g_printerr ("gochat-bench: client %u was disconnected: %s\n", client->index,
                      error->message);
        }
      return;
    }

  self->connecting--;
  if (self->error == NULL)
    {
      guint status = gc_bench_connection_get_http_status (connection);
      const char *hint = g_error_matches (error, GC_BENCH_ERROR, GC_BENCH_ERROR_REFUSED)
                         ? refusal_hint (status) : NULL;

      self->error = g_error_new (error->domain, error->code,
                                 "client %u (of %u) could not join: %s%s%s", client->index,
                                 self->options.clients, error->message,
                                 hint != NULL ? "\n  " : "", hint != NULL ? hint : "");
    }
}

static const GcBenchConnectionCallbacks client_callbacks = {
  .opened = on_client_opened,
  .message = on_client_message,
  .failed = on_client_failed,
};

static gboolean
client_start (GcBenchRun  *self,
              Client      *client,
              GError     **error)
{
  g_autofree char *path = NULL;

  if (self->options.protocol == GC_BENCH_PROTOCOL_GOCHAT)
    {
      g_autofree char *room = g_strdup_printf ("bench-%s-%u", self->run_id, client->room);
      g_autofree char *name = g_strdup_printf ("c%u", client->index);
      GcJoinParams params = { .room_code = room, .user_name = name };

      path = gc_join_build_target (NULL, &params);
    }
  else
    path = g_strdup_printf ("/?room_code=bench-%s-%u", self->run_id, client->room);

  client->connection = gc_bench_connection_new (self->loop, self->targets[client->node], path,
                                                self->options.protocol == GC_BENCH_PROTOCOL_GOCHAT
                                                ? GC_PROTOCOL_SUBPROTOCOL : NULL,
                                                &client_callbacks, client);
  client->connect_start_ns = gc_bench_now_ns ();
  self->connecting++;

  if (!gc_bench_connection_start (client->connection, error))
    {
      g_prefix_error (error, "client %u (of %u): ", client->index, self->options.clients);
      return FALSE;
    }

  return TRUE;
}

/* Life cycle ------------------------------------------------------------------------------------- */

GcBenchRun *
gc_bench_run_new (const GcBenchOptions  *options,
                  GError               **error)
{
  g_autoptr(GcBenchRun) self = g_new0 (GcBenchRun, 1);
  guint64 pair_bytes = 0;
  guint64 received_words = 0;
  gboolean any_tls = FALSE;
  guint8 id[4];

  g_return_val_if_fail (options != NULL && options->url != NULL, NULL);
  g_return_val_if_fail (options->clients > 0 && options->clients <= GC_BENCH_MAX_CLIENTS, NULL);
  g_return_val_if_fail (options->rooms > 0 && options->rooms <= options->clients, NULL);
  g_return_val_if_fail (options->size >= GC_BENCH_MIN_TEXT_SIZE, NULL);
  g_return_val_if_fail (options->rate > 0 || options->window > 0, NULL);
  g_return_val_if_fail (options->n_server_pids == 0 || options->server_pids != NULL, NULL);

  self->options = *options;
  self->url = g_strdup (options->url);
  self->options.url = self->url;
  if (options->n_urls > 0)
    self->urls = g_strdupv ((char **) options->urls);
  else
    self->urls = g_strdupv ((char *[]) { self->url, NULL });
  self->options.n_urls = g_strv_length (self->urls);
  self->options.urls = (const char **) self->urls;
  if (options->n_server_pids > 0)
    self->server_pids = g_memdup2 (options->server_pids, options->n_server_pids * sizeof (int));
  else if (options->server_pid > 0)
    {
      self->server_pids = g_new (int, 1);
      self->server_pids[0] = options->server_pid;
      self->options.n_server_pids = 1;
    }
  self->options.server_pids = self->server_pids;
  self->options.server_pid = self->options.n_server_pids > 0 ? self->server_pids[0] : 0;
  if (options->kill_node_after_s > 0 &&
      (self->options.n_urls < 2 || self->options.n_server_pids != self->options.n_urls))
    {
      g_set_error (error, GC_BENCH_ERROR, GC_BENCH_ERROR_FAILED,
                   "killing a node needs at least two --url and one --server-pid per --url, "
                   "in the same order");
      return NULL;
    }
  self->tls_ca_file = g_strdup (options->tls_ca_file);
  self->options.tls_ca_file = self->tls_ca_file;
  self->signal_fd = -1;
  self->results.connect_time = gc_bench_histogram_new ();
  self->results.latency = gc_bench_histogram_new ();
  self->progress_tty = isatty (STDERR_FILENO);

  if (!raise_fd_limit (options->clients + RESERVED_FDS, error))
    return NULL;

  self->rooms = g_new0 (Room, options->rooms);
  for (guint r = 0; r < options->rooms; r++)
    {
      guint64 n = (options->clients - r + options->rooms - 1) / options->rooms;

      self->rooms[r].n_members = n;
      pair_bytes += n * n * sizeof (PairState);
      if (options->kill_node_after_s > 0)
        received_words += n * n * ((options->messages + 63) / 64);
    }
  pair_bytes += received_words * sizeof (guint64);
  if (options->protocol == GC_BENCH_PROTOCOL_GOCHAT)
    pair_bytes += (guint64) options->clients * options->messages * sizeof (guint64);
  if (pair_bytes > MAX_PAIR_BYTES)
    {
      g_set_error (error, GC_BENCH_ERROR, GC_BENCH_ERROR_LIMIT,
                   "tracking every delivery of %u clients in %u room(s) takes %" G_GUINT64_FORMAT
                   " MiB; use more rooms or fewer clients", options->clients, options->rooms,
                   pair_bytes >> 20);
      return NULL;
    }
  for (guint r = 0; r < options->rooms; r++)
    {
      gsize n_pairs = (gsize) self->rooms[r].n_members * self->rooms[r].n_members;

      self->rooms[r].pairs = g_new0 (PairState, n_pairs);
      if (options->kill_node_after_s > 0)
        self->rooms[r].received = g_new0 (guint64, n_pairs * ((options->messages + 63) / 64));
    }

  self->clients = g_new0 (Client, options->clients);
  for (guint i = 0; i < options->clients; i++)
    {
      Client *client = &self->clients[i];

      client->run = self;
      client->index = i;
      client->room = i % options->rooms;
      client->slot = i / options->rooms;
      /* Round-robin within each room, so that every room is split
       * across the nodes; or whole rooms round-robin. */
      client->node = (options->spread == GC_BENCH_SPREAD_ROOMS ? client->room : client->slot) %
                     self->options.n_urls;
      if (options->protocol == GC_BENCH_PROTOCOL_GOCHAT && options->messages > 0)
        client->ids = g_new0 (guint64, options->messages);
    }

  self->text = g_malloc (options->size);
  self->request = g_string_sized_new (gc_bench_request_max_size (options->size));

  gc_ws_random_bytes (id, sizeof id);
  self->run_id = g_strdup_printf ("%02x%02x%02x%02x", id[0], id[1], id[2], id[3]);

  self->targets = g_new0 (GcBenchTarget *, self->options.n_urls);
  for (guint u = 0; u < self->options.n_urls; u++)
    {
      self->targets[u] = gc_bench_target_new (self->urls[u], options->tls_ca_file,
                                              options->insecure, error);
      if (self->targets[u] == NULL)
        return NULL;
      any_tls |= self->targets[u]->tls;
    }

  self->loop = gc_bench_loop_new (any_tls, error);
  if (self->loop == NULL || !watch_signals (self, error))
    return NULL;

  self->results.n_nodes = self->options.n_server_pids;
  self->results.nodes = g_new0 (GcBenchProcess, MAX (self->results.n_nodes, 1));
  for (guint i = 0; i < self->results.n_nodes; i++)
    {
      g_autoptr(GError) local_error = NULL;
      GcBenchProcess *node = &self->results.nodes[i];

      node->pid = self->server_pids[i];
      if (!gc_bench_proc_sample (node->pid, &node->start, &local_error))
        {
          g_set_error (error, GC_BENCH_ERROR, GC_BENCH_ERROR_FAILED,
                       "--server-pid %d: %s", node->pid, local_error->message);
          return NULL;
        }
      self->results.has_server = TRUE;
    }
  if (options->redis_pid > 0)
    {
      g_autoptr(GError) local_error = NULL;

      self->results.redis.pid = options->redis_pid;
      if (!gc_bench_proc_sample (options->redis_pid, &self->results.redis.start, &local_error))
        {
          g_set_error (error, GC_BENCH_ERROR, GC_BENCH_ERROR_FAILED,
                       "--redis-pid %d: %s", options->redis_pid, local_error->message);
          return NULL;
        }
      self->results.has_redis = TRUE;
    }
  if (self->results.has_server)
    self->results.server_start = self->results.nodes[0].start;

  self->epoch_ns = gc_bench_now_ns ();

  return g_steal_pointer (&self);
}

void
gc_bench_run_free (GcBenchRun *self)
{
  if (self == NULL)
    return;

  for (guint i = 0; self->clients != NULL && i < self->options.clients; i++)
    {
      g_clear_pointer (&self->clients[i].connection, gc_bench_connection_free);
      g_free (self->clients[i].ids);
    }
  g_free (self->clients);

  for (guint r = 0; self->rooms != NULL && r < self->options.rooms; r++)
    {
      g_free (self->rooms[r].pairs);
      g_free (self->rooms[r].received);
    }
  g_free (self->rooms);

  if (self->loop != NULL)
    gc_bench_loop_remove (self->loop, &self->signal_watch);
  if (self->signal_fd >= 0)
    {
      close (self->signal_fd);
      sigprocmask (SIG_SETMASK, &self->saved_mask, NULL);
    }
  g_clear_pointer (&self->loop, gc_bench_loop_free);
  for (guint u = 0; self->targets != NULL && u < self->options.n_urls; u++)
    g_clear_pointer (&self->targets[u], gc_bench_target_free);
  g_free (self->targets);
  g_strfreev (self->urls);
  g_free (self->server_pids);
  g_free (self->results.nodes);

  g_clear_error (&self->error);
  g_clear_pointer (&self->results.connect_time, gc_bench_histogram_free);
  g_clear_pointer (&self->results.latency, gc_bench_histogram_free);
  g_free (self->results.first_error_code);
  g_free (self->text);
  g_string_free (self->request, TRUE);
  g_free (self->run_id);
  g_free (self->url);
  g_free (self->tls_ca_file);
  g_free (self);
}

/* Phases -------------------------------------------------------------------------------------------- */

gint64
gc_bench_run_activity_deadline (GcBenchRun *self)
{
  return self->last_activity_ns + (gint64) self->options.timeout_s * NS_PER_SECOND;
}

gboolean
gc_bench_run_connect (GcBenchRun  *self,
                      GError     **error)
{
  g_return_val_if_fail (self != NULL, FALSE);
  g_return_val_if_fail (self->phase == PHASE_IDLE && self->started == 0, FALSE);

  gc_bench_run_phase_begin (self, PHASE_CONNECT);

  while (self->results.joined < self->options.clients && self->error == NULL &&
         !self->results.interrupted)
    {
      gint64 now;

      while (self->started < self->options.clients &&
             self->connecting < self->options.connect_concurrency)
        {
          if (!client_start (self, &self->clients[self->started++], error))
            {
              gc_bench_run_progress_end (self);
              return FALSE;
            }
        }

      gc_bench_loop_iterate (self->loop, MIN (self->next_progress_ns, gc_bench_run_activity_deadline (self)));

      now = gc_bench_now_ns ();
      gc_bench_run_progress_tick (self, now);
      if (now >= gc_bench_run_activity_deadline (self) && self->results.joined < self->options.clients &&
          self->error == NULL)
        {
          gc_bench_run_progress_end (self);
          g_set_error (error, GC_BENCH_ERROR, GC_BENCH_ERROR_TIMED_OUT,
                       "no client joined for %u s (%u of %u joined); is the server overloaded "
                       "or not a %s server?", self->options.timeout_s, self->results.joined,
                       self->options.clients,
                       self->options.protocol == GC_BENCH_PROTOCOL_GOCHAT ? "gochat" : "relay");
          return FALSE;
        }
    }

  gc_bench_run_progress_end (self);
  self->results.connect_seconds = (double) (gc_bench_now_ns () - self->phase_start_ns) / NS_PER_SECOND;

  /* A server may send join events a little later than the welcome
   * (gochat-server batches them): they are part of what a join costs. */
  if (self->options.protocol == GC_BENCH_PROTOCOL_GOCHAT)
    {
      for (guint r = 0; r < self->options.rooms; r++)
        self->results.expected_join_events +=
          (guint64) self->rooms[r].n_members * (self->rooms[r].n_members - 1) / 2;
      while (self->error == NULL && !self->results.interrupted &&
             self->results.join_events < self->results.expected_join_events)
        {
          gint64 deadline = MIN (gc_bench_run_activity_deadline (self),
                                 gc_bench_now_ns () + (gint64) NS_PER_SECOND);

          gc_bench_loop_iterate (self->loop, deadline);
          if (gc_bench_now_ns () >= gc_bench_run_activity_deadline (self))
            break;
        }
    }
  self->phase = PHASE_IDLE;

  if (self->error != NULL)
    {
      g_propagate_error (error, g_steal_pointer (&self->error));
      return FALSE;
    }

  gc_bench_run_sample_processes (self, SAMPLE_CONNECTED);
  for (guint i = 0; i < self->results.n_nodes; i++)
    self->results.nodes[i].end = self->results.nodes[i].connected;
  self->results.redis.end = self->results.redis.connected;
  self->results.server_end = self->results.server_connected;

  return TRUE;
}

void
gc_bench_run_hold (GcBenchRun *self)
{
  g_return_if_fail (self != NULL);

  gc_bench_run_phase_begin (self, PHASE_HOLD);
  while (!self->results.interrupted)
    gc_bench_loop_iterate (self->loop, -1);
  self->phase = PHASE_IDLE;
}

void
gc_bench_run_close (GcBenchRun *self)
{
  g_return_if_fail (self != NULL);

  for (guint i = 0; i < self->options.clients; i++)
    {
      if (self->clients[i].connection != NULL)
        gc_bench_connection_close (self->clients[i].connection);
    }
}

const GcBenchResults *
gc_bench_run_get_results (GcBenchRun *self)
{
  g_return_val_if_fail (self != NULL, NULL);

  return &self->results;
}
