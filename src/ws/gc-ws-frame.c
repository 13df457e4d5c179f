/* gc-ws-frame.c: a pure RFC 6455 frame codec (no I/O)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-ws-frame.h"
#include "gc-ws-random.h"

G_DEFINE_QUARK (gc-ws-error-quark, gc_ws_error)

/* A frame header says how long its payload is, but a peer can declare a
 * length it never sends. Up to this much is allocated as soon as the header
 * arrives; beyond it the buffer only grows as payload actually arrives. */
#define PREALLOC_LIMIT (1024 * 1024)

/* Text is validated in blocks this size right after unmasking them, while
 * they are still in the L1 cache. */
#define VALIDATE_BLOCK (16 * 1024)

typedef enum {
  PARSER_HEADER,
  PARSER_PAYLOAD,
  PARSER_STOPPED,
  PARSER_FAILED,
} ParserState;

struct _GcWsParser
{
  guint64 max_message_size;
  guint64 frame_remaining;

  /* The data message being reassembled, across fragments. */
  guint8 *message;
  gsize message_len;
  gsize message_alloc;
  GcWsUtf8State utf8;

  /* The control frame being read: its whole payload (at most 125 bytes) is
   * allocated from the header, so a control frame interleaved in a
   * fragmented message does not disturb the message buffer. */
  guint8 *control;
  guint8 control_len;

  /* A header split across feeds; complete headers are parsed in place. */
  guint8 header_len;
  guint8 header[GC_WS_MAX_HEADER_SIZE];

  guint8 mask[4];
  guint8 mask_phase;
  guint8 state;          /* ParserState */
  guint8 role;           /* GcWsRole */
  guint8 frame_opcode;
  guint frame_fin : 1;
  guint frame_masked : 1;
  /* TEXT or BINARY while a message is in progress (between its first frame
   * and the end of its final one), CONTINUATION (0) otherwise. */
  guint8 message_opcode;
  guint16 error_code;
};

/* Copies @len bytes from @src to @dst XORed with @mask, starting at byte
 * @phase of the key, and returns the phase after the last byte. The key
 * repeats every 4 bytes, so 8 key bytes rotated to the phase mask any 8
 * consecutive bytes: that makes the loop word-at-a-time. */
static guint
mask_copy (guint8       *dst,
           const guint8 *src,
           gsize         len,
           const guint8  mask[4],
           guint         phase)
{
  guint8 key_bytes[8];
  guint64 key;
  gsize i;

  for (i = 0; i < 8; i++)
    key_bytes[i] = mask[(phase + i) & 3];
  memcpy (&key, key_bytes, 8);

  for (i = 0; i + 32 <= len; i += 32)
    {
      guint64 w[4];

      memcpy (w, src + i, 32);
      w[0] ^= key;
      w[1] ^= key;
      w[2] ^= key;
      w[3] ^= key;
      memcpy (dst + i, w, 32);
    }
  for (; i + 8 <= len; i += 8)
    {
      guint64 w;

      memcpy (&w, src + i, 8);
      w ^= key;
      memcpy (dst + i, &w, 8);
    }
  for (; i < len; i++)
    dst[i] = src[i] ^ key_bytes[i & 7];

  return (phase + len) & 3;
}

static inline gboolean
opcode_is_control (guint opcode)
{
  return (opcode & 0x8) != 0;
}

static inline gboolean
opcode_is_known (guint opcode)
{
  return opcode <= GC_WS_OPCODE_BINARY ||
         (opcode >= GC_WS_OPCODE_CLOSE && opcode <= GC_WS_OPCODE_PONG);
}

/* Header size implied by the second header byte. */
static inline gsize
header_size_for (guint8 second_byte)
{
  gsize size = 2;

  if ((second_byte & 0x7f) == 126)
    size += 2;
  else if ((second_byte & 0x7f) == 127)
    size += 8;
  if (second_byte & 0x80)
    size += 4;

  return size;
}

GcWsParser *
gc_ws_parser_new (GcWsRole role,
                  guint64  max_message_size)
{
  GcWsParser *parser;

  g_return_val_if_fail (role == GC_WS_ROLE_SERVER || role == GC_WS_ROLE_CLIENT, NULL);

  parser = g_new0 (GcWsParser, 1);
  parser->role = role;
  parser->max_message_size = max_message_size;
  parser->state = PARSER_HEADER;

  return parser;
}

