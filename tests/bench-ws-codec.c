/* bench-ws-codec.c: frame codec throughput, run by hand on a release build
 *
 * Parses a large buffer of masked text frames (as a server receives them)
 * several times and reports the best run, next to memcpy of the same
 * buffer as a yardstick; then times the server-role encoder.
 *
 *   meson setup _build-rel --buildtype=release && ninja -C _build-rel
 *   ./_build-rel/tests/bench-ws-codec
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-ws-frame.h"

#define BUFFER_TARGET (64 * 1024 * 1024)
#define ROUNDS 7
/* What one socket read might deliver. */
#define READ_SIZE (64 * 1024)

typedef struct {
  guint64 messages;
  guint64 payload_bytes;
} Counter;

static gboolean
count_message (GcWsOpcode  opcode,
               GBytes     *payload,
               gpointer    user_data)
{
  Counter *counter = user_data;

  counter->messages++;
  counter->payload_bytes += g_bytes_get_size (payload);

  return TRUE;
}

typedef enum {
  TEXT_ASCII,
  /* Chat-like: mostly ASCII, with a two-, three- and four-byte character
   * every few words. */
  TEXT_MIXED,
  /* Two-byte characters throughout (Cyrillic words). */
  TEXT_CYRILLIC,
} TextKind;

static guint8 *
make_text (gsize    len,
           TextKind kind)
{
  static const char *mixed_words[] = { "hello ", "world ", "meet ", "at ", "noon ", "caf\xc3\xa9 ", "5\xe2\x82\xac ", "\xf0\x9f\x98\x80 " };
  GString *text = g_string_sized_new (len + 16);
  guint i = 0;

  while (text->len < len)
    {
      if (kind == TEXT_CYRILLIC)
        g_string_append (text, "\xd0\xbf\xd1\x80\xd0\xb8\xd0\xb2\xd0\xb5\xd1\x82 ");
      else if (kind == TEXT_MIXED)
        g_string_append (text, mixed_words[i++ % G_N_ELEMENTS (mixed_words)]);
      else
        g_string_append (text, mixed_words[i++ % 5]);
    }

  /* Trim back to a character boundary, then pad with ASCII. */
  g_string_truncate (text, len);
  while (text->len > 0 && (text->str[text->len - 1] & 0x80))
    g_string_truncate (text, text->len - 1);
  while (text->len < len)
    g_string_append_c (text, ' ');

  g_assert_true (g_utf8_validate (text->str, text->len, NULL));
  return (guint8 *) g_string_free (text, FALSE);
}

static double
best_seconds (const gint64 *times)
{
  gint64 best = G_MAXINT64;
  guint i;

  for (i = 0; i < ROUNDS; i++)
    best = MIN (best, times[i]);

  return MAX (best, 1) / 1e6;
}

static gint64
time_memcpy (guint8       *copy,
             const guint8 *buffer,
             gsize         size)
{
  gint64 start = g_get_monotonic_time ();
  gint64 elapsed;

  memcpy (copy, buffer, size);
  elapsed = g_get_monotonic_time () - start;
  /* Keep the copy observable so it cannot be optimised away. */
  g_assert_cmpuint (copy[size - 1], ==, buffer[size - 1]);

  return elapsed;
}

static void
bench_parse (const char *label,
             gsize       payload_size,
             TextKind    kind)
{
  g_autofree guint8 *payload = make_text (payload_size, kind);
  gsize frame_size = gc_ws_frame_header_size (payload_size, TRUE) + payload_size;
  gsize n_frames = BUFFER_TARGET / frame_size;
  gsize size = n_frames * frame_size;
  g_autofree guint8 *buffer = g_malloc (size);
  g_autofree guint8 *copy = g_malloc0 (size);
  gint64 times[ROUNDS];
  gint64 memcpy_times[ROUNDS];
  double parse_s, memcpy_s;
  gsize pos = 0;
  guint round;

  for (pos = 0; pos < size; )
    pos += gc_ws_frame_encode_into (buffer + pos, GC_WS_ROLE_CLIENT, GC_WS_OPCODE_TEXT, TRUE,
                                    payload, payload_size);

  for (round = 0; round < ROUNDS; round++)
    {
      g_autoptr(GcWsParser) parser = gc_ws_parser_new (GC_WS_ROLE_SERVER, 0);
      g_autoptr(GError) error = NULL;
      Counter counter = { 0, };
      gint64 start = g_get_monotonic_time ();

      for (pos = 0; pos < size; pos += READ_SIZE)
        if (!gc_ws_parser_feed (parser, buffer + pos, MIN (READ_SIZE, size - pos),
                                count_message, &counter, &error))
          g_error ("Parse failed: %s", error->message);

      times[round] = g_get_monotonic_time () - start;
      g_assert_cmpuint (counter.messages, ==, n_frames);
      g_assert_cmpuint (counter.payload_bytes, ==, n_frames * payload_size);

      /* In the same round, so that both see the same machine. */
      memcpy_times[round] = time_memcpy (copy, buffer, size);
    }

  parse_s = best_seconds (times);
  memcpy_s = best_seconds (memcpy_times);

  g_print ("parse  %-32s %8.0f MB/s %12.0f frames/s   memcpy %6.0f MB/s   ratio %.2f\n",
           label, size / parse_s / 1e6, n_frames / parse_s,
           size / memcpy_s / 1e6, memcpy_s / parse_s);
}

