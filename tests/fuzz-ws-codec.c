/* fuzz-ws-codec.c: libFuzzer target for the RFC 6455 frame codec
 *
 * The first input byte picks the role, the message size limit, the
 * chunking and whether the callback stops at a close frame; the rest is
 * fed to two parsers, one in a single call and one in chunks, which must
 * agree exactly. The rest is also used as a payload for encode/parse
 * round trips in both roles.
 *
 *   CC=clang meson setup _build-fuzz -Dfuzzing=true -Db_sanitize=address,undefined -Db_lundef=false
 *   ./_build-fuzz/tests/fuzz-ws-codec -max_total_time=60 CORPUS_COPY/
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "gc-ws-frame.h"

int LLVMFuzzerTestOneInput (const guint8 *data,
                            size_t        size);

static const guint64 max_sizes[] = { 0, 125, 4096, 65536 };
static const gsize chunk_sizes[] = { 1, 2, 3, 7, 13, 64, 997, 4096 };

typedef struct {
  GArray *opcodes;
  GByteArray *payloads;
  GArray *payload_ends;
  guint64 max_message_size;
  gboolean stop_at_close;
} Recorder;

static void
recorder_init (Recorder *recorder,
               guint64   max_message_size,
               gboolean  stop_at_close)
{
  recorder->opcodes = g_array_new (FALSE, FALSE, sizeof (guint));
  recorder->payloads = g_byte_array_new ();
  recorder->payload_ends = g_array_new (FALSE, FALSE, sizeof (gsize));
  recorder->max_message_size = max_message_size;
  recorder->stop_at_close = stop_at_close;
}

static void
recorder_clear (Recorder *recorder)
{
  g_array_unref (recorder->opcodes);
  g_byte_array_unref (recorder->payloads);
  g_array_unref (recorder->payload_ends);
}

/* Like g_utf8_validate(), but with U+0000 allowed as WebSocket allows it. */
static gboolean
utf8_valid_with_nul (const char *text,
                     gsize       len)
{
  const char *end;

  if (len == 0)
    return TRUE;

  end = text + len;
  while (text < end)
    {
      const char *stop;

      if (g_utf8_validate (text, end - text, &stop))
        return TRUE;
      if (*stop != '\0')
        return FALSE;
      text = stop + 1;
    }

  return TRUE;
}

static gboolean
record (GcWsOpcode  opcode,
        GBytes     *payload,
        gpointer    user_data)
{
  Recorder *recorder = user_data;
  gsize len;
  const guint8 *bytes = g_bytes_get_data (payload, &len);
  guint op = opcode;
  gsize end;

  switch (opcode)
    {
    case GC_WS_OPCODE_TEXT:
      if (!utf8_valid_with_nul ((const char *) bytes, len))
        abort ();
      G_GNUC_FALLTHROUGH;
    case GC_WS_OPCODE_BINARY:
      if (recorder->max_message_size != 0 && len > recorder->max_message_size)
        abort ();
      break;
    case GC_WS_OPCODE_CLOSE:
      if (!gc_ws_close_payload_parse (bytes, len, NULL, NULL, NULL))
        abort ();
      G_GNUC_FALLTHROUGH;
    case GC_WS_OPCODE_PING:
    case GC_WS_OPCODE_PONG:
      if (len > GC_WS_MAX_CONTROL_PAYLOAD)
        abort ();
      break;
    case GC_WS_OPCODE_CONTINUATION:
    default:
      abort ();
    }

  g_array_append_val (recorder->opcodes, op);
  if (len > 0)
    g_byte_array_append (recorder->payloads, bytes, len);
  end = recorder->payloads->len;
  g_array_append_val (recorder->payload_ends, end);

  return !(recorder->stop_at_close && opcode == GC_WS_OPCODE_CLOSE);
}

/* memcmp() with empty (possibly NULL) buffers allowed. */
static gboolean
same_bytes (gconstpointer a,
            gconstpointer b,
            gsize         len)
{
  return len == 0 || memcmp (a, b, len) == 0;
}

