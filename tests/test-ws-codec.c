/* test-ws-codec.c: the RFC 6455 frame codec on byte arrays, case group by case group
 *
 * The groups follow the Autobahn test suite (1 framing, 2 ping/pong,
 * 3 reserved bits, 4 opcodes, 5 fragmentation, 6 UTF-8, 7 close, 9 limits,
 * 10 large messages), each run in both roles and in several chunkings.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-ws-frame.h"
#include "gc-ws-random.h"

#ifdef G_OS_UNIX
# include <sys/wait.h>
# include <unistd.h>
#endif

#define FIN 0x80
#define RSV1 0x40
#define RSV2 0x20
#define RSV3 0x10

static const GcWsRole roles[] = { GC_WS_ROLE_SERVER, GC_WS_ROLE_CLIENT };
/* 0 = the whole buffer in one feed. */
static const gsize chunkings[] = { 0, 1, 997 };

/* --- Building frames by hand (independent of the encoder) ---------------- */

static guint32 next_mask_seed = 0x12345678;

/* Appends a frame header with the length in @length_size bytes (1 = the
 * 7-bit field, 2 or 8 = extended; 0 = minimal). Masked frames get a new key
 * each time, which is returned in @mask. */
static void
append_header (GByteArray *out,
               guint8      first_byte,
               gboolean    masked,
               guint       length_size,
               guint64     len,
               guint8      mask[4])
{
  guint8 mask_bit = masked ? 0x80 : 0;
  guint8 byte;
  int i;

  if (length_size == 0)
    length_size = len <= 125 ? 1 : len <= G_MAXUINT16 ? 2 : 8;

  g_byte_array_append (out, &first_byte, 1);
  if (length_size == 1)
    {
      byte = mask_bit | (guint8) len;
      g_byte_array_append (out, &byte, 1);
    }
  else
    {
      byte = mask_bit | (length_size == 2 ? 126 : 127);
      g_byte_array_append (out, &byte, 1);
      for (i = length_size - 1; i >= 0; i--)
        {
          byte = (len >> (8 * i)) & 0xff;
          g_byte_array_append (out, &byte, 1);
        }
    }

  if (masked)
    {
      next_mask_seed = next_mask_seed * 1103515245 + 12345;
      for (i = 0; i < 4; i++)
        mask[i] = (next_mask_seed >> (8 * i)) & 0xff;
      /* Never an all-zero key: that would not test unmasking. */
      mask[0] |= 0x01;
      g_byte_array_append (out, mask, 4);
    }
}

static void
append_frame_full (GByteArray  *out,
                   guint8       first_byte,
                   gboolean     masked,
                   guint        length_size,
                   const void  *payload,
                   gsize        len)
{
  const guint8 *bytes = payload;
  guint8 mask[4];
  gsize start;
  gsize i;

  append_header (out, first_byte, masked, length_size, len, mask);
  start = out->len;
  if (len > 0)
    g_byte_array_append (out, bytes, len);
  if (masked)
    for (i = 0; i < len; i++)
      out->data[start + i] ^= mask[i & 3];
}

/* A frame as a peer of a @receiver would send it: masked to a server. */
static void
append_frame (GByteArray  *out,
              GcWsRole     receiver,
              guint8       first_byte,
              const void  *payload,
              gsize        len)
{
  append_frame_full (out, first_byte, receiver == GC_WS_ROLE_SERVER, 0, payload, len);
}

static void
append_frame_str (GByteArray *out,
                  GcWsRole    receiver,
                  guint8      first_byte,
                  const char *payload)
{
  append_frame (out, receiver, first_byte, payload, strlen (payload));
}

static void
append_close (GByteArray *out,
              GcWsRole    receiver,
              guint16     code,
              const char *reason,
              gsize       reason_len)
{
  guint8 body[256];

  g_assert_cmpuint (reason_len, <=, sizeof body - 2);
  body[0] = code >> 8;
  body[1] = code & 0xff;
  if (reason_len > 0)
    memcpy (body + 2, reason, reason_len);
  append_frame (out, receiver, FIN | GC_WS_OPCODE_CLOSE, body, reason_len + 2);
}

static gsize
header_size_to (GcWsRole receiver,
                gsize    len)
{
  return gc_ws_frame_header_size (len, receiver == GC_WS_ROLE_SERVER);
}

/* --- Parsing and recording what came out ---------------------------------- */

typedef struct {
  GcWsOpcode opcode;
  GBytes *payload;
} Event;

typedef struct {
  GArray *events;
  GError *error;
  /* Bytes fed when the error came (or all of them). */
  gsize fed;
  gsize buffered_after;
  /* The callback returns FALSE on this event (1-based); 0 = never. */
  guint stop_at;
} ParseResult;

static void
event_clear (gpointer data)
{
  Event *event = data;

  g_bytes_unref (event->payload);
}

static ParseResult *
parse_result_new (void)
{
  ParseResult *result = g_new0 (ParseResult, 1);

  result->events = g_array_new (FALSE, TRUE, sizeof (Event));
  g_array_set_clear_func (result->events, event_clear);

  return result;
}