/* Drops everything held for an incomplete frame or message. */
static void
parser_clear_buffers (GcWsParser *parser)
{
  g_clear_pointer (&parser->message, g_free);
  parser->message_len = 0;
  parser->message_alloc = 0;
  parser->message_opcode = GC_WS_OPCODE_CONTINUATION;
  memset (&parser->utf8, 0, sizeof parser->utf8);
  g_clear_pointer (&parser->control, g_free);
  parser->control_len = 0;
  parser->header_len = 0;
  parser->frame_remaining = 0;
}

void
gc_ws_parser_free (GcWsParser *parser)
{
  if (parser == NULL)
    return;

  parser_clear_buffers (parser);
  g_free (parser);
}

void
gc_ws_parser_set_max_message_size (GcWsParser *parser,
                                   guint64     max_message_size)
{
  g_return_if_fail (parser != NULL);

  parser->max_message_size = max_message_size;
}

gsize
gc_ws_parser_get_buffered (GcWsParser *parser)
{
  gsize buffered;

  g_return_val_if_fail (parser != NULL, 0);

  buffered = parser->header_len + parser->message_alloc;
  if (parser->control != NULL)
    buffered += parser->control_len + parser->frame_remaining;

  return buffered;
}

static gboolean parser_fail (GcWsParser  *parser,
                             GError     **error,
                             guint16      close_code,
                             const char  *format,
                             ...) G_GNUC_PRINTF (4, 5);

/* Puts the parser in the failed state for good and frees what it held. */
static gboolean
parser_fail (GcWsParser  *parser,
             GError     **error,
             guint16      close_code,
             const char  *format,
             ...)
{
  va_list args;

  parser_clear_buffers (parser);
  parser->state = PARSER_FAILED;
  parser->error_code = close_code;

  if (error != NULL)
    {
      va_start (args, format);
      *error = g_error_new_valist (GC_WS_ERROR, close_code, format, args);
      va_end (args);
    }

  return FALSE;
}

/* Checks that only need the first header byte, so that a bad frame fails
 * as soon as that byte arrives. */
static gboolean
parser_check_first_byte (GcWsParser  *parser,
                         guint8       first_byte,
                         GError     **error)
{
  guint opcode = first_byte & 0x0f;
  gboolean fin = (first_byte & 0x80) != 0;

  if (first_byte & 0x70)
    return parser_fail (parser, error, GC_WS_CLOSE_PROTOCOL_ERROR,
                        "Frame has reserved bits set (0x%x) but no extension was negotiated",
                        (guint) (first_byte & 0x70) >> 4);

  if (!opcode_is_known (opcode))
    return parser_fail (parser, error, GC_WS_CLOSE_PROTOCOL_ERROR,
                        "Frame has the reserved opcode 0x%x", opcode);

  if (opcode_is_control (opcode))
    {
      if (!fin)
        return parser_fail (parser, error, GC_WS_CLOSE_PROTOCOL_ERROR,
                            "Control frame (opcode 0x%x) is fragmented", opcode);
    }
  else if (opcode == GC_WS_OPCODE_CONTINUATION)
    {
      if (parser->message_opcode == GC_WS_OPCODE_CONTINUATION)
        return parser_fail (parser, error, GC_WS_CLOSE_PROTOCOL_ERROR,
                            "Continuation frame without a message to continue");
    }
  else if (parser->message_opcode != GC_WS_OPCODE_CONTINUATION)
    {
      return parser_fail (parser, error, GC_WS_CLOSE_PROTOCOL_ERROR,
                          "New data frame while a fragmented message is in progress");
    }

  return TRUE;
}

static gboolean
parser_check_second_byte (GcWsParser  *parser,
                          guint8       first_byte,
                          guint8       second_byte,
                          GError     **error)
{
  gboolean masked = (second_byte & 0x80) != 0;

  if (parser->role == GC_WS_ROLE_SERVER && !masked)
    return parser_fail (parser, error, GC_WS_CLOSE_PROTOCOL_ERROR,
                        "Unmasked frame from a client");
  if (parser->role == GC_WS_ROLE_CLIENT && masked)
    return parser_fail (parser, error, GC_WS_CLOSE_PROTOCOL_ERROR,
                        "Masked frame from a server");

  /* A control frame's length must fit the 7-bit field: an extended length
   * would be either too big or a non-minimal encoding of a small one, and
   * neither is worth accepting on a frame that cannot exceed 125 bytes. */
  if (opcode_is_control (first_byte & 0x0f) && (second_byte & 0x7f) > GC_WS_MAX_CONTROL_PAYLOAD)
    return parser_fail (parser, error, GC_WS_CLOSE_PROTOCOL_ERROR,
                        "Control frame payload is longer than %d bytes",
                        GC_WS_MAX_CONTROL_PAYLOAD);

  return TRUE;
}

