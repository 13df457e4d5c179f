/* test-protocol-tail.c: a message event built from its tail (what a
 * cluster node ships to the others, issue 13) is the very event a single
 * node builds
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-protocol.h"

static void
assert_same_event (guint64        id,
                   gint64         ts,
                   const GcUser  *from,
                   GcMessageKind  kind,
                   const char    *text,
                   const char    *client_id)
{
  g_autoptr(GBytes) whole = gc_event_build_message (id, ts, from, kind, text, client_id);
  gsize tail_len = 0;
  g_autofree char *tail = gc_event_message_tail (from, kind, text, client_id, &tail_len);
  g_autoptr(GBytes) completed = gc_event_build_message_from_tail (id, ts, tail, tail_len);
  gsize whole_len, completed_len;
  const char *w = g_bytes_get_data (whole, &whole_len);
  const char *c = g_bytes_get_data (completed, &completed_len);

  g_assert_cmpuint (tail_len, ==, strlen (tail));
  g_assert_cmpmem (c, completed_len, w, whole_len);
  /* The tail is all of the event after its ts. */
  g_assert_cmpuint (tail_len, <, whole_len);
  g_assert_cmpmem (tail, tail_len, w + whole_len - tail_len, tail_len);
}

static void
test_same_bytes (void)
{
  GcUser alice = { (char *) "u-1", (char *) "alice" };
  GcUser odd = { (char *) "u-\"2\"", (char *) "b\\o\nb \xe2\x80\xa8 \xc3\xa9" };

  assert_same_event (1, 0, &alice, GC_MESSAGE_KIND_TEXT, "hi", NULL);
  assert_same_event (G_MAXUINT64, G_MAXINT64, &alice, GC_MESSAGE_KIND_TEXT, "", "c-1");
  assert_same_event (1700000000000123, 1765000000123, &odd, GC_MESSAGE_KIND_EMOTE,
                     "\"quoted\" \\ \t\x01 \xe2\x80\xa9 \xff invalid", "id \"x\"");
  assert_same_event (42, -5, &odd, GC_MESSAGE_KIND_TEXT, "12:not a field}", "}");
}

/* The numbers are written as printf writes them, at every length. */
static void
test_numbers (void)
{
  GRand *rand = g_rand_new_with_seed (13);
  guint64 id = 1;

  for (guint i = 0; i < 20000; i++)
    {
      gint64 ts = (gint64) g_rand_int (rand) * (i % 3 == 0 ? -1 : 1) * (gint64) (i % 1000);
      g_autoptr(GBytes) event = NULL;
      g_autofree char *expected = NULL;

      /* Each power of ten and its neighbours, then random values. */
      if (i < 19 * 3)
        {
          guint64 power = 1;

          for (guint k = 0; k < i / 3 + 1; k++)
            power *= 10;
          id = power + (i % 3) - 1;
        }
      else if (i == 19 * 3)
        id = G_MAXUINT64;
      else
        id = ((guint64) g_rand_int (rand) << 32 | g_rand_int (rand)) >> g_rand_int_range (rand, 0, 64);
      if (id == 0)
        id = 1;
      event = gc_event_build_message_from_tail (id, ts, "}", 1);
      expected = g_strdup_printf ("{\"type\":\"message\",\"id\":%" G_GUINT64_FORMAT
                                  ",\"ts\":%" G_GINT64_FORMAT "}", id, ts);
      g_assert_cmpmem (g_bytes_get_data (event, NULL), g_bytes_get_size (event),
                       expected, strlen (expected));
    }
  g_rand_free (rand);
}

/* Events written in a row with a kept head are the bytes the builder
 * makes, whether each id follows the last (across 9 -> 10, 99 -> 100 and
 * on), the ts changes, or the ids jump. */
static void
test_written_in_a_row (void)
{
  static const struct {
    guint64 first;
    guint   count;
  } runs[] = {
    { 1, 12 }, { 95, 10 }, { 997, 6 }, { 1799999999999990, 15 }, { 42, 1 }, { 43, 3 },
    { G_MAXUINT64 - 3, 4 }, { 9999999999999999999u, 1 }, { 8, 5 },
  };
  static const char tail[] = ",\"from\":{\"id\":\"u-1\",\"name\":\"a\"},\"kind\":\"text\",\"text\":\"hi\"}";
  GcEventMessageHead head = { 0, };
  gint64 ts = 1765000000123;

  for (guint r = 0; r < G_N_ELEMENTS (runs); r++)
    {
      /* Every third run at a new time, one of them before 1970. */
      if (r % 3 == 2)
        ts = r == 5 ? -7 : ts + 1000;
      for (guint i = 0; i < runs[r].count; i++)
        {
          guint64 id = runs[r].first + i;
          g_autoptr(GBytes) built = gc_event_build_message_from_tail (id, ts, tail, sizeof tail - 1);
          char out[GC_EVENT_MESSAGE_FROM_TAIL_MAX (sizeof tail - 1)];
          char *end = gc_event_write_message_from_tail_after (&head, out, id, ts, tail,
                                                             sizeof tail - 1);

          g_assert_nonnull (end);
          g_assert_cmpmem (out, end - out, g_bytes_get_data (built, NULL), g_bytes_get_size (built));
        }
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/protocol/message-tail/same-bytes", test_same_bytes);
  g_test_add_func ("/protocol/message-tail/numbers", test_numbers);
  g_test_add_func ("/protocol/message-tail/written-in-a-row", test_written_in_a_row);
  return g_test_run ();
}
