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

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/protocol/message-tail/same-bytes", test_same_bytes);
  return g_test_run ();
}
