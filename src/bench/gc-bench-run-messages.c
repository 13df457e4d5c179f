/* gc-bench-run-messages.c: GcBenchRun's message phase — send, match, measure
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <sys/resource.h>

#include "gc-bench-run-private.h"

static double
process_cpu_seconds (void)
{
  struct rusage usage;

  if (getrusage (RUSAGE_SELF, &usage) != 0)
    return 0;

  return (double) usage.ru_utime.tv_sec + usage.ru_utime.tv_usec / 1e6 +
         (double) usage.ru_stime.tv_sec + usage.ru_stime.tv_usec / 1e6;
}

/* Messages ----------------------------------------------------------------------------------- */

static void
client_send (GcBenchRun *self,
             Client     *client)
{
  gint64 now = gc_bench_now_ns ();
  GcBenchMarker marker = {
    .client = client->index,
    .seq = client->sent,
    .sent_ns = now - self->epoch_ns,
  };

  gc_bench_text_format (self->text, self->options.size, &marker);
  if (self->options.protocol == GC_BENCH_PROTOCOL_GOCHAT)
    {
      g_string_truncate (self->request, 0);
      gc_bench_request_append (self->request, self->text, self->options.size,
                               client->index, client->sent);
      gc_bench_connection_send_text (client->connection, self->request->str, self->request->len);
    }
  else
    {
      gc_bench_connection_send_text (client->connection, self->text, self->options.size);
    }

  client->sent++;
  client->in_flight++;
  self->in_flight++;
  self->results.sent++;
  self->results.expected += self->rooms[client->room].n_members;
  self->last_activity_ns = now;
}

static gboolean
client_can_send (GcBenchRun *self,
                 Client     *client)
{
  return !client->failed && client->sent < self->options.messages &&
         gc_bench_connection_is_open (client->connection);
}

/* One of @client's own messages is settled (echoed or refused). */
static void
client_settle (GcBenchRun *self,
               Client     *client)
{
  if (client->in_flight == 0)
    return;

  client->in_flight--;
  self->in_flight--;

  if (self->phase == PHASE_MESSAGES && self->options.rate == 0 && client_can_send (self, client))
    client_send (self, client);
}

void
gc_bench_run_handle_delivery (GcBenchRun          *self,
                              Client              *receiver,
                              const GcBenchMarker *marker,
                              gint64               received_ns)
{
  Client *sender;
  Room *room;
  PairState *pair;
  gboolean fresh;

  if (marker->client >= self->options.clients)
    {
      self->results.foreign++;
      return;
    }

  sender = &self->clients[marker->client];
  if (marker->seq >= sender->sent)
    {
      self->results.foreign++;
      return;
    }
  if (sender->room != receiver->room)
    {
      self->results.misrouted++;
      return;
    }

  room = &self->rooms[receiver->room];
  pair = &room->pairs[(gsize) receiver->slot * room->n_members + sender->slot];

  if (marker->seq >= pair->next)
    {
      guint32 shift = marker->seq - pair->next + 1;

      pair->seen = shift >= 64 ? 0 : pair->seen << shift;
      pair->seen |= 1;
      pair->next = marker->seq + 1;
      fresh = TRUE;
    }
  else
    {
      guint32 behind = pair->next - 1 - marker->seq;

      if (behind < 64 && (pair->seen & (G_GUINT64_CONSTANT (1) << behind)) != 0)
        {
          self->results.duplicated++;
          fresh = FALSE;
        }
      else
        {
          /* Older than the window: counted as late, since it cannot be
           * told from a duplicate. */
          if (behind < 64)
            pair->seen |= G_GUINT64_CONSTANT (1) << behind;
          self->results.out_of_order++;
          fresh = TRUE;
        }
    }

  gc_bench_histogram_record (self->results.latency,
                             (guint64) MAX (received_ns - self->epoch_ns - (gint64) marker->sent_ns, 0));
  if (!fresh)
    return;

  self->results.delivered++;
  self->last_activity_ns = received_ns;
  self->last_delivery_ns = received_ns;

  if (sender == receiver)
    client_settle (self, receiver);
}

