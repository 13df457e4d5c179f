/* test-protocol-utf8.c: gc_protocol_utf8_validate(), the check of what a
 * cluster node reads from Redis (issue 13), gives g_utf8_validate_len()'s
 * answer on every input, wherever the bytes fall against the 8-byte words
 * it reads ASCII in
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-protocol.h"

#define BUFFER 32

/* Both answers on @bytes (@n of them) placed at @offset in ASCII, also
 * with the buffer ending right after them (a sequence cut short). */
static void
assert_same_at (const guchar *bytes,
                gsize         n,
                gsize         offset)
{
  char buffer[BUFFER];
  gsize lengths[] = { BUFFER, offset + n };

  g_assert_cmpuint (offset + n, <=, BUFFER);
  memset (buffer, 'x', sizeof buffer);
  memcpy (buffer + offset, bytes, n);
  for (guint i = 0; i < G_N_ELEMENTS (lengths); i++)
    {
      gboolean expected = g_utf8_validate_len (buffer, lengths[i], NULL);

      if (gc_protocol_utf8_validate (buffer, lengths[i]) != expected)
        {
          g_autofree char *hex = g_strnfill (3 * n, ' ');

          for (gsize j = 0; j < n; j++)
            g_snprintf (hex + 3 * j, 4, "%02x ", bytes[j]);
          g_error ("%s at %" G_GSIZE_FORMAT " of %" G_GSIZE_FORMAT ": expected %s",
                   hex, offset, lengths[i], expected ? "valid" : "invalid");
        }
    }
}

/* Every pair of bytes, around the first two word boundaries and at the
 * start and the end. */
static void
test_pairs (void)
{
  static const gsize offsets[] = { 0, 6, 7, 8, 14, 15, 16, 30 };

  for (guint a = 0; a < 256; a++)
    for (guint b = 0; b < 256; b++)
      {
        guchar bytes[2] = { a, b };

        for (guint o = 0; o < G_N_ELEMENTS (offsets); o++)
          assert_same_at (bytes, 2, offsets[o]);
      }
}

/* Every lead byte followed by the bytes where the ranges of the second,
 * third and fourth bytes begin and end, with each split across a word
 * boundary in every way. */
static void
test_sequences (void)
{
  static const guchar edges[] = { 0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf,
                                  0xc0, 0xff };

  for (guint a = 0x80; a < 256; a++)
    for (guint b = 0; b < G_N_ELEMENTS (edges); b++)
      for (guint c = 0; c < G_N_ELEMENTS (edges); c++)
        for (guint d = 0; d < G_N_ELEMENTS (edges); d++)
          {
            guchar bytes[4] = { a, edges[b], edges[c], edges[d] };

            /* Across the first word boundary, and the second (16). */
            static const gsize offsets[] = { 5, 6, 7, 8, 13, 14, 15, 16 };

            for (guint o = 0; o < G_N_ELEMENTS (offsets); o++)
              for (gsize n = 3; n <= 4; n++)
                assert_same_at (bytes, n, offsets[o]);
          }
}

/* The classic cases, each at every offset from 0 to 16. */
static void
test_named (void)
{
  static const char *cases[] = {
    "\xc3\xa9",                 /* é */
    "\xe2\x82\xac",             /* € */
    "\xf0\x9d\x84\x9e",         /* U+1D11E */
    "\xf4\x8f\xbf\xbf",         /* U+10FFFF, the last */
    "\xf4\x90\x80\x80",         /* past U+10FFFF */
    "\xf5\x80\x80\x80",
    "\xc0\x80",                 /* overlong NUL */
    "\xc1\xbf",                 /* overlong */
    "\xe0\x80\xaf",             /* overlong / */
    "\xe0\x9f\xbf",             /* overlong, the last */
    "\xe0\xa0\x80",             /* U+0800, the first 3-byte */
    "\xf0\x80\x80\xaf",         /* overlong */
    "\xf0\x8f\xbf\xbf",         /* overlong, the last */
    "\xed\x9f\xbf",             /* U+D7FF */
    "\xed\xa0\x80",             /* U+D800, a surrogate */
    "\xed\xbf\xbf",             /* U+DFFF */
    "\xee\x80\x80",             /* U+E000 */
    "\xef\xbf\xbe",             /* U+FFFE: a noncharacter, still valid */
    "\x80",                     /* a lone continuation */
    "\xbf",
    "\xc3",                     /* cut short */
    "\xe2\x82",
    "\xf0\x9d\x84",
    "\xc3\xa9\xa9",             /* one continuation too many */
    "\xfe", "\xff",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    for (gsize offset = 0; offset <= 16; offset++)
      assert_same_at ((const guchar *) cases[i], strlen (cases[i]), offset);

  /* U+0000 anywhere. */
  for (gsize offset = 0; offset < BUFFER; offset++)
    {
      guchar nul = 0;

      assert_same_at (&nul, 1, offset);
    }
  g_assert_true (gc_protocol_utf8_validate ("", 0));
  g_assert_true (gc_protocol_utf8_validate ("h\xc3\xa9llo w\xc3\xb6rld \xe2\x82\xac "
                                            "\xf0\x9d\x84\x9e and on", 29));
}

/* Random text, mostly ASCII with some of everything, of every length up
 * to three words. */
static void
test_random (void)
{
  static const guchar alphabet[] = { 'a', 'b', ' ', '}', 0x00, 0x7f, 0x80, 0xbf, 0xc2,
                                     0xc3, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5 };
  GRand *rand = g_rand_new_with_seed (13);

  for (guint round = 0; round < 200000; round++)
    {
      char text[24];
      gsize length = g_rand_int_range (rand, 0, sizeof text + 1);

      for (gsize i = 0; i < length; i++)
        text[i] = g_rand_boolean (rand) ? 'x'
          : (char) alphabet[g_rand_int_range (rand, 0, sizeof alphabet)];
      g_assert_cmpint (gc_protocol_utf8_validate (text, length), ==,
                       g_utf8_validate_len (text, length, NULL));
    }
  g_rand_free (rand);
}

/* The check of a message tail read from Redis. */
static void
test_tail (void)
{
  GcUser from = { (char *) "u-1", (char *) "zo\xc3\xab" };
  gsize len = 0;
  g_autofree char *tail = gc_event_message_tail (&from, GC_MESSAGE_KIND_TEXT,
                                                 "\xe2\x82\xac 64 bytes of text, more or less",
                                                 "c-1", &len);
  g_autofree char *copy = g_memdup2 (tail, len);

  g_assert_true (gc_event_message_tail_is_readable (tail, len));
  g_assert_false (gc_event_message_tail_is_readable (tail, len - 1));
  g_assert_false (gc_event_message_tail_is_readable (tail + 1, len - 1));
  g_assert_false (gc_event_message_tail_is_readable ("", 0));
  for (gsize i = 8; i < len - 1; i++)
    {
      char saved = copy[i];

      copy[i] = '\0';
      g_assert_false (gc_event_message_tail_is_readable (copy, len));
      copy[i] = (char) 0xff;
      g_assert_false (gc_event_message_tail_is_readable (copy, len));
      copy[i] = saved;
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/protocol/utf8/pairs", test_pairs);
  g_test_add_func ("/protocol/utf8/sequences", test_sequences);
  g_test_add_func ("/protocol/utf8/named", test_named);
  g_test_add_func ("/protocol/utf8/random", test_random);
  g_test_add_func ("/protocol/utf8/message-tail", test_tail);
  return g_test_run ();
}