/* Parses @data whole and in @chunk pieces; both must see the same. */
static void
fuzz_parse (GcWsRole      role,
            guint64       max_message_size,
            gsize         chunk,
            gboolean      stop_at_close,
            const guint8 *data,
            gsize         size)
{
  GcWsParser *whole = gc_ws_parser_new (role, max_message_size);
  GcWsParser *chunked = gc_ws_parser_new (role, max_message_size);
  Recorder whole_events, chunked_events;
  GError *whole_error = NULL;
  GError *chunked_error = NULL;
  gboolean whole_ok, chunked_ok = TRUE;
  gsize pos;

  recorder_init (&whole_events, max_message_size, stop_at_close);
  recorder_init (&chunked_events, max_message_size, stop_at_close);

  whole_ok = gc_ws_parser_feed (whole, data, size, record, &whole_events, &whole_error);
  for (pos = 0; pos < size && chunked_ok; pos += chunk)
    chunked_ok = gc_ws_parser_feed (chunked, data + pos, MIN (chunk, size - pos),
                                    record, &chunked_events, &chunked_error);

  if (whole_ok != chunked_ok)
    abort ();
  if (!whole_ok && (whole_error->domain != GC_WS_ERROR || whole_error->code != chunked_error->code))
    abort ();
  if (whole_events.opcodes->len != chunked_events.opcodes->len ||
      !same_bytes (whole_events.opcodes->data, chunked_events.opcodes->data,
                   whole_events.opcodes->len * sizeof (guint)) ||
      whole_events.payloads->len != chunked_events.payloads->len ||
      !same_bytes (whole_events.payloads->data, chunked_events.payloads->data,
                   whole_events.payloads->len) ||
      !same_bytes (whole_events.payload_ends->data, chunked_events.payload_ends->data,
                   whole_events.payload_ends->len * sizeof (gsize)))
    abort ();

  /* A failed parser keeps failing with the same code and holds nothing. */
  if (!whole_ok)
    {
      GError *again = NULL;

      if (gc_ws_parser_feed (whole, data, size, record, &whole_events, &again) ||
          again->code != whole_error->code ||
          gc_ws_parser_get_buffered (whole) != 0)
        abort ();
      g_error_free (again);
    }

  g_clear_error (&whole_error);
  g_clear_error (&chunked_error);
  recorder_clear (&whole_events);
  recorder_clear (&chunked_events);
  gc_ws_parser_free (whole);
  gc_ws_parser_free (chunked);
}

static void
expect_one (Recorder     *recorder,
            GcWsOpcode    opcode,
            const guint8 *payload,
            gsize         len)
{
  if (recorder->opcodes->len != 1 ||
      g_array_index (recorder->opcodes, guint, 0) != opcode ||
      recorder->payloads->len != len ||
      !same_bytes (recorder->payloads->data, payload, len))
    abort ();
}

/* Encodes @payload as @opcode from @sender and parses it back. */
static void
round_trip (GcWsRole      sender,
            GcWsOpcode    opcode,
            const guint8 *payload,
            gsize         len)
{
  GcWsRole receiver = sender == GC_WS_ROLE_CLIENT ? GC_WS_ROLE_SERVER : GC_WS_ROLE_CLIENT;
  GBytes *frame = gc_ws_frame_encode (sender, opcode, TRUE, payload, len);
  GcWsParser *parser = gc_ws_parser_new (receiver, 0);
  Recorder recorder;
  gsize frame_len;
  const guint8 *frame_data = g_bytes_get_data (frame, &frame_len);

  recorder_init (&recorder, 0, FALSE);
  if (frame_len != gc_ws_frame_header_size (len, sender == GC_WS_ROLE_CLIENT) + len ||
      !gc_ws_parser_feed (parser, frame_data, frame_len, record, &recorder, NULL) ||
      gc_ws_parser_get_buffered (parser) != 0)
    abort ();
  expect_one (&recorder, opcode, payload, len);

  recorder_clear (&recorder);
  gc_ws_parser_free (parser);
  g_bytes_unref (frame);
}