void
gc_bench_run_handle_error_event (GcBenchRun         *self,
                                 Client             *client,
                                 const GcBenchEvent *event)
{
  guint32 ref_client;
  guint32 ref_seq;

  self->results.error_events++;
  if (self->results.first_error_code == NULL && event->code != NULL)
    self->results.first_error_code = g_strndup (event->code, event->code_len);

  /* A refused message of ours: nobody will receive it. */
  if (event->ref != NULL &&
      gc_bench_client_id_parse (event->ref, event->ref_len, &ref_client, &ref_seq) &&
      ref_client == client->index && ref_seq < client->sent)
    {
      self->results.refused++;
      self->results.expected -= self->rooms[client->room].n_members;
      client_settle (self, client);
    }
}

/* The phase -------------------------------------------------------------------------------- */

static gboolean
all_sent (GcBenchRun *self,
          guint64     rate_cursor)
{
  if (self->options.rate > 0)
    return rate_cursor >= (guint64) self->options.clients * self->options.messages;

  for (guint i = 0; i < self->options.clients; i++)
    {
      if (client_can_send (self, &self->clients[i]))
        return FALSE;
    }
  return TRUE;
}

void
gc_bench_run_send (GcBenchRun *self)
{
  guint64 total = (guint64) self->options.clients * self->options.messages;
  /* Rate mode: send j of the whole run (client j mod N) is due at
   * start + j × interval, which spreads every client's sends evenly. */
  double interval_ns = self->options.rate > 0
                       ? NS_PER_SECOND / (self->options.rate * self->options.clients) : 0;
  guint64 rate_cursor = 0;
  double cpu_start;
  gboolean sending = TRUE;

  g_return_if_fail (self != NULL);
  g_return_if_fail (self->phase == PHASE_IDLE);

  if (self->options.messages == 0 || self->results.interrupted)
    return;

  gc_bench_run_phase_begin (self, PHASE_MESSAGES);
  cpu_start = process_cpu_seconds ();
  gc_bench_run_sample_server (self, &self->results.server_connected);
  self->last_delivery_ns = self->phase_start_ns;

  if (self->options.rate == 0)
    {
      for (guint w = 0; w < self->options.window; w++)
        for (guint i = 0; i < self->options.clients; i++)
          if (client_can_send (self, &self->clients[i]))
            client_send (self, &self->clients[i]);
    }

  while (!self->results.interrupted)
    {
      gint64 now = gc_bench_now_ns ();
      gint64 deadline = MIN (self->next_progress_ns, gc_bench_run_activity_deadline (self));

      if (self->options.rate > 0)
        {
          while (rate_cursor < total &&
                 self->phase_start_ns + (gint64) (rate_cursor * interval_ns) <= now)
            {
              Client *client = &self->clients[rate_cursor % self->options.clients];

              if (client_can_send (self, client))
                client_send (self, client);
              rate_cursor++;
            }
          if (rate_cursor < total)
            deadline = MIN (deadline, self->phase_start_ns + (gint64) (rate_cursor * interval_ns));
        }

      if (sending && all_sent (self, rate_cursor))
        sending = FALSE;
      if (!sending && self->results.delivered >= self->results.expected)
        break;
      if (now >= gc_bench_run_activity_deadline (self))
        {
          self->results.timed_out = TRUE;
          break;
        }

      gc_bench_loop_iterate (self->loop, deadline);
      gc_bench_run_progress_tick (self, gc_bench_now_ns ());
    }

  gc_bench_run_progress_end (self);
  self->phase = PHASE_IDLE;
  self->results.message_seconds = (double) (self->last_delivery_ns - self->phase_start_ns) / NS_PER_SECOND;
  /* Cut short by a signal, what had not arrived yet was not lost. */
  if (self->results.expected > self->results.delivered)
    {
      if (self->results.interrupted)
        self->results.unsettled = self->results.expected - self->results.delivered;
      else
        self->results.lost = self->results.expected - self->results.delivered;
    }
  self->results.bench_cpu_seconds = process_cpu_seconds () - cpu_start;
  gc_bench_run_sample_server (self, &self->results.server_end);
}