static void
parse_result_free (ParseResult *result)
{
  g_array_unref (result->events);
  g_clear_error (&result->error);
  g_free (result);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (ParseResult, parse_result_free)

static gboolean
record_event (GcWsOpcode  opcode,
              GBytes     *payload,
              gpointer    user_data)
{
  ParseResult *result = user_data;
  Event event = { opcode, g_bytes_ref (payload) };

  g_assert_nonnull (payload);
  g_array_append_val (result->events, event);

  return result->stop_at == 0 || result->events->len < result->stop_at;
}

/* Feeds @len bytes in chunks of @chunk (0 = at once) until the end or the
 * first error. */
static void
feed_into (GcWsParser   *parser,
           ParseResult  *result,
           const guint8 *data,
           gsize         len,
           gsize         chunk)
{
  gsize pos = 0;

  if (chunk == 0)
    chunk = MAX (len, 1);

  do
    {
      gsize n = MIN (chunk, len - pos);

      if (!gc_ws_parser_feed (parser, data + pos, n, record_event, result, &result->error))
        {
          result->fed += n;
          return;
        }
      result->fed += n;
      pos += n;
    }
  while (pos < len);
}

static ParseResult *
parse_with_stop (GcWsRole      role,
                 guint64       max_message_size,
                 const guint8 *data,
                 gsize         len,
                 gsize         chunk,
                 guint         stop_at)
{
  g_autoptr(GcWsParser) parser = gc_ws_parser_new (role, max_message_size);
  ParseResult *result = parse_result_new ();

  result->stop_at = stop_at;
  feed_into (parser, result, data, len, chunk);
  result->buffered_after = gc_ws_parser_get_buffered (parser);

  return result;
}

static ParseResult *
parse (GcWsRole      role,
       guint64       max_message_size,
       const guint8 *data,
       gsize         len,
       gsize         chunk)
{
  return parse_with_stop (role, max_message_size, data, len, chunk, 0);
}

static ParseResult *
parse_array (GcWsRole    role,
             guint64     max_message_size,
             GByteArray *frames,
             gsize       chunk)
{
  return parse (role, max_message_size, frames->data, frames->len, chunk);
}

static void
assert_event (ParseResult *result,
              guint        index,
              GcWsOpcode   opcode,
              const void  *payload,
              gsize        len)
{
  Event *event;

  g_assert_cmpuint (index, <, result->events->len);
  event = &g_array_index (result->events, Event, index);
  g_assert_cmpint (event->opcode, ==, opcode);
  g_assert_cmpmem (g_bytes_get_data (event->payload, NULL), g_bytes_get_size (event->payload),
                   payload, len);
}

static void
assert_ok (ParseResult *result,
           gsize        total,
           guint        n_events)
{
  g_assert_no_error (result->error);
  g_assert_cmpuint (result->fed, ==, total);
  g_assert_cmpuint (result->events->len, ==, n_events);
  g_assert_cmpuint (result->buffered_after, ==, 0);
}

/* The error is @code and came once @fed bytes were in (checked when the
 * input went in one byte at a time). */
static void
assert_fails_at (ParseResult *result,
                 gsize        chunk,
                 int          code,
                 gsize        fed)
{
  g_assert_error (result->error, GC_WS_ERROR, code);
  if (chunk == 1)
    g_assert_cmpuint (result->fed, ==, fed);
  g_assert_cmpuint (result->buffered_after, ==, 0);
}

static guint8 *
make_payload (GcWsOpcode opcode,
              gsize      len)
{
  guint8 *payload = g_malloc (MAX (len, 1));
  gsize i;

  for (i = 0; i < len; i++)
    payload[i] = opcode == GC_WS_OPCODE_TEXT ? 'a' + i % 26 : (i * 7 + (i >> 8)) & 0xff;

  return payload;
}

/* --- 1: framing ------------------------------------------------------------ */

static const gsize framing_sizes[] = { 0, 125, 126, 127, 128, 65535, 65536 };

static void
test_framing (void)
{
  static const GcWsOpcode opcodes[] = { GC_WS_OPCODE_TEXT, GC_WS_OPCODE_BINARY };
  gsize r, o, s, c;

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    for (o = 0; o < G_N_ELEMENTS (opcodes); o++)
      {
        g_autoptr(GByteArray) all = g_byte_array_new ();

        for (s = 0; s < G_N_ELEMENTS (framing_sizes); s++)
          {
            g_autoptr(GByteArray) frame = g_byte_array_new ();
            g_autofree guint8 *payload = make_payload (opcodes[o], framing_sizes[s]);
            guint expected_length_field;

            append_frame (frame, roles[r], FIN | opcodes[o], payload, framing_sizes[s]);
            append_frame (all, roles[r], FIN | opcodes[o], payload, framing_sizes[s]);

            expected_length_field = framing_sizes[s] <= 125 ? framing_sizes[s]
                                    : framing_sizes[s] <= 65535 ? 126 : 127;
            g_assert_cmpuint (frame->data[1] & 0x7f, ==, expected_length_field);

            for (c = 0; c < G_N_ELEMENTS (chunkings); c++)
              {
                g_autoptr(ParseResult) result = parse_array (roles[r], 0, frame, chunkings[c]);

                assert_ok (result, frame->len, 1);
                assert_event (result, 0, opcodes[o], payload, framing_sizes[s]);
              }
          }

        /* Many frames in one buffer, and the same buffer in chunks. */
        for (c = 0; c < G_N_ELEMENTS (chunkings); c++)
          {
            g_autoptr(ParseResult) result = parse_array (roles[r], 0, all, chunkings[c]);

            assert_ok (result, all->len, G_N_ELEMENTS (framing_sizes));
            for (s = 0; s < G_N_ELEMENTS (framing_sizes); s++)
              {
                g_autofree guint8 *payload = make_payload (opcodes[o], framing_sizes[s]);

                assert_event (result, s, opcodes[o], payload, framing_sizes[s]);
              }
          }
      }
}

/* Masked payloads fed in odd-sized pieces keep the key phase right. */
static void
test_mask_phase_across_chunks (void)
{
  g_autoptr(GByteArray) frame = g_byte_array_new ();
  g_autofree guint8 *payload = make_payload (GC_WS_OPCODE_BINARY, 5000);
  g_autoptr(GcWsParser) parser = gc_ws_parser_new (GC_WS_ROLE_SERVER, 0);
  g_autoptr(ParseResult) result = parse_result_new ();
  gsize pos = 0;
  gsize step = 1;

  append_frame (frame, GC_WS_ROLE_SERVER, FIN | GC_WS_OPCODE_BINARY, payload, 5000);
  while (pos < frame->len)
    {
      gsize n = MIN (step, frame->len - pos);

      g_assert_true (gc_ws_parser_feed (parser, frame->data + pos, n, record_event, result, &result->error));
      pos += n;
      step = step % 13 + 1;
    }

  g_assert_no_error (result->error);
  g_assert_cmpuint (result->events->len, ==, 1);
  assert_event (result, 0, GC_WS_OPCODE_BINARY, payload, 5000);
}

/* Senders must use minimal lengths; a receiver accepts longer encodings. */
static void
test_non_minimal_length (void)
{
  gsize r;

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    {
      g_autoptr(GByteArray) frames = g_byte_array_new ();
      g_autofree guint8 *payload = make_payload (GC_WS_OPCODE_TEXT, 300);
      g_autoptr(ParseResult) result = NULL;
      gboolean masked = roles[r] == GC_WS_ROLE_SERVER;

      append_frame_full (frames, FIN | GC_WS_OPCODE_TEXT, masked, 2, payload, 5);
      append_frame_full (frames, FIN | GC_WS_OPCODE_TEXT, masked, 8, payload, 5);
      append_frame_full (frames, FIN | GC_WS_OPCODE_BINARY, masked, 8, payload, 300);

      result = parse_array (roles[r], 0, frames, 1);
      assert_ok (result, frames->len, 3);
      assert_event (result, 0, GC_WS_OPCODE_TEXT, payload, 5);
      assert_event (result, 1, GC_WS_OPCODE_TEXT, payload, 5);
      assert_event (result, 2, GC_WS_OPCODE_BINARY, payload, 300);
    }
}

/* --- 2: ping and pong ------------------------------------------------------- */

static void
test_ping_pong (void)
{
  guint8 control[126];
  gsize r, c, i;

  /* Any bytes at all, including ones that are not UTF-8. */
  for (i = 0; i < sizeof control; i++)
    control[i] = 0xff - i;

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    for (c = 0; c < G_N_ELEMENTS (chunkings); c++)
      {
        g_autoptr(GByteArray) frames = g_byte_array_new ();
        g_autoptr(ParseResult) result = NULL;

        append_frame (frames, roles[r], FIN | GC_WS_OPCODE_PING, NULL, 0);
        append_frame (frames, roles[r], FIN | GC_WS_OPCODE_PING, control, 125);
        append_frame (frames, roles[r], FIN | GC_WS_OPCODE_PONG, NULL, 0);
        append_frame (frames, roles[r], FIN | GC_WS_OPCODE_PONG, control, 125);
        append_frame (frames, roles[r], FIN | GC_WS_OPCODE_PING, "hello", 5);

        result = parse_array (roles[r], 0, frames, chunkings[c]);
        assert_ok (result, frames->len, 5);
        assert_event (result, 0, GC_WS_OPCODE_PING, NULL, 0);
        assert_event (result, 1, GC_WS_OPCODE_PING, control, 125);
        assert_event (result, 2, GC_WS_OPCODE_PONG, NULL, 0);
        assert_event (result, 3, GC_WS_OPCODE_PONG, control, 125);
        assert_event (result, 4, GC_WS_OPCODE_PING, "hello", 5);
      }

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    for (c = 0; c < G_N_ELEMENTS (chunkings); c++)
      {
        g_autoptr(GByteArray) too_long = g_byte_array_new ();
        g_autoptr(GByteArray) fragmented = g_byte_array_new ();
        g_autoptr(GByteArray) pong_fragmented = g_byte_array_new ();
        g_autoptr(GByteArray) extended = g_byte_array_new ();
        g_autoptr(ParseResult) r1 = NULL;
        g_autoptr(ParseResult) r2 = NULL;
        g_autoptr(ParseResult) r3 = NULL;
        g_autoptr(ParseResult) r4 = NULL;

        /* 126 bytes: known bad from the second header byte. */
        append_frame (too_long, roles[r], FIN | GC_WS_OPCODE_PING, control, 126);
        r1 = parse_array (roles[r], 0, too_long, chunkings[c]);
        assert_fails_at (r1, chunkings[c], GC_WS_CLOSE_PROTOCOL_ERROR, 2);
        g_assert_cmpuint (r1->events->len, ==, 0);

        append_frame_str (fragmented, roles[r], GC_WS_OPCODE_PING, "frag");
        r2 = parse_array (roles[r], 0, fragmented, chunkings[c]);
        assert_fails_at (r2, chunkings[c], GC_WS_CLOSE_PROTOCOL_ERROR, 1);

        append_frame_str (pong_fragmented, roles[r], GC_WS_OPCODE_PONG, "frag");
        r3 = parse_array (roles[r], 0, pong_fragmented, chunkings[c]);
        assert_fails_at (r3, chunkings[c], GC_WS_CLOSE_PROTOCOL_ERROR, 1);

        /* A control frame cannot use an extended length, not even for a
         * small payload. */
        append_frame_full (extended, FIN | GC_WS_OPCODE_PING, roles[r] == GC_WS_ROLE_SERVER, 2, "x", 1);
        r4 = parse_array (roles[r], 0, extended, chunkings[c]);
        assert_fails_at (r4, chunkings[c], GC_WS_CLOSE_PROTOCOL_ERROR, 2);
      }
}

/* --- 3: reserved bits -------------------------------------------------------- */

static void
test_reserved_bits (void)
{
  static const guint8 rsv_bits[] = { RSV1, RSV2, RSV3, RSV1 | RSV2, RSV1 | RSV2 | RSV3 };
  static const guint8 opcodes[] = {
    GC_WS_OPCODE_TEXT, GC_WS_OPCODE_BINARY, GC_WS_OPCODE_PING, GC_WS_OPCODE_PONG, GC_WS_OPCODE_CLOSE,
  };
  gsize r, b, o, c;

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    for (b = 0; b < G_N_ELEMENTS (rsv_bits); b++)
      for (o = 0; o < G_N_ELEMENTS (opcodes); o++)
        for (c = 0; c < G_N_ELEMENTS (chunkings); c++)
          {
            g_autoptr(GByteArray) frames = g_byte_array_new ();
            g_autoptr(ParseResult) result = NULL;
            gsize first_len;

            /* A good message first: it still comes out (Autobahn 3.2). */
            append_frame_str (frames, roles[r], FIN | GC_WS_OPCODE_TEXT, "ok");
            first_len = frames->len;
            append_frame (frames, roles[r], FIN | rsv_bits[b] | opcodes[o], NULL, 0);
            append_frame (frames, roles[r], FIN | GC_WS_OPCODE_PING, NULL, 0);

            result = parse_array (roles[r], 0, frames, chunkings[c]);
            assert_fails_at (result, chunkings[c], GC_WS_CLOSE_PROTOCOL_ERROR, first_len + 1);
            g_assert_cmpuint (result->events->len, ==, 1);
            assert_event (result, 0, GC_WS_OPCODE_TEXT, "ok", 2);
          }
}

/* --- 4: opcodes ------------------------------------------------------------ */

static void
test_reserved_opcodes (void)
{
  static const guint8 reserved[] = { 3, 4, 5, 6, 7, 0xb, 0xc, 0xd, 0xe, 0xf };
  gsize r, o, c;

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    for (o = 0; o < G_N_ELEMENTS (reserved); o++)
      for (c = 0; c < G_N_ELEMENTS (chunkings); c++)
        {
          g_autoptr(GByteArray) frames = g_byte_array_new ();
          g_autoptr(GByteArray) unfinished = g_byte_array_new ();
          g_autoptr(ParseResult) result = NULL;
          g_autoptr(ParseResult) result2 = NULL;
          gsize first_len;

          append_frame_str (frames, roles[r], FIN | GC_WS_OPCODE_TEXT, "ok");
          first_len = frames->len;
          append_frame_str (frames, roles[r], FIN | reserved[o], "payload");

          result = parse_array (roles[r], 0, frames, chunkings[c]);
          assert_fails_at (result, chunkings[c], GC_WS_CLOSE_PROTOCOL_ERROR, first_len + 1);
          g_assert_cmpuint (result->events->len, ==, 1);

          append_frame_str (unfinished, roles[r], reserved[o], "payload");
          result2 = parse_array (roles[r], 0, unfinished, chunkings[c]);
          assert_fails_at (result2, chunkings[c], GC_WS_CLOSE_PROTOCOL_ERROR, 1);
        }
}

/* --- 5: fragmentation -------------------------------------------------------- */

static void
test_fragmentation (void)
{
  gsize r, c;

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    for (c = 0; c < G_N_ELEMENTS (chunkings); c++)
      {
        GcWsRole role = roles[r];
        gsize chunk = chunkings[c];
        g_autoptr(GByteArray) two = g_byte_array_new ();
        g_autoptr(GByteArray) interleaved = g_byte_array_new ();
        g_autoptr(GByteArray) empty = g_byte_array_new ();
        g_autoptr(GByteArray) close_inside = g_byte_array_new ();
        g_autoptr(ParseResult) r_two = NULL;
        g_autoptr(ParseResult) r_interleaved = NULL;
        g_autoptr(ParseResult) r_empty = NULL;
        g_autoptr(ParseResult) r_close = NULL;

        append_frame_str (two, role, GC_WS_OPCODE_TEXT, "frag");
        append_frame_str (two, role, FIN | GC_WS_OPCODE_CONTINUATION, "ment");
        append_frame_str (two, role, GC_WS_OPCODE_BINARY, "a");
        append_frame_str (two, role, GC_WS_OPCODE_CONTINUATION, "b");
        append_frame_str (two, role, FIN | GC_WS_OPCODE_CONTINUATION, "c");
        r_two = parse_array (role, 0, two, chunk);
        assert_ok (r_two, two->len, 2);
        assert_event (r_two, 0, GC_WS_OPCODE_TEXT, "fragment", 8);
        assert_event (r_two, 1, GC_WS_OPCODE_BINARY, "abc", 3);

        /* Control frames may come between fragments, and come out first. */
        append_frame_str (interleaved, role, GC_WS_OPCODE_TEXT, "a");
        append_frame_str (interleaved, role, FIN | GC_WS_OPCODE_PING, "p");
        append_frame_str (interleaved, role, GC_WS_OPCODE_CONTINUATION, "b");
        append_frame_str (interleaved, role, FIN | GC_WS_OPCODE_PONG, "q");
        append_frame_str (interleaved, role, FIN | GC_WS_OPCODE_CONTINUATION, "c");
        r_interleaved = parse_array (role, 0, interleaved, chunk);
        assert_ok (r_interleaved, interleaved->len, 3);
        assert_event (r_interleaved, 0, GC_WS_OPCODE_PING, "p", 1);
        assert_event (r_interleaved, 1, GC_WS_OPCODE_PONG, "q", 1);
        assert_event (r_interleaved, 2, GC_WS_OPCODE_TEXT, "abc", 3);

        /* Empty fragments make an empty message. */
        append_frame (empty, role, GC_WS_OPCODE_TEXT, NULL, 0);
        append_frame (empty, role, GC_WS_OPCODE_CONTINUATION, NULL, 0);
        append_frame (empty, role, FIN | GC_WS_OPCODE_CONTINUATION, NULL, 0);
        append_frame (empty, role, GC_WS_OPCODE_BINARY, NULL, 0);
        append_frame_str (empty, role, FIN | GC_WS_OPCODE_CONTINUATION, "x");
        r_empty = parse_array (role, 0, empty, chunk);
        assert_ok (r_empty, empty->len, 2);
        assert_event (r_empty, 0, GC_WS_OPCODE_TEXT, "", 0);
        assert_event (r_empty, 1, GC_WS_OPCODE_BINARY, "x", 1);

        append_frame_str (close_inside, role, GC_WS_OPCODE_TEXT, "unfinished");
        append_close (close_inside, role, 1000, NULL, 0);
        r_close = parse_array (role, 0, close_inside, chunk);
        g_assert_no_error (r_close->error);
        g_assert_cmpuint (r_close->events->len, ==, 1);
        assert_event (r_close, 0, GC_WS_OPCODE_CLOSE, "\x03\xe8", 2);
      }
}

static void
test_fragmentation_errors (void)
{
  gsize r, c;

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    for (c = 0; c < G_N_ELEMENTS (chunkings); c++)
      {
        GcWsRole role = roles[r];
        gsize chunk = chunkings[c];
        g_autoptr(GByteArray) lone = g_byte_array_new ();
        g_autoptr(GByteArray) lone_fin = g_byte_array_new ();
        g_autoptr(GByteArray) after_message = g_byte_array_new ();
        g_autoptr(GByteArray) text_in_text = g_byte_array_new ();
        g_autoptr(GByteArray) binary_in_text = g_byte_array_new ();
        g_autoptr(ParseResult) r1 = NULL;
        g_autoptr(ParseResult) r2 = NULL;
        g_autoptr(ParseResult) r3 = NULL;
        g_autoptr(ParseResult) r4 = NULL;
        g_autoptr(ParseResult) r5 = NULL;
        gsize first_len;

        append_frame_str (lone, role, GC_WS_OPCODE_CONTINUATION, "x");
        r1 = parse_array (role, 0, lone, chunk);
        assert_fails_at (r1, chunk, GC_WS_CLOSE_PROTOCOL_ERROR, 1);

        append_frame_str (lone_fin, role, FIN | GC_WS_OPCODE_CONTINUATION, "x");
        r2 = parse_array (role, 0, lone_fin, chunk);
        assert_fails_at (r2, chunk, GC_WS_CLOSE_PROTOCOL_ERROR, 1);

        append_frame_str (after_message, role, FIN | GC_WS_OPCODE_TEXT, "done");
        first_len = after_message->len;
        append_frame_str (after_message, role, FIN | GC_WS_OPCODE_CONTINUATION, "more");
        r3 = parse_array (role, 0, after_message, chunk);
        assert_fails_at (r3, chunk, GC_WS_CLOSE_PROTOCOL_ERROR, first_len + 1);
        g_assert_cmpuint (r3->events->len, ==, 1);

        append_frame_str (text_in_text, role, GC_WS_OPCODE_TEXT, "one");
        first_len = text_in_text->len;
        append_frame_str (text_in_text, role, FIN | GC_WS_OPCODE_TEXT, "two");
        r4 = parse_array (role, 0, text_in_text, chunk);
        assert_fails_at (r4, chunk, GC_WS_CLOSE_PROTOCOL_ERROR, first_len + 1);

        append_frame_str (binary_in_text, role, GC_WS_OPCODE_TEXT, "one");
        append_frame_str (binary_in_text, role, FIN | GC_WS_OPCODE_PING, "");
        first_len = binary_in_text->len;
        append_frame_str (binary_in_text, role, GC_WS_OPCODE_BINARY, "two");
        r5 = parse_array (role, 0, binary_in_text, chunk);
        assert_fails_at (r5, chunk, GC_WS_CLOSE_PROTOCOL_ERROR, first_len + 1);
        g_assert_cmpuint (r5->events->len, ==, 1);
      }
}

/* A text message of mixed 1- to 4-byte characters in 1000 fragments of 0
 * to 5 bytes, so that characters straddle fragment boundaries. */
static void
test_many_fragments (void)
{
  static const char *pieces[] = { "a", "\xc3\xa9", "\xe2\x82\xac", "\xf0\x9f\x98\x80", "z" };
  gsize r, c, i;

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    {
      g_autoptr(GString) text = g_string_new (NULL);
      g_autoptr(GByteArray) frames = g_byte_array_new ();
      gsize pos = 0;

      for (i = 0; i < 1200; i++)
        g_string_append (text, pieces[(i * 7) % G_N_ELEMENTS (pieces)]);

      for (i = 0; i < 999; i++)
        {
          gsize n = MIN (i % 6, text->len - pos);

          append_frame (frames, roles[r], i == 0 ? GC_WS_OPCODE_TEXT : GC_WS_OPCODE_CONTINUATION,
                        text->str + pos, n);
          pos += n;
        }
      append_frame (frames, roles[r], FIN | GC_WS_OPCODE_CONTINUATION, text->str + pos, text->len - pos);

      for (c = 0; c < G_N_ELEMENTS (chunkings); c++)
        {
          g_autoptr(ParseResult) result = parse_array (roles[r], 0, frames, chunkings[c]);

          assert_ok (result, frames->len, 1);
          assert_event (result, 0, GC_WS_OPCODE_TEXT, text->str, text->len);
        }
    }
}

/* --- 6: UTF-8 ------------------------------------------------------------- */

typedef struct {
  const char *bytes;
  gsize len;
} Utf8Case;

#define UTF8_CASE(s) { s, sizeof (s) - 1 }

static const Utf8Case valid_utf8[] = {
  UTF8_CASE (""),
  UTF8_CASE ("Hello-\xc2\xb5@\xc3\x9f\xc3\xb6\xc3\xa4\xc3\xbc\xc3\xa0\xc3\xa1-UTF-8!!"),
  UTF8_CASE ("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"),   /* κόσμε */
  UTF8_CASE ("\x00"),                                          /* U+0000 */
  UTF8_CASE ("\x7f"),
  UTF8_CASE ("\xc2\x80"),                                      /* U+0080 */
  UTF8_CASE ("\xdf\xbf"),                                      /* U+07FF */
  UTF8_CASE ("\xe0\xa0\x80"),                                  /* U+0800 */
  UTF8_CASE ("\xed\x9f\xbf"),                                  /* U+D7FF */
  UTF8_CASE ("\xee\x80\x80"),                                  /* U+E000 */
  UTF8_CASE ("\xef\xbf\xbd"),                                  /* U+FFFD */
  UTF8_CASE ("\xef\xbf\xbf"),                                  /* U+FFFF */
  UTF8_CASE ("\xf0\x90\x80\x80"),                              /* U+10000 */
  UTF8_CASE ("\xf0\x9f\x98\x80"),                              /* U+1F600 */
  UTF8_CASE ("\xf4\x8f\xbf\xbf"),                              /* U+10FFFF */
};

typedef struct {
  const char *bytes;
  gsize len;
  /* Index of the first byte that makes the text invalid. */
  gsize bad_at;
} BadUtf8Case;

#define BAD_UTF8_CASE(s, at) { s, sizeof (s) - 1, at }

static const BadUtf8Case invalid_utf8[] = {
  BAD_UTF8_CASE ("\x80", 0),
  BAD_UTF8_CASE ("\xbf", 0),
  BAD_UTF8_CASE ("\xc0\x80", 0),                   /* overlong U+0000 */
  BAD_UTF8_CASE ("\xc1\xbf", 0),                   /* overlong U+007F */
  BAD_UTF8_CASE ("\xe0\x80\x80", 1),               /* overlong */
  BAD_UTF8_CASE ("\xe0\x9f\xbf", 1),               /* overlong U+07FF */
  BAD_UTF8_CASE ("\xf0\x80\x80\x80", 1),           /* overlong */
  BAD_UTF8_CASE ("\xf0\x8f\xbf\xbf", 1),           /* overlong U+FFFF */
  BAD_UTF8_CASE ("\xed\xa0\x80", 1),               /* U+D800 */
  BAD_UTF8_CASE ("\xed\xbf\xbf", 1),               /* U+DFFF */
  BAD_UTF8_CASE ("\xed\xa0\x80\xed\xb0\x80", 1),   /* surrogate pair */
  BAD_UTF8_CASE ("\xf4\x90\x80\x80", 1),           /* U+110000 */
  BAD_UTF8_CASE ("\xf5\x80\x80\x80", 0),
  BAD_UTF8_CASE ("\xf8\x88\x80\x80\x80", 0),
  BAD_UTF8_CASE ("\xfe", 0),
  BAD_UTF8_CASE ("\xff", 0),
  BAD_UTF8_CASE ("a\xc2" "a", 2),                  /* missing continuation */
  BAD_UTF8_CASE ("\xe2\x82" "a", 2),
  BAD_UTF8_CASE ("\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5\xed\xa0\x80\x65\x64\x69\x74\x65\x64", 12),
  BAD_UTF8_CASE ("0123456789abcdef0123456789\xff", 26),
};

/* Ends inside a character: only the end of the message makes it wrong. */
static const Utf8Case truncated_utf8[] = {
  UTF8_CASE ("\xc3"),
  UTF8_CASE ("\xe2\x82"),
  UTF8_CASE ("a\xf0\x9f\x98"),
  UTF8_CASE ("\xce\xba\xe1\xbd"),
};

static void
test_utf8_valid (void)
{
  gsize r, c, i, split;

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    for (i = 0; i < G_N_ELEMENTS (valid_utf8); i++)
      {
        const Utf8Case *text = &valid_utf8[i];
        g_autoptr(GByteArray) frame = g_byte_array_new ();

        append_frame (frame, roles[r], FIN | GC_WS_OPCODE_TEXT, text->bytes, text->len);
        for (c = 0; c < G_N_ELEMENTS (chunkings); c++)
          {
            g_autoptr(ParseResult) result = parse_array (roles[r], 0, frame, chunkings[c]);

            assert_ok (result, frame->len, 1);
            assert_event (result, 0, GC_WS_OPCODE_TEXT, text->bytes, text->len);
          }

        /* Split into two fragments at every position. */
        for (split = 0; split <= text->len; split++)
          {
            g_autoptr(GByteArray) frames = g_byte_array_new ();
            g_autoptr(ParseResult) result = NULL;

            append_frame (frames, roles[r], GC_WS_OPCODE_TEXT, text->bytes, split);
            append_frame (frames, roles[r], FIN | GC_WS_OPCODE_PING, NULL, 0);
            append_frame (frames, roles[r], FIN | GC_WS_OPCODE_CONTINUATION,
                          text->bytes + split, text->len - split);
            result = parse_array (roles[r], 0, frames, 1);
            assert_ok (result, frames->len, 2);
            assert_event (result, 1, GC_WS_OPCODE_TEXT, text->bytes, text->len);
          }
      }
}

/* The one-shot check that senders use agrees with the parser: U+0000
 * included (g_utf8_validate() refuses it), invalid and truncated text
 * refused. */
static void
test_utf8_validate_whole (void)
{
  for (gsize i = 0; i < G_N_ELEMENTS (valid_utf8); i++)
    g_assert_true (gc_ws_utf8_validate ((const guint8 *) valid_utf8[i].bytes, valid_utf8[i].len));
  for (gsize i = 0; i < G_N_ELEMENTS (invalid_utf8); i++)
    g_assert_false (gc_ws_utf8_validate ((const guint8 *) invalid_utf8[i].bytes, invalid_utf8[i].len));
  for (gsize i = 0; i < G_N_ELEMENTS (truncated_utf8); i++)
    g_assert_false (gc_ws_utf8_validate ((const guint8 *) truncated_utf8[i].bytes, truncated_utf8[i].len));

  g_assert_false (g_utf8_validate_len ("\0", 1, NULL));
  g_assert_true (gc_ws_utf8_validate ((const guint8 *) "\0", 1));
  g_assert_true (gc_ws_utf8_validate ((const guint8 *) "a\0b\0", 4));
  g_assert_true (gc_ws_utf8_validate (NULL, 0));
}

static void
test_utf8_invalid (void)
{
  gsize r, c, i, split;

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    for (i = 0; i < G_N_ELEMENTS (invalid_utf8); i++)
      {
        const BadUtf8Case *text = &invalid_utf8[i];
        g_autoptr(GByteArray) frame = g_byte_array_new ();
        g_autoptr(GByteArray) binary = g_byte_array_new ();
        g_autoptr(ParseResult) binary_result = NULL;
        gsize header = header_size_to (roles[r], text->len);

        append_frame (frame, roles[r], FIN | GC_WS_OPCODE_TEXT, text->bytes, text->len);
        for (c = 0; c < G_N_ELEMENTS (chunkings); c++)
          {
            g_autoptr(ParseResult) result = parse_array (roles[r], 0, frame, chunkings[c]);

            /* Byte by byte, the error comes with the bad byte. */
            assert_fails_at (result, chunkings[c], GC_WS_CLOSE_BAD_DATA, header + text->bad_at + 1);
            g_assert_cmpuint (result->events->len, ==, 0);
          }

        /* Split across two fragments: still caught at the bad byte. */
        for (split = 0; split <= text->len; split++)
          {
            g_autoptr(GByteArray) frames = g_byte_array_new ();
            g_autoptr(ParseResult) result = NULL;
            gsize bad_offset;

            append_frame (frames, roles[r], GC_WS_OPCODE_TEXT, text->bytes, split);
            bad_offset = frames->len;
            append_frame (frames, roles[r], FIN | GC_WS_OPCODE_CONTINUATION,
                          text->bytes + split, text->len - split);
            if (text->bad_at < split)
              bad_offset = header_size_to (roles[r], split) + text->bad_at;
            else
              bad_offset += header_size_to (roles[r], text->len - split) + text->bad_at - split;

            result = parse_array (roles[r], 0, frames, 1);
            assert_fails_at (result, 1, GC_WS_CLOSE_BAD_DATA, bad_offset + 1);
          }

        /* The same bytes as a binary message are fine. */
        append_frame (binary, roles[r], FIN | GC_WS_OPCODE_BINARY, text->bytes, text->len);
        binary_result = parse_array (roles[r], 0, binary, 1);
        assert_ok (binary_result, binary->len, 1);
      }
}

static void
test_utf8_truncated (void)
{
  gsize r, c, i;

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    for (i = 0; i < G_N_ELEMENTS (truncated_utf8); i++)
      {
        const Utf8Case *text = &truncated_utf8[i];
        g_autoptr(GByteArray) frame = g_byte_array_new ();
        g_autoptr(GByteArray) fragments = g_byte_array_new ();
        g_autoptr(ParseResult) fragments_result = NULL;
        gsize before_last;

        append_frame (frame, roles[r], FIN | GC_WS_OPCODE_TEXT, text->bytes, text->len);
        for (c = 0; c < G_N_ELEMENTS (chunkings); c++)
          {
            g_autoptr(ParseResult) result = parse_array (roles[r], 0, frame, chunkings[c]);

            /* Not before the last byte: the message could still go on. */
            assert_fails_at (result, chunkings[c], GC_WS_CLOSE_BAD_DATA, frame->len);
          }

        /* A non-final fragment may end mid-character; the final one may not. */
        append_frame (fragments, roles[r], GC_WS_OPCODE_TEXT, text->bytes, text->len);
        append_frame (fragments, roles[r], FIN | GC_WS_OPCODE_PING, NULL, 0);
        before_last = fragments->len;
        append_frame (fragments, roles[r], FIN | GC_WS_OPCODE_CONTINUATION, NULL, 0);
        fragments_result = parse_array (roles[r], 0, fragments, 1);
        assert_fails_at (fragments_result, 1, GC_WS_CLOSE_BAD_DATA, fragments->len);
        g_assert_cmpuint (before_last, <, fragments->len);
        g_assert_cmpuint (fragments_result->events->len, ==, 1);
      }
}

/* A header promises 100 bytes; the fifth of the first five is bad. The
 * error must come now, not when the other 95 arrive. */
static void
test_utf8_fail_fast (void)
{
  static const guint8 start[] = { 'a', 'b', 'c', 'd', 0xff };
  gsize r;

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    {
      g_autoptr(GByteArray) frame = g_byte_array_new ();
      g_autoptr(GByteArray) fragmented = g_byte_array_new ();
      g_autofree guint8 *payload = make_payload (GC_WS_OPCODE_TEXT, 100);
      g_autoptr(GcWsParser) parser = gc_ws_parser_new (roles[r], 0);
      g_autoptr(GcWsParser) parser2 = gc_ws_parser_new (roles[r], 0);
      g_autoptr(ParseResult) result = parse_result_new ();
      g_autoptr(ParseResult) result2 = parse_result_new ();
      gsize header = header_size_to (roles[r], 100);

      memcpy (payload, start, sizeof start);
      append_frame (frame, roles[r], FIN | GC_WS_OPCODE_TEXT, payload, 100);

      feed_into (parser, result, frame->data, header + 4, 0);
      g_assert_no_error (result->error);
      feed_into (parser, result, frame->data + header + 4, 1, 0);
      g_assert_error (result->error, GC_WS_ERROR, GC_WS_CLOSE_BAD_DATA);
      g_assert_cmpuint (result->events->len, ==, 0);
      g_assert_cmpuint (gc_ws_parser_get_buffered (parser), ==, 0);

      /* The same inside the second fragment of a message. */
      append_frame_str (fragmented, roles[r], GC_WS_OPCODE_TEXT, "first fragment \xe2\x82");
      append_frame (fragmented, roles[r], FIN | GC_WS_OPCODE_CONTINUATION, payload, 100);
      /* Breaks the € begun in the first fragment at once. */
      feed_into (parser2, result2, fragmented->data, fragmented->len - 100, 0);
      g_assert_no_error (result2->error);
      feed_into (parser2, result2, fragmented->data + fragmented->len - 100, 1, 0);
      g_assert_error (result2->error, GC_WS_ERROR, GC_WS_CLOSE_BAD_DATA);
    }
}

/* A straightforward decoder to check the DFA against. */
static gboolean
reference_utf8_valid (const guint8 *s,
                      gsize         len)
{
  gsize i = 0;

  while (i < len)
    {
      guint32 cp;
      gsize n, k;

      if (s[i] < 0x80)
        {
          i++;
          continue;
        }
      else if ((s[i] & 0xe0) == 0xc0)
        {
          n = 1;
          cp = s[i] & 0x1f;
        }
      else if ((s[i] & 0xf0) == 0xe0)
        {
          n = 2;
          cp = s[i] & 0x0f;
        }
      else if ((s[i] & 0xf8) == 0xf0)
        {
          n = 3;
          cp = s[i] & 0x07;
        }
      else
        {
          return FALSE;
        }

      if (i + n >= len)
        return FALSE;
      for (k = 1; k <= n; k++)
        {
          if ((s[i + k] & 0xc0) != 0x80)
            return FALSE;
          cp = (cp << 6) | (s[i + k] & 0x3f);
        }
      if ((n == 1 && cp < 0x80) || (n == 2 && cp < 0x800) || (n == 3 && cp < 0x10000))
        return FALSE;
      if ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
        return FALSE;
      i += n + 1;
    }

  return TRUE;
}

static gboolean
dfa_valid (const guint8 *s,
           gsize         len)
{
  GcWsUtf8State state = { 0, };

  return gc_ws_utf8_validate_chunk (&state, s, len) && gc_ws_utf8_state_is_complete (&state);
}

/* Every code point, every 1- to 3-byte sequence, and 4-byte sequences with
 * the continuation bytes at and around their limits. */
static void
test_utf8_exhaustive (void)
{
  static const guint8 edges[] = { 0x00, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xff };
  guint32 cp;
  guint a, b, c, d;

  for (cp = 0; cp <= 0x10ffff; cp++)
    {
      char buf[8];
      int n = g_unichar_to_utf8 (cp, buf);
      gboolean surrogate = cp >= 0xd800 && cp <= 0xdfff;

      g_assert_cmpint (dfa_valid ((guint8 *) buf, n), ==, !surrogate);
    }

  for (a = 0; a < 256; a++)
    {
      guint8 one[1] = { a };

      g_assert_cmpint (dfa_valid (one, 1), ==, reference_utf8_valid (one, 1));
      for (b = 0; b < 256; b++)
        {
          guint8 two[2] = { a, b };

          g_assert_cmpint (dfa_valid (two, 2), ==, reference_utf8_valid (two, 2));
          if (a < 0xc0)
            continue;
          for (c = 0; c < 256; c++)
            {
              guint8 three[3] = { a, b, c };

              if (dfa_valid (three, 3) != reference_utf8_valid (three, 3))
                g_error ("DFA and reference differ on %02x %02x %02x", a, b, c);
            }
        }
    }

  for (a = 0xf0; a < 0x100; a++)
    for (b = 0; b < 256; b++)
      for (c = 0; c < G_N_ELEMENTS (edges); c++)
        for (d = 0; d < G_N_ELEMENTS (edges); d++)
          {
            guint8 four[4] = { a, b, edges[c], edges[d] };

            if (dfa_valid (four, 4) != reference_utf8_valid (four, 4))
              g_error ("DFA and reference differ on %02x %02x %02x %02x", a, b, edges[c], edges[d]);
          }
}

/* Validation state carries across chunks of any size, including inside
 * long ASCII runs where the validator skips ahead. */
static void
test_utf8_chunks (void)
{
  g_autoptr(GString) text = g_string_new (NULL);
  gsize i, step;

  for (i = 0; i < 300; i++)
    g_string_append (text, i % 17 == 0 ? "\xf0\x9f\x98\x80" : i % 5 == 0 ? "\xe2\x82\xac" : "abcdefghij");

  for (step = 1; step <= 40; step++)
    {
      GcWsUtf8State state = { 0, };
      gsize pos;

      for (pos = 0; pos < text->len; pos += step)
        g_assert_true (gc_ws_utf8_validate_chunk (&state, (guint8 *) text->str + pos,
                                                  MIN (step, text->len - pos)));
      g_assert_true (gc_ws_utf8_state_is_complete (&state));
    }

  /* Once rejected, stays rejected. */
  {
    GcWsUtf8State state = { 0, };

    g_assert_false (gc_ws_utf8_validate_chunk (&state, (const guint8 *) "\xff", 1));
    g_assert_false (gc_ws_utf8_validate_chunk (&state, (const guint8 *) "a", 1));
    g_assert_false (gc_ws_utf8_validate_chunk (&state, NULL, 0));
    g_assert_false (gc_ws_utf8_state_is_complete (&state));
  }
}

/* --- 7: close -------------------------------------------------------------- */

static const guint16 valid_close_codes[] = {
  1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014,
  3000, 3999, 4000, 4999,
};

static const guint16 invalid_close_codes[] = {
  0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535,
};

static void
test_close_codes (void)
{
  gsize r, i;

  for (i = 0; i < G_N_ELEMENTS (valid_close_codes); i++)
    g_assert_true (gc_ws_close_code_is_valid (valid_close_codes[i]));
  for (i = 0; i < G_N_ELEMENTS (invalid_close_codes); i++)
    g_assert_false (gc_ws_close_code_is_valid (invalid_close_codes[i]));

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    {
      for (i = 0; i < G_N_ELEMENTS (valid_close_codes); i++)
        {
          g_autoptr(GByteArray) frame = g_byte_array_new ();
          g_autoptr(ParseResult) result = NULL;
          g_autofree char *reason = NULL;
          gushort code = 0;
          gsize len;
          const guint8 *data;

          append_close (frame, roles[r], valid_close_codes[i], "bye", 3);
          result = parse_array (roles[r], 0, frame, 1);
          assert_ok (result, frame->len, 1);
          g_assert_cmpint (g_array_index (result->events, Event, 0).opcode, ==, GC_WS_OPCODE_CLOSE);

          data = g_bytes_get_data (g_array_index (result->events, Event, 0).payload, &len);
          g_assert_true (gc_ws_close_payload_parse (data, len, &code, &reason, NULL));
          g_assert_cmpuint (code, ==, valid_close_codes[i]);
          g_assert_cmpstr (reason, ==, "bye");
        }

      for (i = 0; i < G_N_ELEMENTS (invalid_close_codes); i++)
        {
          g_autoptr(GByteArray) frame = g_byte_array_new ();
          g_autoptr(ParseResult) result = NULL;

          append_close (frame, roles[r], invalid_close_codes[i], NULL, 0);
          result = parse_array (roles[r], 0, frame, 0);
          g_assert_error (result->error, GC_WS_ERROR, GC_WS_CLOSE_PROTOCOL_ERROR);
          g_assert_cmpuint (result->events->len, ==, 0);
        }
    }
}

static void
test_close_payload (void)
{
  char reason[124];
  gsize r, c;

  memset (reason, 'r', sizeof reason);

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    for (c = 0; c < G_N_ELEMENTS (chunkings); c++)
      {
        GcWsRole role = roles[r];
        gsize chunk = chunkings[c];
        g_autoptr(GByteArray) empty = g_byte_array_new ();
        g_autoptr(GByteArray) one_byte = g_byte_array_new ();
        g_autoptr(GByteArray) bad_reason = g_byte_array_new ();
        g_autoptr(GByteArray) cut_reason = g_byte_array_new ();
        g_autoptr(GByteArray) longest = g_byte_array_new ();
        g_autoptr(GByteArray) too_long = g_byte_array_new ();
        g_autoptr(GByteArray) fragmented = g_byte_array_new ();
        g_autoptr(ParseResult) r_empty = NULL;
        g_autoptr(ParseResult) r_one = NULL;
        g_autoptr(ParseResult) r_bad = NULL;
        g_autoptr(ParseResult) r_cut = NULL;
        g_autoptr(ParseResult) r_longest = NULL;
        g_autoptr(ParseResult) r_too_long = NULL;
        g_autoptr(ParseResult) r_fragmented = NULL;

        append_frame (empty, role, FIN | GC_WS_OPCODE_CLOSE, NULL, 0);
        r_empty = parse_array (role, 0, empty, chunk);
        assert_ok (r_empty, empty->len, 1);
        assert_event (r_empty, 0, GC_WS_OPCODE_CLOSE, NULL, 0);

        append_frame (one_byte, role, FIN | GC_WS_OPCODE_CLOSE, "\x03", 1);
        r_one = parse_array (role, 0, one_byte, chunk);
        assert_fails_at (r_one, chunk, GC_WS_CLOSE_PROTOCOL_ERROR, one_byte->len);

        append_close (bad_reason, role, 1000, "bad \xff reason", 12);
        r_bad = parse_array (role, 0, bad_reason, chunk);
        assert_fails_at (r_bad, chunk, GC_WS_CLOSE_BAD_DATA, bad_reason->len);

        append_close (cut_reason, role, 1000, "cut \xe2\x82", 6);
        r_cut = parse_array (role, 0, cut_reason, chunk);
        assert_fails_at (r_cut, chunk, GC_WS_CLOSE_BAD_DATA, cut_reason->len);

        append_close (longest, role, 1000, reason, 123);
        r_longest = parse_array (role, 0, longest, chunk);
        assert_ok (r_longest, longest->len, 1);
        g_assert_cmpuint (g_bytes_get_size (g_array_index (r_longest->events, Event, 0).payload), ==, 125);

        append_close (too_long, role, 1000, reason, 124);
        r_too_long = parse_array (role, 0, too_long, chunk);
        assert_fails_at (r_too_long, chunk, GC_WS_CLOSE_PROTOCOL_ERROR, 2);

        append_frame (fragmented, role, GC_WS_OPCODE_CLOSE, "\x03\xe8", 2);
        r_fragmented = parse_array (role, 0, fragmented, chunk);
        assert_fails_at (r_fragmented, chunk, GC_WS_CLOSE_PROTOCOL_ERROR, 1);
      }
}

static void
test_close_payload_parse (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *reason = NULL;
  g_autofree char *nul_reason = NULL;
  gushort code = 0;

  g_assert_true (gc_ws_close_payload_parse (NULL, 0, &code, &reason, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (code, ==, GC_WS_CLOSE_NO_STATUS);
  g_assert_cmpstr (reason, ==, "");

  g_assert_false (gc_ws_close_payload_parse ((const guint8 *) "\x03", 1, &code, NULL, &error));
  g_assert_error (error, GC_WS_ERROR, GC_WS_CLOSE_PROTOCOL_ERROR);
  g_clear_error (&error);

  g_assert_false (gc_ws_close_payload_parse ((const guint8 *) "\x03\xed", 2, NULL, NULL, &error));
  g_assert_error (error, GC_WS_ERROR, GC_WS_CLOSE_PROTOCOL_ERROR);
  g_clear_error (&error);

  g_assert_false (gc_ws_close_payload_parse ((const guint8 *) "\x03\xe8\xc0\x80", 4, NULL, NULL, &error));
  g_assert_error (error, GC_WS_ERROR, GC_WS_CLOSE_BAD_DATA);
  g_clear_error (&error);

  /* U+0000 is valid UTF-8; the C string reason stops there. */
  g_assert_true (gc_ws_close_payload_parse ((const guint8 *) "\x0f\xa0" "ab\0cd", 7, &code, &nul_reason, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (code, ==, 4000);
  g_assert_cmpstr (nul_reason, ==, "ab");
}

/* --- stopping and failing ---------------------------------------------------- */

static void
test_stop_discards_rest (void)
{
  static const guint8 garbage[] = { 0xff, 0xff, 0x00, 0x01 };
  gsize r, c;

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    for (c = 0; c < G_N_ELEMENTS (chunkings); c++)
      {
        g_autoptr(GByteArray) frames = g_byte_array_new ();
        g_autoptr(GcWsParser) parser = gc_ws_parser_new (roles[r], 0);
        g_autoptr(ParseResult) result = parse_result_new ();

        append_frame_str (frames, roles[r], FIN | GC_WS_OPCODE_TEXT, "one");
        /* A message in progress when the callback stops is dropped too. */
        append_frame_str (frames, roles[r], GC_WS_OPCODE_TEXT, "partial");
        append_close (frames, roles[r], 1000, "bye", 3);
        append_frame_str (frames, roles[r], FIN | GC_WS_OPCODE_CONTINUATION, "two");
        append_frame_str (frames, roles[r], GC_WS_OPCODE_TEXT, "unfinished");
        g_byte_array_append (frames, garbage, sizeof garbage);

        result->stop_at = 2;
        feed_into (parser, result, frames->data, frames->len, chunkings[c]);
        g_assert_no_error (result->error);
        g_assert_cmpuint (result->events->len, ==, 2);
        assert_event (result, 0, GC_WS_OPCODE_TEXT, "one", 3);
        assert_event (result, 1, GC_WS_OPCODE_CLOSE, "\x03\xe8" "bye", 5);
        g_assert_cmpuint (gc_ws_parser_get_buffered (parser), ==, 0);

        /* And whatever comes later. */
        g_assert_true (gc_ws_parser_feed (parser, garbage, sizeof garbage, record_event, result, NULL));
        g_assert_true (gc_ws_parser_feed (parser, frames->data, frames->len, record_event, result, NULL));
        g_assert_cmpuint (result->events->len, ==, 2);
        g_assert_cmpuint (gc_ws_parser_get_buffered (parser), ==, 0);
      }
}

static void
test_stays_failed (void)
{
  gsize r;

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    {
      g_autoptr(GByteArray) bad = g_byte_array_new ();
      g_autoptr(GByteArray) good = g_byte_array_new ();
      g_autoptr(GcWsParser) parser = gc_ws_parser_new (roles[r], 0);
      g_autoptr(ParseResult) result = parse_result_new ();
      g_autoptr(GError) again = NULL;

      append_frame_str (bad, roles[r], GC_WS_OPCODE_TEXT, "half a message, then");
      append_frame_str (bad, roles[r], FIN | GC_WS_OPCODE_TEXT, "a new one");
      append_frame_str (good, roles[r], FIN | GC_WS_OPCODE_TEXT, "fine");

      feed_into (parser, result, bad->data, bad->len, 0);
      g_assert_error (result->error, GC_WS_ERROR, GC_WS_CLOSE_PROTOCOL_ERROR);
      g_assert_cmpuint (gc_ws_parser_get_buffered (parser), ==, 0);

      g_assert_false (gc_ws_parser_feed (parser, good->data, good->len, record_event, result, &again));
      g_assert_error (again, GC_WS_ERROR, GC_WS_CLOSE_PROTOCOL_ERROR);
      g_assert_cmpuint (result->events->len, ==, 0);
    }
}

/* --- masking ------------------------------------------------------------- */

static void
test_masking_rules (void)
{
  gsize c;

  for (c = 0; c < G_N_ELEMENTS (chunkings); c++)
    {
      g_autoptr(GByteArray) unmasked = g_byte_array_new ();
      g_autoptr(GByteArray) masked = g_byte_array_new ();
      g_autoptr(GByteArray) masked_ping = g_byte_array_new ();
      g_autoptr(ParseResult) to_server = NULL;
      g_autoptr(ParseResult) to_client = NULL;
      g_autoptr(ParseResult) ping_to_client = NULL;

      append_frame_full (unmasked, FIN | GC_WS_OPCODE_TEXT, FALSE, 0, "hello", 5);
      to_server = parse_array (GC_WS_ROLE_SERVER, 0, unmasked, chunkings[c]);
      assert_fails_at (to_server, chunkings[c], GC_WS_CLOSE_PROTOCOL_ERROR, 2);

      append_frame_full (masked, FIN | GC_WS_OPCODE_TEXT, TRUE, 0, "hello", 5);
      to_client = parse_array (GC_WS_ROLE_CLIENT, 0, masked, chunkings[c]);
      assert_fails_at (to_client, chunkings[c], GC_WS_CLOSE_PROTOCOL_ERROR, 2);

      append_frame_full (masked_ping, FIN | GC_WS_OPCODE_PING, TRUE, 0, NULL, 0);
      ping_to_client = parse_array (GC_WS_ROLE_CLIENT, 0, masked_ping, chunkings[c]);
      assert_fails_at (ping_to_client, chunkings[c], GC_WS_CLOSE_PROTOCOL_ERROR, 2);
    }
}

/* --- 9: limits ------------------------------------------------------------ */

static void
test_limits (void)
{
  const guint64 limit = 1000;
  gsize r, c;

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    for (c = 0; c < G_N_ELEMENTS (chunkings); c++)
      {
        GcWsRole role = roles[r];
        gsize chunk = chunkings[c];
        g_autofree guint8 *payload = make_payload (GC_WS_OPCODE_TEXT, limit + 1);
        g_autoptr(GByteArray) exact = g_byte_array_new ();
        g_autoptr(GByteArray) over = g_byte_array_new ();
        g_autoptr(GByteArray) fragments_exact = g_byte_array_new ();
        g_autoptr(GByteArray) fragments_over = g_byte_array_new ();
        g_autoptr(GByteArray) control = g_byte_array_new ();
        g_autoptr(ParseResult) r_exact = NULL;
        g_autoptr(ParseResult) r_over = NULL;
        g_autoptr(ParseResult) r_fragments_exact = NULL;
        g_autoptr(ParseResult) r_fragments_over = NULL;
        g_autoptr(ParseResult) r_control = NULL;
        gsize last_header_end;

        append_frame (exact, role, FIN | GC_WS_OPCODE_TEXT, payload, limit);
        append_frame (exact, role, FIN | GC_WS_OPCODE_BINARY, payload, limit);
        r_exact = parse_array (role, limit, exact, chunk);
        assert_ok (r_exact, exact->len, 2);
        assert_event (r_exact, 0, GC_WS_OPCODE_TEXT, payload, limit);

        /* Refused from the header, before any payload. */
        append_frame (over, role, FIN | GC_WS_OPCODE_BINARY, payload, limit + 1);
        r_over = parse_array (role, limit, over, chunk);
        assert_fails_at (r_over, chunk, GC_WS_CLOSE_TOO_BIG, header_size_to (role, limit + 1));

        /* Fragments (and a ping between them, which does not count). */
        append_frame (fragments_exact, role, GC_WS_OPCODE_TEXT, payload, 400);
        append_frame (fragments_exact, role, FIN | GC_WS_OPCODE_PING, payload, 125);
        append_frame (fragments_exact, role, GC_WS_OPCODE_CONTINUATION, payload + 400, 0);
        append_frame (fragments_exact, role, FIN | GC_WS_OPCODE_CONTINUATION, payload + 400, 600);
        r_fragments_exact = parse_array (role, limit, fragments_exact, chunk);
        assert_ok (r_fragments_exact, fragments_exact->len, 2);
        assert_event (r_fragments_exact, 1, GC_WS_OPCODE_TEXT, payload, limit);

        append_frame (fragments_over, role, GC_WS_OPCODE_TEXT, payload, 400);
        append_frame (fragments_over, role, GC_WS_OPCODE_CONTINUATION, payload + 400, 300);
        append_frame (fragments_over, role, FIN | GC_WS_OPCODE_CONTINUATION, payload + 700, 301);
        last_header_end = fragments_over->len - 301;
        r_fragments_over = parse_array (role, limit, fragments_over, chunk);
        assert_fails_at (r_fragments_over, chunk, GC_WS_CLOSE_TOO_BIG, last_header_end);

        /* Control frames have their own bound. */
        append_frame (control, role, FIN | GC_WS_OPCODE_PING, payload, 125);
        r_control = parse_array (role, 10, control, chunk);
        assert_ok (r_control, control->len, 1);
      }
}

static void
test_limit_setting (void)
{
  g_autoptr(GcWsParser) parser = gc_ws_parser_new (GC_WS_ROLE_CLIENT, 65536);
  g_autoptr(GByteArray) frame = g_byte_array_new ();
  g_autofree guint8 *payload = make_payload (GC_WS_OPCODE_BINARY, 70000);
  g_autoptr(ParseResult) result = parse_result_new ();

  append_frame (frame, GC_WS_ROLE_CLIENT, FIN | GC_WS_OPCODE_BINARY, payload, 70000);

  gc_ws_parser_set_max_message_size (parser, 0);
  feed_into (parser, result, frame->data, frame->len, 0);
  g_assert_no_error (result->error);
  g_assert_cmpuint (result->events->len, ==, 1);

  gc_ws_parser_set_max_message_size (parser, 69999);
  feed_into (parser, result, frame->data, frame->len, 0);
  g_assert_error (result->error, GC_WS_ERROR, GC_WS_CLOSE_TOO_BIG);
}

/* Lengths no peer could send: the top bit is a protocol error; 2^62 is
 * too big for a limit, and without a limit it allocates only as payload
 * actually arrives. */
static void
test_huge_lengths (void)
{
  gsize r;

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    {
      GcWsRole role = roles[r];
      gboolean masked = role == GC_WS_ROLE_SERVER;
      g_autoptr(GByteArray) top_bit = g_byte_array_new ();
      g_autoptr(GByteArray) huge = g_byte_array_new ();
      g_autoptr(ParseResult) r_top = NULL;
      g_autoptr(ParseResult) r_top_unlimited = NULL;
      g_autoptr(ParseResult) r_huge = NULL;
      g_autoptr(GcWsParser) unlimited = gc_ws_parser_new (role, 0);
      g_autoptr(ParseResult) r_unlimited = parse_result_new ();
      g_autofree guint8 *filler = g_malloc0 (3 * 1024 * 1024);
      guint8 mask[4];

      append_header (top_bit, FIN | GC_WS_OPCODE_BINARY, masked, 8, G_GUINT64_CONSTANT (1) << 63, mask);
      r_top = parse_array (role, 65536, top_bit, 1);
      assert_fails_at (r_top, 1, GC_WS_CLOSE_PROTOCOL_ERROR, top_bit->len);
      r_top_unlimited = parse_array (role, 0, top_bit, 0);
      g_assert_error (r_top_unlimited->error, GC_WS_ERROR, GC_WS_CLOSE_PROTOCOL_ERROR);

      append_header (huge, FIN | GC_WS_OPCODE_BINARY, masked, 8, G_GUINT64_CONSTANT (1) << 62, mask);
      r_huge = parse_array (role, 65536, huge, 1);
      assert_fails_at (r_huge, 1, GC_WS_CLOSE_TOO_BIG, huge->len);

      feed_into (unlimited, r_unlimited, huge->data, huge->len, 0);
      feed_into (unlimited, r_unlimited, filler, 4096, 0);
      g_assert_no_error (r_unlimited->error);
      g_assert_cmpuint (gc_ws_parser_get_buffered (unlimited), <=, 1024 * 1024);

      feed_into (unlimited, r_unlimited, filler, 3 * 1024 * 1024, 65536);
      g_assert_no_error (r_unlimited->error);
      g_assert_cmpuint (r_unlimited->events->len, ==, 0);
      g_assert_cmpuint (gc_ws_parser_get_buffered (unlimited), >=, 4096 + 3 * 1024 * 1024);
      g_assert_cmpuint (gc_ws_parser_get_buffered (unlimited), <=, 2 * (4096 + 3 * 1024 * 1024));
    }
}

static void
test_buffered (void)
{
  g_autoptr(GcWsParser) parser = gc_ws_parser_new (GC_WS_ROLE_SERVER, 0);
  g_autoptr(ParseResult) result = parse_result_new ();
  g_autoptr(GByteArray) frames = g_byte_array_new ();
  g_autofree guint8 *payload = make_payload (GC_WS_OPCODE_TEXT, 3000);

  g_assert_cmpuint (gc_ws_parser_get_buffered (parser), ==, 0);

  append_frame (frames, GC_WS_ROLE_SERVER, GC_WS_OPCODE_TEXT, payload, 1000);
  append_frame (frames, GC_WS_ROLE_SERVER, FIN | GC_WS_OPCODE_PING, payload, 100);
  append_frame (frames, GC_WS_ROLE_SERVER, FIN | GC_WS_OPCODE_CONTINUATION, payload + 1000, 2000);

  /* Part of a header. */
  feed_into (parser, result, frames->data, 3, 0);
  g_assert_cmpuint (gc_ws_parser_get_buffered (parser), ==, 3);
  /* The first fragment's size is allocated as soon as its header is in. */
  feed_into (parser, result, frames->data + 3, 5, 0);
  g_assert_cmpuint (gc_ws_parser_get_buffered (parser), ==, 1000);
  /* A ping in the middle adds its own payload. */
  feed_into (parser, result, frames->data + 8, 1000 + 6 + 10, 0);
  g_assert_cmpuint (gc_ws_parser_get_buffered (parser), ==, 1100);
  feed_into (parser, result, frames->data + 1024, frames->len - 1024 - 1, 0);
  g_assert_cmpuint (gc_ws_parser_get_buffered (parser), >=, 3000);
  g_assert_cmpuint (result->events->len, ==, 1);
  /* The last byte delivers the message: nothing stays behind. */
  feed_into (parser, result, frames->data + frames->len - 1, 1, 0);
  g_assert_no_error (result->error);
  g_assert_cmpuint (result->events->len, ==, 2);
  assert_event (result, 1, GC_WS_OPCODE_TEXT, payload, 3000);
  g_assert_cmpuint (gc_ws_parser_get_buffered (parser), ==, 0);
}

/* A big final frame gets its first MiB from the header, then grows as the
 * payload comes, but never past the size its header announced. */
static void
test_buffered_big_frame (void)
{
  const gsize size = 1536 * 1024;
  g_autoptr(GcWsParser) parser = gc_ws_parser_new (GC_WS_ROLE_CLIENT, 0);
  g_autoptr(ParseResult) result = parse_result_new ();
  g_autoptr(GByteArray) frame = g_byte_array_new ();
  g_autofree guint8 *payload = make_payload (GC_WS_OPCODE_BINARY, size);

  append_frame (frame, GC_WS_ROLE_CLIENT, FIN | GC_WS_OPCODE_BINARY, payload, size);

  feed_into (parser, result, frame->data, 10, 0);
  g_assert_cmpuint (gc_ws_parser_get_buffered (parser), ==, 1024 * 1024);
  feed_into (parser, result, frame->data + 10, 1024 * 1024 + 1, 0);
  g_assert_cmpuint (gc_ws_parser_get_buffered (parser), ==, size);
  feed_into (parser, result, frame->data + 10 + 1024 * 1024 + 1, frame->len - 10 - 1024 * 1024 - 1, 0);
  g_assert_no_error (result->error);
  g_assert_cmpuint (result->events->len, ==, 1);
  assert_event (result, 0, GC_WS_OPCODE_BINARY, payload, size);
  g_assert_cmpuint (gc_ws_parser_get_buffered (parser), ==, 0);
}

/* --- 10: large messages ------------------------------------------------------ */

static void
test_large_messages (void)
{
  static const gsize fragment_sizes[] = { 1000, 65536, 1024 * 1024 };
  static const gsize feed_sizes[] = { 0, 4096, 65536 };
  const gsize total = 4 * 1024 * 1024;
  g_autoptr(GString) text = g_string_sized_new (total + 4);
  gsize r, f, c;

  while (text->len < total)
    g_string_append (text, text->len % 3 == 0 ? "\xe2\x82\xac" : "ab\xc3\xa9");

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    {
      g_autoptr(GByteArray) single = g_byte_array_new ();
      g_autoptr(ParseResult) r_single = NULL;

      /* One frame, just under the limit. */
      append_frame (single, roles[r], FIN | GC_WS_OPCODE_TEXT, text->str, text->len);
      r_single = parse_array (roles[r], text->len, single, 65536);
      assert_ok (r_single, single->len, 1);
      assert_event (r_single, 0, GC_WS_OPCODE_TEXT, text->str, text->len);

      for (f = 0; f < G_N_ELEMENTS (fragment_sizes); f++)
        {
          g_autoptr(GByteArray) frames = g_byte_array_new ();
          gsize pos;

          for (pos = 0; pos < text->len; pos += fragment_sizes[f])
            {
              gsize n = MIN (fragment_sizes[f], text->len - pos);
              guint8 first = pos == 0 ? GC_WS_OPCODE_TEXT : GC_WS_OPCODE_CONTINUATION;

              append_frame (frames, roles[r], (pos + n == text->len ? FIN : 0) | first, text->str + pos, n);
            }

          for (c = 0; c < G_N_ELEMENTS (feed_sizes); c++)
            {
              g_autoptr(ParseResult) result = parse_array (roles[r], 16 * 1024 * 1024, frames, feed_sizes[c]);

              assert_ok (result, frames->len, 1);
              assert_event (result, 0, GC_WS_OPCODE_TEXT, text->str, text->len);
            }
        }
    }
}

/* --- Encoder --------------------------------------------------------------- */

static GcWsRole
other_role (GcWsRole role)
{
  return role == GC_WS_ROLE_SERVER ? GC_WS_ROLE_CLIENT : GC_WS_ROLE_SERVER;
}

static void
test_encode_round_trip (void)
{
  static const gsize big_sizes[] = { 1000, 65535, 65536, 65537, 100000, 1024 * 1024 + 3 };
  g_autofree guint8 *payload = make_payload (GC_WS_OPCODE_TEXT, 1024 * 1024 + 3);
  gsize r, i;

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    {
      GcWsRole sender = roles[r];
      g_autoptr(GByteArray) stream = g_byte_array_new ();
      g_autoptr(ParseResult) result = NULL;
      guint expected = 0;

      for (i = 0; i <= 300 + G_N_ELEMENTS (big_sizes); i++)
        {
          gsize len = i <= 300 ? i : big_sizes[i - 301];
          g_autoptr(GBytes) text = gc_ws_frame_encode (sender, GC_WS_OPCODE_TEXT, TRUE, payload, len);
          g_autoptr(GBytes) binary = gc_ws_frame_encode (sender, GC_WS_OPCODE_BINARY, TRUE, payload, len);
          g_autofree guint8 *into = g_malloc (gc_ws_frame_header_size (len, sender == GC_WS_ROLE_CLIENT) + len);
          gsize written;

          g_assert_cmpuint (g_bytes_get_size (text), ==,
                            gc_ws_frame_header_size (len, sender == GC_WS_ROLE_CLIENT) + len);
          written = gc_ws_frame_encode_into (into, sender, GC_WS_OPCODE_BINARY, FALSE, payload, len);
          g_assert_cmpuint (written, ==, g_bytes_get_size (binary));

          g_byte_array_append (stream, g_bytes_get_data (text, NULL), g_bytes_get_size (text));
          g_byte_array_append (stream, g_bytes_get_data (binary, NULL), g_bytes_get_size (binary));
          /* A fragmented message: the unfinished frame from encode_into, then an empty final one. */
          g_byte_array_append (stream, into, written);
          if (sender == GC_WS_ROLE_CLIENT)
            g_byte_array_append (stream, (const guint8 *) "\x80\x80\x00\x00\x00\x00", 6);
          else
            g_byte_array_append (stream, (const guint8 *) "\x80\x00", 2);
          expected += 3;

          if (len <= GC_WS_MAX_CONTROL_PAYLOAD)
            {
              g_autoptr(GBytes) ping = gc_ws_frame_encode (sender, GC_WS_OPCODE_PING, TRUE, payload, len);

              g_byte_array_append (stream, g_bytes_get_data (ping, NULL), g_bytes_get_size (ping));
              expected++;
            }
        }

      result = parse_array (other_role (sender), 0, stream, 0);
      assert_ok (result, stream->len, expected);

      expected = 0;
      for (i = 0; i <= 300 + G_N_ELEMENTS (big_sizes); i++)
        {
          gsize len = i <= 300 ? i : big_sizes[i - 301];

          assert_event (result, expected++, GC_WS_OPCODE_TEXT, payload, len);
          assert_event (result, expected++, GC_WS_OPCODE_BINARY, payload, len);
          assert_event (result, expected++, GC_WS_OPCODE_BINARY, payload, len);
          if (len <= GC_WS_MAX_CONTROL_PAYLOAD)
            assert_event (result, expected++, GC_WS_OPCODE_PING, payload, len);
        }
    }
}

static void
test_encode_minimal_headers (void)
{
  static const struct {
    gsize len;
    guint8 header[10];
    gsize header_len;
  } cases[] = {
    { 0,     { 0x82, 0x00 }, 2 },
    { 1,     { 0x82, 0x01 }, 2 },
    { 125,   { 0x82, 0x7d }, 2 },
    { 126,   { 0x82, 0x7e, 0x00, 0x7e }, 4 },
    { 127,   { 0x82, 0x7e, 0x00, 0x7f }, 4 },
    { 65535, { 0x82, 0x7e, 0xff, 0xff }, 4 },
    { 65536, { 0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x00, 0x00 }, 10 },
    { 70000, { 0x82, 0x7f, 0, 0, 0, 0, 0, 0x01, 0x11, 0x70 }, 10 },
  };
  g_autofree guint8 *payload = make_payload (GC_WS_OPCODE_BINARY, 70000);
  gsize i, k;

  for (i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GBytes) server = gc_ws_frame_encode (GC_WS_ROLE_SERVER, GC_WS_OPCODE_BINARY, TRUE, payload, cases[i].len);
      g_autoptr(GBytes) client = gc_ws_frame_encode (GC_WS_ROLE_CLIENT, GC_WS_OPCODE_BINARY, TRUE, payload, cases[i].len);
      const guint8 *s = g_bytes_get_data (server, NULL);
      const guint8 *c = g_bytes_get_data (client, NULL);
      gsize hl = cases[i].header_len;

      g_assert_cmpuint (gc_ws_frame_header_size (cases[i].len, FALSE), ==, hl);
      g_assert_cmpuint (gc_ws_frame_header_size (cases[i].len, TRUE), ==, hl + 4);

      g_assert_cmpuint (g_bytes_get_size (server), ==, hl + cases[i].len);
      g_assert_cmpmem (s, hl, cases[i].header, hl);
      /* The header alone, for a sender that writes the payload after it. */
      {
        guint8 header[GC_WS_MAX_HEADER_SIZE];

        g_assert_cmpuint (gc_ws_frame_encode_header (header, GC_WS_OPCODE_BINARY, TRUE,
                                                     cases[i].len), ==, hl);
        g_assert_cmpmem (header, hl, cases[i].header, hl);
      }
      g_assert_cmpmem (s + hl, cases[i].len, payload, cases[i].len);

      /* The client sets the mask bit and masks with the key after the length. */
      g_assert_cmpuint (g_bytes_get_size (client), ==, hl + 4 + cases[i].len);
      g_assert_cmpuint (c[0], ==, cases[i].header[0]);
      g_assert_cmpuint (c[1], ==, cases[i].header[1] | 0x80);
      g_assert_cmpmem (c + 2, hl - 2, cases[i].header + 2, hl - 2);
      for (k = 0; k < cases[i].len; k++)
        g_assert_cmpuint (c[hl + 4 + k] ^ c[hl + (k & 3)], ==, payload[k]);
    }

  g_assert_cmpuint (gc_ws_frame_header_size (G_GUINT64_CONSTANT (1) << 40, FALSE), ==, 10);
  g_assert_cmpuint (gc_ws_frame_header_size (G_GUINT64_CONSTANT (1) << 40, TRUE), ==, 14);

  /* Opcode and FIN bit. */
  {
    g_autoptr(GBytes) text = gc_ws_frame_encode (GC_WS_ROLE_SERVER, GC_WS_OPCODE_TEXT, FALSE, (const guint8 *) "x", 1);
    g_autoptr(GBytes) pong = gc_ws_frame_encode (GC_WS_ROLE_SERVER, GC_WS_OPCODE_PONG, TRUE, NULL, 0);

    g_assert_cmpmem (g_bytes_get_data (text, NULL), g_bytes_get_size (text), "\x01\x01x", 3);
    g_assert_cmpmem (g_bytes_get_data (pong, NULL), g_bytes_get_size (pong), "\x8a\x00", 2);
  }
}

static void
test_encode_fresh_masks (void)
{
  static const guint8 payload[16] = "same payload....";
  g_autoptr(GHashTable) keys = g_hash_table_new (NULL, NULL);
  guint i;

  for (i = 0; i < 100; i++)
    {
      g_autoptr(GBytes) frame = gc_ws_frame_encode (GC_WS_ROLE_CLIENT, GC_WS_OPCODE_TEXT, TRUE, payload, sizeof payload);
      const guint8 *data = g_bytes_get_data (frame, NULL);
      guint32 key;

      memcpy (&key, data + 2, 4);
      g_assert_false (g_hash_table_contains (keys, GUINT_TO_POINTER (key)));
      g_hash_table_add (keys, GUINT_TO_POINTER (key));
    }
}

static void
check_close_reason (GcWsRole    sender,
                    const char *reason,
                    gsize       expected_reason_len)
{
  g_autoptr(GBytes) frame = gc_ws_frame_encode_close (sender, 4001, reason);
  g_autoptr(ParseResult) result = NULL;
  g_autofree char *parsed_reason = NULL;
  gushort code = 0;
  const guint8 *data;
  gsize len;

  result = parse (other_role (sender), 0, g_bytes_get_data (frame, NULL), g_bytes_get_size (frame), 0);
  assert_ok (result, g_bytes_get_size (frame), 1);

  data = g_bytes_get_data (g_array_index (result->events, Event, 0).payload, &len);
  g_assert_cmpuint (len, ==, 2 + expected_reason_len);
  g_assert_true (gc_ws_close_payload_parse (data, len, &code, &parsed_reason, NULL));
  g_assert_cmpuint (code, ==, 4001);
  g_assert_cmpuint (strlen (parsed_reason), ==, expected_reason_len);
  g_assert_true (strncmp (parsed_reason, reason, expected_reason_len) == 0);
}

static void
test_encode_close (void)
{
  g_autoptr(GString) ascii = g_string_new (NULL);
  g_autoptr(GString) two = g_string_new (NULL);
  g_autoptr(GString) three = g_string_new (NULL);
  g_autoptr(GString) four = g_string_new (NULL);
  g_autoptr(GString) mixed = g_string_new (NULL);
  g_autoptr(GBytes) plain = gc_ws_frame_encode_close (GC_WS_ROLE_SERVER, 1000, "bye");
  g_autoptr(GBytes) empty = gc_ws_frame_encode_close (GC_WS_ROLE_SERVER, 0, NULL);
  g_autoptr(GBytes) code_only = gc_ws_frame_encode_close (GC_WS_ROLE_SERVER, 1001, NULL);
  gsize r, i;

  g_assert_cmpmem (g_bytes_get_data (plain, NULL), g_bytes_get_size (plain), "\x88\x05\x03\xe8" "bye", 7);
  g_assert_cmpmem (g_bytes_get_data (empty, NULL), g_bytes_get_size (empty), "\x88\x00", 2);
  g_assert_cmpmem (g_bytes_get_data (code_only, NULL), g_bytes_get_size (code_only), "\x88\x02\x03\xe9", 4);

  for (i = 0; i < 200; i++)
    g_string_append_c (ascii, 'a');
  for (i = 0; i < 100; i++)
    g_string_append (two, "\xc3\xa9");
  for (i = 0; i < 50; i++)
    g_string_append (three, "\xe2\x82\xac");
  for (i = 0; i < 40; i++)
    g_string_append (four, "\xf0\x9f\x98\x80");
  g_string_append_len (mixed, ascii->str, 122);
  g_string_append (mixed, "\xc3\xa9");

  for (r = 0; r < G_N_ELEMENTS (roles); r++)
    {
      check_close_reason (roles[r], "bye", 3);
      check_close_reason (roles[r], "", 0);
      check_close_reason (roles[r], ascii->str, 123);
      check_close_reason (roles[r], two->str, 122);
      check_close_reason (roles[r], three->str, 123);
      check_close_reason (roles[r], four->str, 120);
      check_close_reason (roles[r], mixed->str, 122);
    }
}

/* --- Random -------------------------------------------------------------- */

#define RANDOM_THREADS 4
#define RANDOM_DRAWS 2000

static gpointer
draw_random (gpointer data)
{
  guint64 *out = data;
  guint i;

  for (i = 0; i < RANDOM_DRAWS; i++)
    gc_ws_random_bytes ((guint8 *) &out[i], sizeof out[i]);

  return NULL;
}

static void
test_random (void)
{
  guint64 *draws = g_new0 (guint64, RANDOM_THREADS * RANDOM_DRAWS);
  GThread *threads[RANDOM_THREADS];
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);
  g_autofree guint8 *big = g_malloc0 (1024 * 1024);
  guint counts[256] = { 0, };
  guint i;

  for (i = 0; i < RANDOM_THREADS; i++)
    threads[i] = g_thread_new ("random", draw_random, draws + i * RANDOM_DRAWS);
  for (i = 0; i < RANDOM_THREADS; i++)
    g_thread_join (threads[i]);

  /* No 8-byte value handed out twice, across threads. */
  for (i = 0; i < RANDOM_THREADS * RANDOM_DRAWS; i++)
    {
      g_assert_false (g_hash_table_contains (seen, &draws[i]));
      g_hash_table_add (seen, &draws[i]);
    }

  /* A big request (which bypasses the pool) covers every byte value. */
  gc_ws_random_bytes (big, 1024 * 1024);
  for (i = 0; i < 1024 * 1024; i++)
    counts[big[i]]++;
  for (i = 0; i < 256; i++)
    g_assert_cmpuint (counts[i], >, 3000);

  g_clear_pointer (&seen, g_hash_table_unref);
  g_free (draws);
}

#ifdef G_OS_UNIX
/* A forked child must not replay the bytes left in the parent's pool. */
static void
test_random_fork (void)
{
  guint8 first[4];
  guint8 parent_bytes[16];
  guint8 child_bytes[16];
  int fds[2];
  pid_t pid;
  int status;

  /* Leave the pool partly used. */
  gc_ws_random_bytes (first, sizeof first);
  g_assert_cmpint (pipe (fds), ==, 0);

  pid = fork ();
  g_assert_cmpint (pid, >=, 0);
  if (pid == 0)
    {
      gc_ws_random_bytes (child_bytes, sizeof child_bytes);
      if (write (fds[1], child_bytes, sizeof child_bytes) != (ssize_t) sizeof child_bytes)
        _exit (1);
      _exit (0);
    }

  close (fds[1]);
  gc_ws_random_bytes (parent_bytes, sizeof parent_bytes);
  g_assert_cmpint (read (fds[0], child_bytes, sizeof child_bytes), ==, sizeof child_bytes);
  close (fds[0]);
  g_assert_cmpint (waitpid (pid, &status, 0), ==, pid);
  g_assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);

  g_assert_true (memcmp (parent_bytes, child_bytes, sizeof parent_bytes) != 0);
}
#endif

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/ws/codec/1-framing", test_framing);
  g_test_add_func ("/ws/codec/1-framing/mask-phase", test_mask_phase_across_chunks);
  g_test_add_func ("/ws/codec/1-framing/non-minimal-length", test_non_minimal_length);
  g_test_add_func ("/ws/codec/2-ping-pong", test_ping_pong);
  g_test_add_func ("/ws/codec/3-reserved-bits", test_reserved_bits);
  g_test_add_func ("/ws/codec/4-reserved-opcodes", test_reserved_opcodes);
  g_test_add_func ("/ws/codec/5-fragmentation", test_fragmentation);
  g_test_add_func ("/ws/codec/5-fragmentation/errors", test_fragmentation_errors);
  g_test_add_func ("/ws/codec/5-fragmentation/many", test_many_fragments);
  g_test_add_func ("/ws/codec/6-utf8/valid", test_utf8_valid);
  g_test_add_func ("/ws/codec/6-utf8/invalid", test_utf8_invalid);
  g_test_add_func ("/ws/codec/6-utf8/validate-whole", test_utf8_validate_whole);
  g_test_add_func ("/ws/codec/6-utf8/truncated", test_utf8_truncated);
  g_test_add_func ("/ws/codec/6-utf8/fail-fast", test_utf8_fail_fast);
  g_test_add_func ("/ws/codec/6-utf8/exhaustive", test_utf8_exhaustive);
  g_test_add_func ("/ws/codec/6-utf8/chunks", test_utf8_chunks);
  g_test_add_func ("/ws/codec/7-close/codes", test_close_codes);
  g_test_add_func ("/ws/codec/7-close/payload", test_close_payload);
  g_test_add_func ("/ws/codec/7-close/payload-parse", test_close_payload_parse);
  g_test_add_func ("/ws/codec/9-limits", test_limits);
  g_test_add_func ("/ws/codec/9-limits/setting", test_limit_setting);
  g_test_add_func ("/ws/codec/9-limits/huge-lengths", test_huge_lengths);
  g_test_add_func ("/ws/codec/10-large-messages", test_large_messages);
  g_test_add_func ("/ws/codec/masking", test_masking_rules);
  g_test_add_func ("/ws/codec/stop-discards-rest", test_stop_discards_rest);
  g_test_add_func ("/ws/codec/stays-failed", test_stays_failed);
  g_test_add_func ("/ws/codec/buffered", test_buffered);
  g_test_add_func ("/ws/codec/buffered/big-frame", test_buffered_big_frame);
  g_test_add_func ("/ws/codec/encode/round-trip", test_encode_round_trip);
  g_test_add_func ("/ws/codec/encode/minimal-headers", test_encode_minimal_headers);
  g_test_add_func ("/ws/codec/encode/fresh-masks", test_encode_fresh_masks);
  g_test_add_func ("/ws/codec/encode/close", test_encode_close);
  g_test_add_func ("/ws/random", test_random);
#ifdef G_OS_UNIX
  g_test_add_func ("/ws/random/fork", test_random_fork);
#endif

  return g_test_run ();
}