static void
round_trip_close (GcWsRole    sender,
                  const char *reason)
{
  GcWsRole receiver = sender == GC_WS_ROLE_CLIENT ? GC_WS_ROLE_SERVER : GC_WS_ROLE_CLIENT;
  GBytes *frame = gc_ws_frame_encode_close (sender, 4000, reason);
  GcWsParser *parser = gc_ws_parser_new (receiver, 0);
  Recorder recorder;
  gsize frame_len;
  const guint8 *frame_data = g_bytes_get_data (frame, &frame_len);
  gsize reason_len;

  recorder_init (&recorder, 0, FALSE);
  if (!gc_ws_parser_feed (parser, frame_data, frame_len, record, &recorder, NULL) ||
      recorder.opcodes->len != 1 ||
      recorder.payloads->len < 2 || recorder.payloads->len > GC_WS_MAX_CONTROL_PAYLOAD)
    abort ();

  /* The reason is a prefix of the original, cut only if it had to be. */
  reason_len = recorder.payloads->len - 2;
  if (reason_len > strlen (reason) ||
      !same_bytes (recorder.payloads->data + 2, reason, reason_len) ||
      (reason_len < strlen (reason) && reason_len + 4 <= GC_WS_MAX_CONTROL_PAYLOAD - 2))
    abort ();

  recorder_clear (&recorder);
  gc_ws_parser_free (parser);
  g_bytes_unref (frame);
}

int
LLVMFuzzerTestOneInput (const guint8 *data,
                        size_t        size)
{
  guint8 config;
  GcWsRole role;
  guint64 max_message_size;
  gsize chunk;
  gboolean stop_at_close;

  if (size < 1)
    return 0;

  config = data[0];
  role = (config & 0x01) ? GC_WS_ROLE_CLIENT : GC_WS_ROLE_SERVER;
  max_message_size = max_sizes[(config >> 1) & 0x03];
  chunk = chunk_sizes[(config >> 3) & 0x07];
  stop_at_close = (config & 0x40) != 0;
  data++;
  size--;

  fuzz_parse (role, max_message_size, chunk, stop_at_close, data, size);

  round_trip (GC_WS_ROLE_CLIENT, GC_WS_OPCODE_BINARY, data, size);
  round_trip (GC_WS_ROLE_SERVER, GC_WS_OPCODE_BINARY, data, size);
  if (size <= GC_WS_MAX_CONTROL_PAYLOAD)
    {
      round_trip (GC_WS_ROLE_CLIENT, GC_WS_OPCODE_PING, data, size);
      round_trip (GC_WS_ROLE_SERVER, GC_WS_OPCODE_PONG, data, size);
    }

  /* Valid UTF-8 (as WebSocket defines it) must go through as text, and
   * through the validator fed in pieces. */
  if (utf8_valid_with_nul ((const char *) data, size))
    {
      GcWsUtf8State state = { 0, };
      gsize pos;

      for (pos = 0; pos < size; pos += chunk)
        if (!gc_ws_utf8_validate_chunk (&state, data + pos, MIN (chunk, size - pos)))
          abort ();
      if (!gc_ws_utf8_state_is_complete (&state))
        abort ();

      round_trip (GC_WS_ROLE_CLIENT, GC_WS_OPCODE_TEXT, data, size);
      round_trip (GC_WS_ROLE_SERVER, GC_WS_OPCODE_TEXT, data, size);

      if (memchr (data, '\0', size) == NULL)
        {
          char *reason = g_strndup ((const char *) data, size);

          round_trip_close (GC_WS_ROLE_CLIENT, reason);
          round_trip_close (GC_WS_ROLE_SERVER, reason);
          g_free (reason);
        }
    }
  else
    {
      GcWsUtf8State state = { 0, };

      if (gc_ws_utf8_validate_chunk (&state, data, size) && gc_ws_utf8_state_is_complete (&state))
        abort ();
    }

  return 0;
}