/* Makes room for @extra more bytes of the message. The first frame of a
 * message gets exactly its size; growth beyond that (later fragments, or a
 * huge frame arriving piece by piece) is at least geometric so that many
 * small fragments cost amortised O(1) copies per byte, but never past the
 * end of a final frame, whose size is known. The buffer is trimmed to the
 * exact message size on delivery. */
static void
parser_reserve (GcWsParser *parser,
                gsize       extra)
{
  gsize needed = parser->message_len + extra;
  gsize grown;

  if (needed <= parser->message_alloc)
    return;

  grown = parser->message_alloc > G_MAXSIZE / 2 ? G_MAXSIZE : parser->message_alloc * 2;
  if (parser->frame_fin)
    grown = MIN (grown, parser->message_len + parser->frame_remaining);
  else if (parser->max_message_size != 0)
    grown = MIN (grown, parser->max_message_size);

  parser->message_alloc = MAX (needed, grown);
  parser->message = g_realloc (parser->message, parser->message_alloc);
}

/* Starts a frame from its complete header. */
static gboolean
parser_begin_frame (GcWsParser    *parser,
                    const guint8  *header,
                    GError       **error)
{
  guint opcode = header[0] & 0x0f;
  guint length_field = header[1] & 0x7f;
  guint64 payload_len;
  gsize pos = 2;

  if (!parser_check_first_byte (parser, header[0], error) ||
      !parser_check_second_byte (parser, header[0], header[1], error))
    return FALSE;

  /* RFC 6455 §5.2 obliges the SENDER to use the minimal length encoding;
   * a longer encoding is still unambiguous, and like Autobahn's reference
   * endpoints we accept it rather than fail the connection. */
  if (length_field == 126)
    {
      payload_len = ((guint64) header[2] << 8) | header[3];
      pos = 4;
    }
  else if (length_field == 127)
    {
      payload_len = 0;
      for (pos = 2; pos < 10; pos++)
        payload_len = (payload_len << 8) | header[pos];
      if (payload_len >> 63)
        return parser_fail (parser, error, GC_WS_CLOSE_PROTOCOL_ERROR,
                            "Frame length has the most significant bit set");
    }
  else
    {
      payload_len = length_field;
    }

  parser->frame_opcode = opcode;
  parser->frame_fin = (header[0] & 0x80) != 0;
  parser->frame_masked = (header[1] & 0x80) != 0;
  parser->frame_remaining = payload_len;
  if (parser->frame_masked)
    {
      memcpy (parser->mask, header + pos, 4);
      parser->mask_phase = 0;
    }

  if (opcode_is_control (opcode))
    {
      parser->control = payload_len > 0 ? g_malloc (payload_len) : NULL;
      parser->control_len = 0;
    }
  else
    {
      gboolean fits_in_memory = payload_len <= G_MAXSIZE - parser->message_len;
      guint64 total = parser->message_len + payload_len;

      if (!fits_in_memory ||
          (parser->max_message_size != 0 && total > parser->max_message_size))
        return parser_fail (parser, error, GC_WS_CLOSE_TOO_BIG,
                            "Message of at least %" G_GUINT64_FORMAT " bytes exceeds the limit of %" G_GUINT64_FORMAT " bytes",
                            total, parser->max_message_size);

      /* The UTF-8 state is already back at the start: the previous text
       * message ended complete, or the parser would have failed. */
      if (opcode != GC_WS_OPCODE_CONTINUATION)
        parser->message_opcode = opcode;
      parser_reserve (parser, MIN (payload_len, PREALLOC_LIMIT));
    }

  parser->state = PARSER_PAYLOAD;
  return TRUE;
}

/* Consumes header bytes from *@data; on return either the frame has begun
 * (state PARSER_PAYLOAD) or all input went into the partial header. */
