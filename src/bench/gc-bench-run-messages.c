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
                              guint64              id,
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

  /* One order per room, the same ids everywhere (docs/protocol.md §4.3,
   * §6.7): the first delivery of a message sets its id, and each client
   * sees its room's ids rise. */
  if (id != 0 && sender->ids != NULL)
    {
      if (sender->ids[marker->seq] == 0)
        sender->ids[marker->seq] = id;
      else if (sender->ids[marker->seq] != id)
        self->results.id_mismatches++;
      if (id <= receiver->last_id)
        self->results.reordered++;
      else
        receiver->last_id = id;
    }
  if (room->received != NULL)
    {
      gsize words = (self->options.messages + 63) / 64;
      guint64 *bits = &room->received[((gsize) receiver->slot * room->n_members + sender->slot) * words];

      bits[marker->seq / 64] |= G_GUINT64_CONSTANT (1) << (marker->seq % 64);
    }

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

/* A node killed --------------------------------------------------------------------------- */

static gboolean
bit_is_set (const guint64 *bits,
            guint32        i)
{
  return (bits[i / 64] & (G_GUINT64_CONSTANT (1) << (i % 64))) != 0;
}

/* After a kill: the messages a sender saw acknowledged (its own echo
 * arrived) that a member of its room still connected never received,
 * counted once per such member; and the messages never acknowledged. */
static guint64
count_acked_lost (GcBenchRun *self,
                  guint64    *unacked)
{
  gsize words = (self->options.messages + 63) / 64;
  guint64 lost = 0;

  if (unacked != NULL)
    *unacked = 0;

  for (guint i = 0; i < self->options.clients; i++)
    {
      Client *sender = &self->clients[i];
      Room *room = &self->rooms[sender->room];
      const guint64 *own = &room->received[((gsize) sender->slot * room->n_members + sender->slot) * words];

      for (guint32 seq = 0; seq < sender->sent; seq++)
        {
          if (!bit_is_set (own, seq))
            {
              if (unacked != NULL)
                (*unacked)++;
              continue;
            }
          for (guint slot = 0; slot < room->n_members; slot++)
            {
              Client *receiver = &self->clients[sender->room + slot * self->options.rooms];
              const guint64 *bits = &room->received[((gsize) slot * room->n_members + sender->slot) * words];

              if (!receiver->failed && !receiver->killed && !bit_is_set (bits, seq))
                lost++;
            }
        }
    }

  return lost;
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
  gint64 next_check_ns;

  g_return_if_fail (self != NULL);
  g_return_if_fail (self->phase == PHASE_IDLE);

  if (self->options.messages == 0 || self->results.interrupted)
    return;

  gc_bench_run_phase_begin (self, PHASE_MESSAGES);
  cpu_start = process_cpu_seconds ();
  gc_bench_run_sample_processes (self, SAMPLE_CONNECTED);
  self->last_delivery_ns = self->phase_start_ns;
  if (self->options.kill_node_after_s > 0)
    self->kill_at_ns = self->phase_start_ns + (gint64) (self->options.kill_node_after_s * NS_PER_SECOND);
  next_check_ns = self->phase_start_ns;

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

      if (self->kill_at_ns > 0)
        {
          if (now >= self->kill_at_ns)
            {
              gc_bench_run_kill_node (self);
              self->last_activity_ns = gc_bench_now_ns ();
            }
          else
            deadline = MIN (deadline, self->kill_at_ns);
        }

      if (sending && all_sent (self, rate_cursor))
        sending = FALSE;
      if (!sending && self->results.delivered >= self->results.expected)
        break;
      /* After a kill not everything is due: done once nothing is in
       * flight and every acknowledged message reached everyone left. */
      if (!sending && self->results.killed && self->in_flight == 0 && now >= next_check_ns)
        {
          if (count_acked_lost (self, NULL) == 0)
            break;
          next_check_ns = now + NS_PER_SECOND / 20;
        }
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
  /* After a kill, lost counts what was acknowledged and did not reach
   * everyone still connected. */
  if (self->results.killed)
    {
      self->results.acked_lost = count_acked_lost (self, &self->results.unacked);
      if (self->results.interrupted)
        self->results.unsettled = self->results.acked_lost;
      else
        self->results.lost = self->results.acked_lost;
    }
  /* Cut short by a signal, what had not arrived yet was not lost. */
  else if (self->results.expected > self->results.delivered)
    {
      if (self->results.interrupted)
        self->results.unsettled = self->results.expected - self->results.delivered;
      else
        self->results.lost = self->results.expected - self->results.delivered;
    }
  self->results.bench_cpu_seconds = process_cpu_seconds () - cpu_start;
  gc_bench_run_sample_processes (self, SAMPLE_END);
}