static void
bench_encode (const char *label,
              gsize       payload_size)
{
  g_autofree guint8 *payload = make_text (payload_size, TEXT_MIXED);
  gsize frame_size = gc_ws_frame_header_size (payload_size, FALSE) + payload_size;
  gsize n_frames = BUFFER_TARGET / frame_size;
  gsize size = n_frames * frame_size;
  g_autofree guint8 *buffer = g_malloc (size);
  gint64 into_times[ROUNDS];
  gint64 bytes_times[ROUNDS];
  double into_s, bytes_s;
  guint round;
  gsize i;

  memset (buffer, 0, size);
  for (round = 0; round < ROUNDS; round++)
    {
      gint64 start = g_get_monotonic_time ();
      gsize pos = 0;

      for (i = 0; i < n_frames; i++)
        pos += gc_ws_frame_encode_into (buffer + pos, GC_WS_ROLE_SERVER, GC_WS_OPCODE_TEXT, TRUE,
                                        payload, payload_size);
      into_times[round] = g_get_monotonic_time () - start;
      g_assert_cmpuint (pos, ==, size);
    }

  /* The allocating variant, as a connection's send path uses it. */
  for (round = 0; round < ROUNDS; round++)
    {
      gint64 start = g_get_monotonic_time ();
      gsize total = 0;

      for (i = 0; i < n_frames; i++)
        {
          GBytes *frame = gc_ws_frame_encode (GC_WS_ROLE_SERVER, GC_WS_OPCODE_TEXT, TRUE,
                                              payload, payload_size);

          total += g_bytes_get_size (frame);
          g_bytes_unref (frame);
        }
      bytes_times[round] = g_get_monotonic_time () - start;
      g_assert_cmpuint (total, ==, size);
    }

  into_s = best_seconds (into_times);
  bytes_s = best_seconds (bytes_times);

  g_print ("encode %-32s %8.0f MB/s %12.0f frames/s   (GBytes each: %.0f MB/s, %.0f frames/s)\n",
           label, size / into_s / 1e6, n_frames / into_s,
           size / bytes_s / 1e6, n_frames / bytes_s);
}

static void
bench_mask_encode (const char *label,
                   gsize       payload_size)
{
  g_autofree guint8 *payload = make_text (payload_size, TEXT_MIXED);
  gsize frame_size = gc_ws_frame_header_size (payload_size, TRUE) + payload_size;
  gsize n_frames = BUFFER_TARGET / frame_size;
  gsize size = n_frames * frame_size;
  g_autofree guint8 *buffer = g_malloc (size);
  gint64 times[ROUNDS];
  double seconds;
  guint round;
  gsize i;

  memset (buffer, 0, size);
  for (round = 0; round < ROUNDS; round++)
    {
      gint64 start = g_get_monotonic_time ();
      gsize pos = 0;

      for (i = 0; i < n_frames; i++)
        pos += gc_ws_frame_encode_into (buffer + pos, GC_WS_ROLE_CLIENT, GC_WS_OPCODE_TEXT, TRUE,
                                        payload, payload_size);
      times[round] = g_get_monotonic_time () - start;
      g_assert_cmpuint (pos, ==, size);
    }

  seconds = best_seconds (times);
  g_print ("encode %-32s %8.0f MB/s %12.0f frames/s\n",
           label, size / seconds / 1e6, n_frames / seconds);
}

int
main (int   argc,
      char *argv[])
{
  g_print ("Buffers of ~%d MiB, best of %d runs, fed in %d KiB reads; MB = 10^6 bytes of wire data.\n",
           BUFFER_TARGET / (1024 * 1024), ROUNDS, READ_SIZE / 1024);

  bench_parse ("64 B masked text (mixed)", 64, TEXT_MIXED);
  bench_parse ("64 B masked text (ASCII)", 64, TEXT_ASCII);
  bench_parse ("64 KiB masked text (mixed)", 64 * 1024, TEXT_MIXED);
  bench_parse ("64 KiB masked text (ASCII)", 64 * 1024, TEXT_ASCII);
  bench_parse ("64 KiB masked text (Cyrillic)", 64 * 1024, TEXT_CYRILLIC);

  bench_encode ("64 B server text", 64);
  bench_encode ("64 KiB server text", 64 * 1024);
  bench_mask_encode ("64 B client text (masked)", 64);
  bench_mask_encode ("64 KiB client text (masked)", 64 * 1024);

  return 0;
}
