/* gc-ws-frame.h: a pure RFC 6455 frame codec (no I/O)
 *
 * The parser takes bytes in any chunking and reports complete messages
 * and control frames through a callback; the encoder writes frames with
 * minimal-length headers. Neither touches a socket, so both can be fed
 * by a test, a fuzzer, or GcWsConnection alike.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "gc-ws-utf8.h"

G_BEGIN_DECLS

typedef enum {
  GC_WS_ROLE_SERVER,
  GC_WS_ROLE_CLIENT,
} GcWsRole;

typedef enum {
  GC_WS_OPCODE_CONTINUATION = 0x0,
  GC_WS_OPCODE_TEXT         = 0x1,
  GC_WS_OPCODE_BINARY       = 0x2,
  GC_WS_OPCODE_CLOSE        = 0x8,
  GC_WS_OPCODE_PING         = 0x9,
  GC_WS_OPCODE_PONG         = 0xA,
} GcWsOpcode;

/* Close codes (RFC 6455 §7.4.1). 1005 and 1006 are never sent on the wire. */
typedef enum {
  GC_WS_CLOSE_NORMAL           = 1000,
  GC_WS_CLOSE_GOING_AWAY       = 1001,
  GC_WS_CLOSE_PROTOCOL_ERROR   = 1002,
  GC_WS_CLOSE_UNSUPPORTED_DATA = 1003,
  GC_WS_CLOSE_NO_STATUS        = 1005,
  GC_WS_CLOSE_ABNORMAL         = 1006,
  GC_WS_CLOSE_BAD_DATA         = 1007,
  GC_WS_CLOSE_POLICY_VIOLATION = 1008,
  GC_WS_CLOSE_TOO_BIG          = 1009,
  GC_WS_CLOSE_MISSING_EXTENSION = 1010,
  GC_WS_CLOSE_SERVER_ERROR     = 1011,
} GcWsCloseCode;

/* Errors from the codec and the connection. For protocol violations the
 * error code IS the close code to send (1002, 1007, 1009, ...). */
#define GC_WS_ERROR (gc_ws_error_quark ())
GQuark gc_ws_error_quark (void);

#define GC_WS_MAX_CONTROL_PAYLOAD 125
#define GC_WS_MAX_HEADER_SIZE 14

typedef struct _GcWsParser GcWsParser;

/**
 * GcWsParserFunc:
 * @opcode: %GC_WS_OPCODE_TEXT or %GC_WS_OPCODE_BINARY for a complete
 *   (reassembled) message, or %GC_WS_OPCODE_CLOSE, %GC_WS_OPCODE_PING,
 *   %GC_WS_OPCODE_PONG for a control frame
 * @payload: the unmasked payload; borrowed, ref it to keep it. Text is
 *   already validated as UTF-8; a close payload is already validated
 *   (see gc_ws_close_payload_parse()).
 * @user_data: closure data
 *
 * Returns: %TRUE to go on parsing, %FALSE to stop: gc_ws_parser_feed()
 *   then returns at once, and the parser discards everything after.
 */
typedef gboolean (*GcWsParserFunc) (GcWsOpcode  opcode,
                                    GBytes     *payload,
                                    gpointer    user_data);

/* @role is the role of the endpoint that RECEIVES: a server parser demands
 * masked frames, a client parser refuses them. @max_message_size bounds a
 * reassembled message (0 = no bound); it is checked from each frame header
 * before any payload is buffered. */
GcWsParser *gc_ws_parser_new            (GcWsRole        role,
                                         guint64         max_message_size);
void        gc_ws_parser_free           (GcWsParser     *parser);
void        gc_ws_parser_set_max_message_size (GcWsParser *parser,
                                         guint64         max_message_size);

/* Feeds @len bytes. Calls @func for each complete message or control frame.
 * Returns %FALSE with @error (domain %GC_WS_ERROR, code = close code to send)
 * on the first violation; the parser then stays failed. Returns %TRUE when all
 * bytes were consumed or @func asked to stop. */
gboolean    gc_ws_parser_feed           (GcWsParser     *parser,
                                         const guint8   *data,
                                         gsize           len,
                                         GcWsParserFunc  func,
                                         gpointer        user_data,
                                         GError        **error);

/* Bytes the parser holds for an incomplete frame or message (for memory
 * accounting; 0 when idle). */
gsize       gc_ws_parser_get_buffered   (GcWsParser     *parser);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcWsParser, gc_ws_parser_free)

/* Encoding. @role is the role of the SENDER: client frames are masked with a
 * fresh random key per frame, server frames are not. Headers are minimal. */
gsize       gc_ws_frame_header_size     (guint64         payload_len,
                                         gboolean        masked);
GBytes     *gc_ws_frame_encode          (GcWsRole        role,
                                         GcWsOpcode      opcode,
                                         gboolean        fin,
                                         const guint8   *payload,
                                         gsize           len);
/* Writes a complete frame into @out, which holds at least
 * gc_ws_frame_header_size() + @len bytes; returns the bytes written. */
gsize       gc_ws_frame_encode_into     (guint8         *out,
                                         GcWsRole        role,
                                         GcWsOpcode      opcode,
                                         gboolean        fin,
                                         const guint8   *payload,
                                         gsize           len);
/* Writes the header of a server's (unmasked) frame of @len bytes into
 * @out, which holds at least gc_ws_frame_header_size (@len, FALSE) bytes;
 * returns that size. The payload goes right after it: a sender that
 * writes it there itself copies it once. */
gsize       gc_ws_frame_encode_header   (guint8         *out,
                                         GcWsOpcode      opcode,
                                         gboolean        fin,
                                         gsize           len);
/* A close frame; @code 0 means an empty body (and no reason), otherwise it
 * must pass gc_ws_close_code_is_valid(); @reason may be %NULL, must be
 * UTF-8, and is truncated (at a character boundary) to fit in 125 bytes. */
GBytes     *gc_ws_frame_encode_close    (GcWsRole        role,
                                         gushort         code,
                                         const char     *reason);

/* Close payload rules (RFC 6455 §5.5.1, §7.4): empty is fine (code 1005),
 * one byte is not, the code must be one a peer may send, the reason valid
 * UTF-8. On success sets @code and @reason (newly allocated, may be "";
 * cut at a U+0000), either of which may be %NULL. */
gboolean    gc_ws_close_payload_parse   (const guint8   *payload,
                                         gsize           len,
                                         gushort        *code,
                                         char          **reason,
                                         GError        **error);
gboolean    gc_ws_close_code_is_valid   (gushort         code);

G_END_DECLS