static gboolean
parser_read_header (GcWsParser    *parser,
                    const guint8 **data,
                    gsize         *len,
                    GError       **error)
{
  const guint8 *in = *data;
  gsize avail = *len;

  if (parser->header_len == 0 && avail >= 2 && avail >= header_size_for (in[1]))
    {
      gsize size = header_size_for (in[1]);

      *data += size;
      *len -= size;
      return parser_begin_frame (parser, in, error);
    }

  while (avail > 0)
    {
      parser->header[parser->header_len++] = *in++;
      avail--;

      if (parser->header_len == 1)
        {
          if (!parser_check_first_byte (parser, parser->header[0], error))
            return FALSE;
        }
      else if (parser->header_len == 2)
        {
          if (!parser_check_second_byte (parser, parser->header[0], parser->header[1], error))
            return FALSE;
        }

      if (parser->header_len >= 2 && parser->header_len == header_size_for (parser->header[1]))
        break;
    }

  *data = in;
  *len = avail;

  if (parser->header_len < 2 || parser->header_len < header_size_for (parser->header[1]))
    return TRUE;

  parser->header_len = 0;
  return parser_begin_frame (parser, parser->header, error);
}

static void
parser_copy_payload (GcWsParser   *parser,
                     guint8       *dst,
                     const guint8 *src,
                     gsize         len)
{
  if (parser->frame_masked)
    parser->mask_phase = mask_copy (dst, src, len, parser->mask, parser->mask_phase);
  else
    memcpy (dst, src, len);
}

/* Takes @len (> 0) payload bytes of the current frame. */
static gboolean
parser_read_payload (GcWsParser    *parser,
                     const guint8  *data,
                     gsize          len,
                     GError       **error)
{
  if (opcode_is_control (parser->frame_opcode))
    {
      parser_copy_payload (parser, parser->control + parser->control_len, data, len);
      parser->control_len += len;
      parser->frame_remaining -= len;
      return TRUE;
    }

  parser_reserve (parser, len);

  if (parser->message_opcode != GC_WS_OPCODE_TEXT)
    {
      parser_copy_payload (parser, parser->message + parser->message_len, data, len);
      parser->message_len += len;
      parser->frame_remaining -= len;
      return TRUE;
    }

  /* Text fails at the first invalid byte, not at the end of the message. */
  while (len > 0)
    {
      gsize block = MIN (len, VALIDATE_BLOCK);
      guint8 *dst = parser->message + parser->message_len;

      parser_copy_payload (parser, dst, data, block);
      if (!gc_ws_utf8_validate_chunk (&parser->utf8, dst, block))
        return parser_fail (parser, error, GC_WS_CLOSE_BAD_DATA,
                            "Text message is not valid UTF-8");

      parser->message_len += block;
      parser->frame_remaining -= block;
      data += block;
      len -= block;
    }

  return TRUE;
}

/* Hands @payload (consumed) to @func; a FALSE from it stops the parser. */
static void
parser_deliver (GcWsParser     *parser,
                GcWsOpcode      opcode,
                GBytes         *payload,
                GcWsParserFunc  func,
                gpointer        user_data)
{
  gboolean keep_going;

  keep_going = func (opcode, payload, user_data);
  g_bytes_unref (payload);

  if (!keep_going)
    {
      parser_clear_buffers (parser);
      parser->state = PARSER_STOPPED;
    }
}

static gboolean
parser_finish_frame (GcWsParser      *parser,
                     GcWsParserFunc   func,
                     gpointer         user_data,
                     GError         **error)
{
  GBytes *payload;
  GcWsOpcode opcode;

  parser->state = PARSER_HEADER;

  if (opcode_is_control (parser->frame_opcode))
    {
      guint8 *data = g_steal_pointer (&parser->control);
      gsize len = parser->control_len;

      parser->control_len = 0;

      if (parser->frame_opcode == GC_WS_OPCODE_CLOSE)
        {
          g_autoptr(GError) close_error = NULL;

          if (!gc_ws_close_payload_parse (data, len, NULL, NULL, &close_error))
            {
              g_free (data);
              return parser_fail (parser, error, (guint16) close_error->code, "%s", close_error->message);
            }
        }

      parser_deliver (parser, parser->frame_opcode, g_bytes_new_take (data, len),
                      func, user_data);
      return TRUE;
    }

  if (!parser->frame_fin)
    return TRUE;

  if (parser->message_opcode == GC_WS_OPCODE_TEXT &&
      !gc_ws_utf8_state_is_complete (&parser->utf8))
    return parser_fail (parser, error, GC_WS_CLOSE_BAD_DATA,
                        "Text message ends inside a UTF-8 sequence");

  if (parser->message_alloc != parser->message_len)
    parser->message = g_realloc (parser->message, parser->message_len);

  opcode = parser->message_opcode;
  payload = g_bytes_new_take (g_steal_pointer (&parser->message), parser->message_len);
  parser->message_len = 0;
  parser->message_alloc = 0;
  parser->message_opcode = GC_WS_OPCODE_CONTINUATION;

  parser_deliver (parser, opcode, payload, func, user_data);
  return TRUE;
}

gboolean
gc_ws_parser_feed (GcWsParser      *parser,
                   const guint8    *data,
                   gsize            len,
                   GcWsParserFunc   func,
                   gpointer         user_data,
                   GError         **error)
{
  g_return_val_if_fail (parser != NULL, FALSE);
  g_return_val_if_fail (data != NULL || len == 0, FALSE);
  g_return_val_if_fail (func != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (parser->state == PARSER_FAILED)
    {
      g_set_error (error, GC_WS_ERROR, parser->error_code,
                   "The WebSocket stream already failed (close code %u)",
                   parser->error_code);
      return FALSE;
    }

  while (len > 0 && parser->state != PARSER_STOPPED)
    {
      if (parser->state == PARSER_HEADER &&
          !parser_read_header (parser, &data, &len, error))
        return FALSE;

      /* A frame may begin with no input left: an empty one ends at once. */
      if (parser->state == PARSER_PAYLOAD)
        {
          gsize take = (gsize) MIN ((guint64) len, parser->frame_remaining);

          if (take > 0)
            {
              if (!parser_read_payload (parser, data, take, error))
                return FALSE;
              data += take;
              len -= take;
            }

          if (parser->frame_remaining == 0 &&
              !parser_finish_frame (parser, func, user_data, error))
            return FALSE;
        }
    }

  return TRUE;
}

gsize
gc_ws_frame_header_size (guint64  payload_len,
                         gboolean masked)
{
  gsize size = 2;

  if (payload_len > G_MAXUINT16)
    size += 8;
  else if (payload_len > 125)
    size += 2;
  if (masked)
    size += 4;

  return size;
}

/* The header without its mask bit and key. */
static gsize
encode_header (guint8     *out,
               GcWsOpcode  opcode,
               gboolean    fin,
               gsize       len)
{
  gsize pos;

  out[0] = (fin ? 0x80 : 0) | opcode;
  if (len <= 125)
    {
      out[1] = len;
      pos = 2;
    }
  else if (len <= G_MAXUINT16)
    {
      out[1] = 126;
      out[2] = len >> 8;
      out[3] = len & 0xff;
      pos = 4;
    }
  else
    {
      guint64 len64 = len;
      int i;

      out[1] = 127;
      for (i = 0; i < 8; i++)
        out[2 + i] = (len64 >> (56 - 8 * i)) & 0xff;
      pos = 10;
    }
  return pos;
}

gsize
gc_ws_frame_encode_header (guint8     *out,
                           GcWsOpcode  opcode,
                           gboolean    fin,
                           gsize       len)
{
  g_return_val_if_fail (out != NULL, 0);
  g_return_val_if_fail (opcode_is_known (opcode), 0);
  g_return_val_if_fail (!opcode_is_control (opcode) || (fin && len <= GC_WS_MAX_CONTROL_PAYLOAD), 0);

  return encode_header (out, opcode, fin, len);
}

gsize
gc_ws_frame_encode_into (guint8       *out,
                         GcWsRole      role,
                         GcWsOpcode    opcode,
                         gboolean      fin,
                         const guint8 *payload,
                         gsize         len)
{
  gboolean masked = role == GC_WS_ROLE_CLIENT;
  gsize pos;

  g_return_val_if_fail (out != NULL, 0);
  g_return_val_if_fail (payload != NULL || len == 0, 0);
  g_return_val_if_fail (opcode_is_known (opcode), 0);
  g_return_val_if_fail (!opcode_is_control (opcode) || (fin && len <= GC_WS_MAX_CONTROL_PAYLOAD), 0);

  pos = encode_header (out, opcode, fin, len);
  if (masked)
    {
      out[1] |= 0x80;
      gc_ws_random_bytes (out + pos, 4);
      mask_copy (out + pos + 4, payload, len, out + pos, 0);
      pos += 4;
    }
  else if (len > 0)
    {
      memcpy (out + pos, payload, len);
    }

  return pos + len;
}

GBytes *
gc_ws_frame_encode (GcWsRole      role,
                    GcWsOpcode    opcode,
                    gboolean      fin,
                    const guint8 *payload,
                    gsize         len)
{
  gsize size;
  guint8 *frame;

  g_return_val_if_fail (payload != NULL || len == 0, NULL);
  g_return_val_if_fail (opcode_is_known (opcode), NULL);
  g_return_val_if_fail (!opcode_is_control (opcode) || (fin && len <= GC_WS_MAX_CONTROL_PAYLOAD), NULL);

  size = gc_ws_frame_header_size (len, role == GC_WS_ROLE_CLIENT) + len;
  frame = g_malloc (size);
  gc_ws_frame_encode_into (frame, role, opcode, fin, payload, len);

  return g_bytes_new_take (frame, size);
}

GBytes *
gc_ws_frame_encode_close (GcWsRole    role,
                          gushort     code,
                          const char *reason)
{
  guint8 body[GC_WS_MAX_CONTROL_PAYLOAD];
  gsize body_len = 0;

  g_return_val_if_fail (code == 0 || gc_ws_close_code_is_valid (code), NULL);
  g_return_val_if_fail (reason == NULL || g_utf8_validate (reason, -1, NULL), NULL);

  /* Without a code there is no room for a reason (§5.5.1), so it is dropped. */
  if (code != 0)
    {
      body[0] = code >> 8;
      body[1] = code & 0xff;
      body_len = 2;

      if (reason != NULL)
        {
          gsize reason_len = strlen (reason);

          if (reason_len > sizeof body - 2)
            {
              reason_len = sizeof body - 2;
              /* Back off to the start of the character that would be cut. */
              while (reason_len > 0 && (reason[reason_len] & 0xc0) == 0x80)
                reason_len--;
            }
          memcpy (body + 2, reason, reason_len);
          body_len += reason_len;
        }
    }

  return gc_ws_frame_encode (role, GC_WS_OPCODE_CLOSE, TRUE, body, body_len);
}

gboolean
gc_ws_close_code_is_valid (gushort code)
{
  /* Codes a peer may put on the wire (RFC 6455 §7.4): 1004 is reserved,
   * 1005, 1006 and 1015 are local-only, 1016-2999 are for future RFCs and
   * 5000 and up do not exist. 1012-1014 (service restart, try again later,
   * bad gateway) were registered with IANA after the RFC; Autobahn does
   * not count them as invalid, and real servers send them. */
  return (code >= 1000 && code <= 1003) ||
         (code >= 1007 && code <= 1014) ||
         (code >= 3000 && code <= 4999);
}

gboolean
gc_ws_close_payload_parse (const guint8  *payload,
                           gsize          len,
                           gushort       *code,
                           char         **reason,
                           GError       **error)
{
  GcWsUtf8State utf8 = { 0, };
  gushort parsed_code;

  g_return_val_if_fail (payload != NULL || len == 0, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (len == 0)
    {
      if (code != NULL)
        *code = GC_WS_CLOSE_NO_STATUS;
      if (reason != NULL)
        *reason = g_strdup ("");
      return TRUE;
    }

  if (len == 1)
    {
      g_set_error_literal (error, GC_WS_ERROR, GC_WS_CLOSE_PROTOCOL_ERROR,
                           "Close frame body of one byte cannot hold a close code");
      return FALSE;
    }

  if (len > GC_WS_MAX_CONTROL_PAYLOAD)
    {
      g_set_error (error, GC_WS_ERROR, GC_WS_CLOSE_PROTOCOL_ERROR,
                   "Close frame body is longer than %d bytes", GC_WS_MAX_CONTROL_PAYLOAD);
      return FALSE;
    }

  parsed_code = (payload[0] << 8) | payload[1];
  if (!gc_ws_close_code_is_valid (parsed_code))
    {
      g_set_error (error, GC_WS_ERROR, GC_WS_CLOSE_PROTOCOL_ERROR,
                   "Close frame has the invalid close code %u", parsed_code);
      return FALSE;
    }

  if (!gc_ws_utf8_validate_chunk (&utf8, payload + 2, len - 2) ||
      !gc_ws_utf8_state_is_complete (&utf8))
    {
      g_set_error_literal (error, GC_WS_ERROR, GC_WS_CLOSE_BAD_DATA,
                           "Close reason is not valid UTF-8");
      return FALSE;
    }

  if (code != NULL)
    *code = parsed_code;
  /* U+0000 is valid UTF-8 but ends a C string: such a reason is cut there. */
  if (reason != NULL)
    *reason = g_strndup ((const char *) payload + 2, len - 2);

  return TRUE;
}
