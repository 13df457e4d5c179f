/* gc-protocol.h: the GoChat wire protocol v1 — validation, requests and events
 *
 * Pure functions and small plain structs shared by the server and the app:
 * no server state, no sockets, no GTK. The wire protocol contract,
 * docs/protocol.md, is normative; section numbers (§) below refer to it.
 *
 * Events are built as compact JSON text in a #GBytes so the server can
 * frame one message event once and fan it out, and splice the very same
 * bytes into a later welcome's history.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define GC_PROTOCOL_VERSION 1
#define GC_PROTOCOL_SUBPROTOCOL "gochat.v1"
#define GC_PROTOCOL_SERVER_NAME "gochat-server"

/* The reasons of a shutdown's close 1001 (§6.6, §7): a server, or a room
 * hosted in the GoChat app whose host stopped hosting it. */
#define GC_PROTOCOL_CLOSE_REASON_SHUTDOWN     "server shutting down"
#define GC_PROTOCOL_CLOSE_REASON_HOST_STOPPED "host stopped hosting"

/* Fixed by §3.3, §3.4 and §5.1. */
#define GC_PROTOCOL_MAX_ROOM_CODE_LENGTH 64   /* characters (all ASCII) */
#define GC_PROTOCOL_MAX_USER_NAME_LENGTH 32   /* Unicode code points */
#define GC_PROTOCOL_MAX_CLIENT_ID_BYTES  64

/* Server defaults (§9, announced in welcome.limits, §4.2); the server may be
 * configured otherwise. */
#define GC_PROTOCOL_DEFAULT_MAX_TEXT_BYTES    4096
#define GC_PROTOCOL_DEFAULT_MAX_MESSAGE_BYTES 65536
#define GC_PROTOCOL_DEFAULT_RATE_BURST        10
#define GC_PROTOCOL_DEFAULT_RATE_PER_S        5.0
#define GC_PROTOCOL_DEFAULT_RESUME_S          30

/* Deepest nesting of arrays/objects a parsed document may have. json-glib
 * recurses per level with no bound of its own (100 000 levels crash it);
 * our own events need 4. */
#define GC_PROTOCOL_MAX_JSON_DEPTH 64

/* ------------------------------------------------------------------ */
/* Errors                                                               */
/* ------------------------------------------------------------------ */

#define GC_PROTOCOL_ERROR (gc_protocol_error_quark ())
GQuark gc_protocol_error_quark (void);

/**
 * GcProtocolError:
 * @GC_PROTOCOL_ERROR_FAILED: not a wire code: an error code this version
 *   does not know (sent by a newer peer). Has no wire string.
 * @GC_PROTOCOL_ERROR_BAD_REQUEST: `bad_request`
 * @GC_PROTOCOL_ERROR_EMPTY_MESSAGE: `empty_message`
 * @GC_PROTOCOL_ERROR_MESSAGE_TOO_LONG: `message_too_long`
 * @GC_PROTOCOL_ERROR_RATE_LIMITED: `rate_limited`
 * @GC_PROTOCOL_ERROR_INVALID_USER_NAME: `invalid_user_name`
 * @GC_PROTOCOL_ERROR_NAME_TAKEN: `name_taken`
 * @GC_PROTOCOL_ERROR_INVALID_ROOM_CODE: `invalid_room_code`
 * @GC_PROTOCOL_ERROR_NOT_FOUND: `not_found`
 * @GC_PROTOCOL_ERROR_ROOM_FULL: `room_full`
 * @GC_PROTOCOL_ERROR_ORIGIN_NOT_ALLOWED: `origin_not_allowed`
 * @GC_PROTOCOL_ERROR_UPGRADE_REQUIRED: `upgrade_required`
 * @GC_PROTOCOL_ERROR_SERVER_FULL: `server_full`
 * @GC_PROTOCOL_ERROR_METHOD_NOT_ALLOWED: `method_not_allowed` (405; a
 *   request with another method than an endpoint takes, §3.6, §8)
 * @GC_PROTOCOL_ERROR_UNAVAILABLE: `unavailable` (503 with `retry_after_ms`:
 *   a node of several cannot reach the rooms' store, or does not hold
 *   its lease, §3.6)
 *
 * The error codes of `error` events (§4.8) and HTTP refusals (§3.6). Every
 * #GError this module sets is in the %GC_PROTOCOL_ERROR domain with one
 * of these codes, and its message is fit to send as the event's or the
 * refusal's `message`.
 */
typedef enum {
  GC_PROTOCOL_ERROR_FAILED,
  GC_PROTOCOL_ERROR_BAD_REQUEST,
  GC_PROTOCOL_ERROR_EMPTY_MESSAGE,
  GC_PROTOCOL_ERROR_MESSAGE_TOO_LONG,
  GC_PROTOCOL_ERROR_RATE_LIMITED,
  GC_PROTOCOL_ERROR_INVALID_USER_NAME,
  GC_PROTOCOL_ERROR_NAME_TAKEN,
  GC_PROTOCOL_ERROR_INVALID_ROOM_CODE,
  GC_PROTOCOL_ERROR_NOT_FOUND,
  GC_PROTOCOL_ERROR_ROOM_FULL,
  GC_PROTOCOL_ERROR_ORIGIN_NOT_ALLOWED,
  GC_PROTOCOL_ERROR_UPGRADE_REQUIRED,
  GC_PROTOCOL_ERROR_SERVER_FULL,
  GC_PROTOCOL_ERROR_METHOD_NOT_ALLOWED,
  GC_PROTOCOL_ERROR_UNAVAILABLE,
} GcProtocolError;

/* How many values GcProtocolError has. */
#define GC_PROTOCOL_N_ERRORS (GC_PROTOCOL_ERROR_UNAVAILABLE + 1)

/* The wire string ("bad_request", ...); %NULL for %GC_PROTOCOL_ERROR_FAILED
 * or a value outside the enum. */
const char *gc_protocol_error_to_string   (GcProtocolError  code);

/* Reverse of gc_protocol_error_to_string(). Returns %FALSE (and leaves
 * @out_code alone) for %NULL or an unknown string. */
gboolean    gc_protocol_error_from_string (const char      *str,
                                           GcProtocolError *out_code);

/* The HTTP status of a refusal with @code (§3.6 table): 400, 403, 404, 405,
 * 409, 426, 429 or 503. Codes that are never refusals give 400. */
guint       gc_protocol_error_http_status (GcProtocolError  code);

/* ------------------------------------------------------------------ */
/* Validation (§3.2–§3.5)                                              */
/* ------------------------------------------------------------------ */

/**
 * gc_protocol_canonical_room_code:
 * @code: (nullable): a room code as the client sent it
 * @error: return location for a %GC_PROTOCOL_ERROR_INVALID_ROOM_CODE
 *
 * Checks 1–64 characters of `A–Z a–z 0–9 _ -`; %NULL counts as missing.
 *
 * Returns: (transfer full): the canonical (lower case) code, or %NULL
 */
char     *gc_protocol_canonical_room_code (const char  *code,
                                           GError     **error);

/**
 * gc_protocol_normalize_user_name:
 * @name: (nullable): a user name as the client sent it (already
 *   form-decoded); %NULL counts as missing
 * @error: return location for a %GC_PROTOCOL_ERROR_INVALID_USER_NAME
 *
 * Checks valid UTF-8, trims Unicode White_Space at both ends, then checks
 * 1–32 code points, no character of category Cc (which includes TAB,
 * DEL and U+0080–U+009F) or Cf (invisible and bidirectional formatting)
 * in what remains, and letters of one script, Common and Inherited
 * aside (Unicode TR39's single-script rule with its augmented sets:
 * Han with kana, Bopomofo or Hangul), so that no name looks like
 * another (§3.4).
 *
 * Returns: (transfer full): the trimmed name, or %NULL
 */
char     *gc_protocol_normalize_user_name (const char  *name,
                                           GError     **error);

/**
 * GcProtocolNameProblem:
 *
 * What gc_protocol_check_user_name() found wrong with a name, for a
 * client that explains it in its own (translated) words.
 */
typedef enum {
  GC_PROTOCOL_NAME_OK,
  GC_PROTOCOL_NAME_MISSING,
  GC_PROTOCOL_NAME_NOT_UTF8,
  GC_PROTOCOL_NAME_EMPTY,
  GC_PROTOCOL_NAME_CONTROL,        /* Cc, the character given */
  GC_PROTOCOL_NAME_INVISIBLE,      /* Cf, the character given */
  GC_PROTOCOL_NAME_MIXED_SCRIPTS,  /* the first letter of another script */
  GC_PROTOCOL_NAME_TOO_LONG,
} GcProtocolNameProblem;

/**
 * gc_protocol_check_user_name:
 * @name: (nullable): as for gc_protocol_normalize_user_name()
 * @problem: (out) (optional): what is wrong, or %GC_PROTOCOL_NAME_OK
 * @character: (out) (optional): the offending character for CONTROL,
 *   INVISIBLE and MIXED_SCRIPTS, else 0
 *
 * The same check as gc_protocol_normalize_user_name(), which words its
 * error from this (those words go over the wire).
 *
 * Returns: (transfer full): the trimmed name, or %NULL
 */
char     *gc_protocol_check_user_name     (const char            *name,
                                           GcProtocolNameProblem *problem,
                                           gunichar              *character);

/**
 * gc_protocol_user_name_key:
 * @normalized_name: a name returned by gc_protocol_normalize_user_name()
 *
 * The identity of a name for the uniqueness rule (§3.4): two names clash
 * exactly when their keys are equal (strcmp). The key is
 * NFKC(casefold(NFKC(name))) with full case folding, so "Straße",
 * "STRASSE" and "strasse" share a key, as do "K" (U+212A KELVIN SIGN),
 * "k" and fullwidth "ｋ".
 *
 * Returns: (transfer full): the key; never shown to anyone
 */
char     *gc_protocol_user_name_key       (const char  *normalized_name);

/**
 * gc_protocol_suggest_name:
 * @normalized_name: a valid, normalized user name
 * @n: the suffix, >= 2
 *
 * @normalized_name with the decimal @n appended, the base shortened by
 * whole code points so the result has at most 32 code points. White
 * space a cut leaves at the end of the base is dropped too ("ab cd…"
 * gives "ab2", not "ab 2"). The suggestion is itself a valid, normalized
 * name.
 *
 * Returns: (transfer full): the suggestion, e.g. "alice2"
 */
char     *gc_protocol_suggest_name        (const char  *normalized_name,
                                           guint        n);

/**
 * GcProtocolNameTakenFunc:
 * @key: a name key (see gc_protocol_user_name_key())
 * @user_data: closure data
 *
 * Returns: %TRUE if a member with that name key exists
 */
typedef gboolean (*GcProtocolNameTakenFunc) (const char *key,
                                             gpointer    user_data);

/**
 * gc_protocol_find_free_name:
 * @normalized_name: a valid, normalized user name
 * @is_taken: tells which keys are in use
 * @user_data: data for @is_taken
 *
 * The 409 suggestion (§3.4): the first of gc_protocol_suggest_name()
 * with n = 2, 3, … whose key @is_taken says is free.
 *
 * Returns: (transfer full): a free name
 */
char     *gc_protocol_find_free_name      (const char              *normalized_name,
                                           GcProtocolNameTakenFunc  is_taken,
                                           gpointer                 user_data);

/**
 * gc_protocol_parse_since:
 * @str: the `since` query value
 * @out_since: (out): the parsed id
 * @error: return location for a %GC_PROTOCOL_ERROR_BAD_REQUEST
 *
 * Accepts a non-negative decimal integer that fits a #guint64: digits
 * only, no sign, no white space.
 *
 * Returns: %TRUE on success
 */
gboolean  gc_protocol_parse_since         (const char  *str,
                                           guint64     *out_since,
                                           GError     **error);

/* ------------------------------------------------------------------ */
/* Joining: the /joinRoom path and query (§3)                           */
/* ------------------------------------------------------------------ */

#define GC_PROTOCOL_JOIN_PATH "/joinRoom"

/**
 * GcJoinParams:
 * @room_code: the room code as the user gave it
 * @user_name: the name as the user gave it
 * @session_id: (nullable): a resume token (§6.2); omitted if %NULL
 * @has_since: whether to send @since
 * @since: the id of the last message seen (§6.1)
 *
 * Borrowed inputs of gc_join_build_query().
 */
typedef struct {
  const char *room_code;
  const char *user_name;
  const char *session_id;
  gboolean    has_since;
  guint64     since;
} GcJoinParams;

/* "BASE/joinRoom": @base_path (nullable) is the path of the server's URL,
 * kept for servers behind a proxy under a path; trailing slashes go. */
char     *gc_join_build_path   (const char         *base_path);
/* "room_code=…&user_name=…[&session_id=…][&since=N]", every byte of a
 * value but RFC 3986's unreserved ones percent-encoded. */
char     *gc_join_build_query  (const GcJoinParams *params);
/* Path "?" query, for clients that send the request target as one. */
char     *gc_join_build_target (const char         *base_path,
                                const GcJoinParams *params);
/* Whether @path is the join endpoint's. */
gboolean  gc_join_is_path      (const char         *path);

/**
 * GcJoinQuery:
 * @room_code: the canonical room code
 * @user_name: the normalized name
 * @session_id: (nullable): the resume token, if given
 * @has_since: whether `since` was given
 * @since: its value
 *
 * A join query as the server reads it. Clear with gc_join_query_clear().
 */
typedef struct {
  char     *room_code;
  char     *user_name;
  char     *session_id;
  gboolean  has_since;
  guint64   since;
} GcJoinQuery;

/**
 * gc_join_query_parse:
 * @query: (nullable): the raw (still encoded) query of a join, without `?`
 * @out: (out caller-allocates): the parsed query; on failure it holds
 *   what was valid before the failure (the room code, for a refusal
 *   over the name), and must be cleared all the same
 * @error: return location for the refusal of §3.2–§3.5, checked in the
 *   order of §3.7: room_code, user_name, since, session_id
 *
 * Returns: %TRUE on success
 */
gboolean  gc_join_query_parse  (const char   *query,
                                GcJoinQuery  *out,
                                GError      **error);
void      gc_join_query_clear  (GcJoinQuery  *query);

/**
 * gc_join_query_lookup:
 * @query: (nullable): a raw query
 * @key: the parameter
 * @code: the error code for a bad value of @key
 * @out_value: (out) (nullable): the form-decoded value (§3.2); %NULL if
 *   @key is absent, "" for a key without `=`
 * @error: return location for a @code error: @key given twice, or a
 *   value holding `%00` or a malformed escape
 *
 * Returns: %TRUE on success, @key absent included
 */
gboolean  gc_join_query_lookup (const char       *query,
                                const char       *key,
                                GcProtocolError   code,
                                char            **out_value,
                                GError          **error);

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (GcJoinQuery, gc_join_query_clear)

/* ------------------------------------------------------------------ */
/* Shared value types                                                   */
/* ------------------------------------------------------------------ */

typedef enum {
  GC_MESSAGE_KIND_TEXT,
  GC_MESSAGE_KIND_EMOTE,
} GcMessageKind;

/* "text" / "emote" */
const char *gc_message_kind_to_string   (GcMessageKind  kind);
gboolean    gc_message_kind_from_string (const char    *str,
                                         GcMessageKind *out_kind);

typedef enum {
  GC_LEAVE_REASON_LEFT,
  GC_LEAVE_REASON_TIMEOUT,
  GC_LEAVE_REASON_SLOW,
  GC_LEAVE_REASON_FLOOD,
  GC_LEAVE_REASON_ERROR,
} GcLeaveReason;

/* "left" / "timeout" / "slow" / "flood" / "error" */
const char *gc_leave_reason_to_string   (GcLeaveReason  reason);
gboolean    gc_leave_reason_from_string (const char    *str,
                                         GcLeaveReason *out_reason);

/**
 * GcUser:
 * @id: the opaque USER_ID string the server assigned
 * @name: the display name
 *
 * A room member as it appears on the wire: `{"id":…,"name":…}`.
 * Both strings are owned.
 */
typedef struct {
  char *id;
  char *name;
} GcUser;

GcUser *gc_user_new  (const char   *id,
                      const char   *name);
GcUser *gc_user_copy (const GcUser *user);
void    gc_user_free (GcUser       *user);

/**
 * GcLimits:
 * @max_text_bytes: longest chat text in bytes of UTF-8
 * @max_message_bytes: longest WebSocket message
 * @rate_burst: token bucket size
 * @rate_per_s: token refill rate; written as an integer when it is one
 *
 * The `limits` object of `welcome`.
 */
typedef struct {
  guint  max_text_bytes;
  guint  max_message_bytes;
  guint  rate_burst;
  double rate_per_s;
} GcLimits;

/* Whether @text (@length bytes) is valid UTF-8 without U+0000: the answer
 * g_utf8_validate_len() gives (no overlong forms, surrogates or code
 * points past U+10FFFF), eight bytes at a time over ASCII. */
gboolean gc_protocol_utf8_validate (const char *text,
                                    gsize       length);

/* Fills @limits with the GC_PROTOCOL_DEFAULT_* values. */
void gc_limits_init_default (GcLimits *limits);

/* ------------------------------------------------------------------ */
/* Client → server requests (§5)                                        */
/* ------------------------------------------------------------------ */

typedef enum {
  GC_REQUEST_MESSAGE,
  GC_REQUEST_TYPING,
  GC_REQUEST_RENAME,
} GcRequestType;

/**
 * GcRequest:
 * @type: which request
 * @kind: %GC_REQUEST_MESSAGE: text or emote (default text)
 * @text: %GC_REQUEST_MESSAGE: the chat text, verbatim (never trimmed)
 * @client_id: %GC_REQUEST_MESSAGE: the client's id, or %NULL if none
 * @active: %GC_REQUEST_TYPING: whether the user is typing
 * @name: %GC_REQUEST_RENAME: the new name, already validated and
 *   normalized by gc_protocol_normalize_user_name()
 *
 * A parsed, fully validated request. Fields not used by @type are
 * zero/%NULL.
 */
typedef struct {
  GcRequestType  type;
  GcMessageKind  kind;
  char          *text;
  char          *client_id;
  gboolean       active;
  char          *name;
} GcRequest;

/**
 * gc_request_parse:
 * @json: the text of one WebSocket message; need not be NUL-terminated
 * @len: length of @json in bytes
 * @max_text_bytes: the server's chat text limit
 * @out_ref: (out) (optional) (nullable): the request's `client_id` when
 *   it is a string of at most 64 bytes in a readable JSON object, else
 *   %NULL — set on success and on failure, so an `error` event can carry
 *   `ref`
 * @error: return location for an error
 *
 * Parses and validates one request by every rule of §2.3 and §5:
 * %GC_PROTOCOL_ERROR_BAD_REQUEST for anything that is not a JSON object
 * of a known `type` with well-typed fields (and for JSON that nests
 * deeper than %GC_PROTOCOL_MAX_JSON_DEPTH, holds the escape `\u0000`,
 * which json-glib would silently truncate at, or holds more than one
 * JSON value, of which json-glib would read the first only),
 * %GC_PROTOCOL_ERROR_EMPTY_MESSAGE for text without a non-White_Space
 * character, %GC_PROTOCOL_ERROR_MESSAGE_TOO_LONG for text over
 * @max_text_bytes, %GC_PROTOCOL_ERROR_INVALID_USER_NAME for a bad rename.
 * Unknown fields are ignored.
 *
 * Returns: (transfer full) (nullable): the request, or %NULL on error
 */
GcRequest *gc_request_parse (const char  *json,
                             gsize        len,
                             gsize        max_text_bytes,
                             char       **out_ref,
                             GError     **error);
void       gc_request_free  (GcRequest   *request);

/* Client-side builders: compact JSON request texts. @client_id may be
 * %NULL (then omitted). Strings must be valid UTF-8; invalid bytes would
 * be written as U+FFFD. */
char *gc_request_build_message (const char    *text,
                                GcMessageKind  kind,
                                const char    *client_id);
char *gc_request_build_typing  (gboolean       active);
/* gc_request_build_message() appended to @out, for senders that reuse one
 * buffer; @text_len is in bytes, or -1 if @text is NUL-terminated. */
void  gc_request_append_message (GString       *out,
                                 const char    *text,
                                 gssize         text_len,
                                 GcMessageKind  kind,
                                 const char    *client_id);
char *gc_request_build_rename  (const char    *name);

/* ------------------------------------------------------------------ */
/* Server → client events (§4): builders                                */
/* ------------------------------------------------------------------ */

/* All builders return compact JSON text (no trailing NUL counted in the
 * size, though one follows the data). Strings must be valid UTF-8; any
 * invalid byte is written as U+FFFD, so the output is always valid JSON.
 * `"`, `\`, control characters and U+2028/U+2029 are escaped; other
 * characters are written as UTF-8. Times are Unix milliseconds. */

/**
 * GcWelcomeParams:
 * @server_name: usually %GC_PROTOCOL_SERVER_NAME
 * @server_version: the server's version string
 * @room: the canonical room code
 * @you: the joining member
 * @session_id: the resume token
 * @resume_s: the resume window in seconds
 * @resumed: whether this connection resumed an earlier one
 * @members: (element-type GcUser): every member, including @you
 * @history: (element-type GBytes) (nullable): message events built by
 *   gc_event_build_message(), oldest first; spliced in byte for byte
 * @limits: the limits to announce
 * @members_json: (nullable): when set, the members array's contents as
 *   gc_protocol_append_user() wrote them, comma-separated, used instead of
 *   serialising @members again (a server caches it per room: a welcome
 *   lists every member, and joins are frequent)
 * @members_json_len: its length in bytes
 *
 * Borrowed inputs of gc_event_build_welcome().
 */
typedef struct {
  const char     *server_name;
  const char     *server_version;
  const char     *room;
  const GcUser   *you;
  const char     *session_id;
  guint           resume_s;
  gboolean        resumed;
  GPtrArray      *members;
  GPtrArray      *history;
  const GcLimits *limits;
  const char     *members_json;
  gsize           members_json_len;
} GcWelcomeParams;

GBytes *gc_event_build_welcome (const GcWelcomeParams *params);

/* @id must be > 0; @client_id %NULL omits the field. */
GBytes *gc_event_build_message (guint64        id,
                                gint64         ts,
                                const GcUser  *from,
                                GcMessageKind  kind,
                                const char    *text,
                                const char    *client_id);
/* What a message event holds after its "ts" value (its sender, kind,
 * text and client_id, then the closing brace): a cluster node builds it
 * once for every node, each completes it with its id and ts
 * (gc_event_build_message_from_tail(): the same bytes as
 * gc_event_build_message()). */
char   *gc_event_message_tail  (const GcUser  *from,
                                GcMessageKind  kind,
                                const char    *text,
                                const char    *client_id,
                                gsize         *length);
/* A tail as gc_event_message_tail() writes it, checked before it is
 * completed when it comes from elsewhere (Redis): it starts with
 * ,"from": and ends with }, in valid UTF-8 without U+0000. */
gboolean gc_event_message_tail_is_readable (const char *tail,
                                            gsize       tail_len);
GBytes *gc_event_build_message_from_tail (guint64     id,
                                          gint64      ts,
                                          const char *tail,
                                          gsize       tail_len);
/* The most bytes gc_event_write_message_from_tail() writes. */
#define GC_EVENT_MESSAGE_FROM_TAIL_MAX(tail_len) (24 + 20 + 6 + 21 + (gsize) (tail_len))
/* The same event written into @out (room for
 * GC_EVENT_MESSAGE_FROM_TAIL_MAX (@tail_len) bytes), for a caller that
 * frames it in the same buffer; returns its end (%NULL if @id is 0 or
 * @tail does not end with a brace). */
char   *gc_event_write_message_from_tail (char       *out,
                                          guint64     id,
                                          gint64      ts,
                                          const char *tail,
                                          gsize       tail_len);
/* A message event's head ({"type":"message","id":ID,"ts":TS), kept
 * between events written one after the other (zero-initialise it). */
typedef struct {
  guint64 id;
  gint64  ts;
  gsize   length;    /* 0: none yet */
  gsize   id_end;
  char    text[24 + 20 + 6 + 21];
} GcEventMessageHead;
/* gc_event_write_message_from_tail() for events written in a row: one
 * whose id follows @head's at the same ts (a batch's next message) takes
 * @head's text with the id counted up, no number written again. */
char   *gc_event_write_message_from_tail_after (GcEventMessageHead *head,
                                                char               *out,
                                                guint64             id,
                                                gint64              ts,
                                                const char         *tail,
                                                gsize               tail_len);
GBytes *gc_event_build_join    (const GcUser  *user,
                                gint64         ts);
GBytes *gc_event_build_leave   (const GcUser  *user,
                                GcLeaveReason  reason,
                                gint64         ts);
/* @user carries the new name. */
GBytes *gc_event_build_rename  (const GcUser  *user,
                                const char    *old_name,
                                gint64         ts);
GBytes *gc_event_build_typing  (const GcUser  *user,
                                gboolean       active);

/**
 * gc_event_build_error:
 * @code: the error code; not %GC_PROTOCOL_ERROR_FAILED
 * @message: human readable text
 * @ref: (nullable): the offending request's client_id; omitted if %NULL
 * @retry_after_ms: written only when @code is %GC_PROTOCOL_ERROR_RATE_LIMITED
 *
 * Returns: (transfer full): `{"type":"error",…}`
 */
GBytes *gc_event_build_error   (GcProtocolError  code,
                                const char      *message,
                                const char      *ref,
                                guint64          retry_after_ms);

/* Same as gc_event_build_error() with the #GError's code and message;
 * @error must be in the %GC_PROTOCOL_ERROR domain. */
GBytes *gc_event_build_error_from_gerror (const GError *error,
                                          const char   *ref,
                                          guint64       retry_after_ms);

/**
 * gc_protocol_build_refusal:
 * @code: the error code; not %GC_PROTOCOL_ERROR_FAILED
 * @message: human readable text
 * @suggestion: (nullable): a free name; written only for
 *   %GC_PROTOCOL_ERROR_NAME_TAKEN
 * @retry_after_ms: written only for %GC_PROTOCOL_ERROR_RATE_LIMITED
 *
 * The JSON body of an HTTP refusal (§3.6): `{"error":CODE,"message":…}`.
 * Its status is gc_protocol_error_http_status (@code).
 *
 * Returns: (transfer full): the body
 */
GBytes *gc_protocol_build_refusal (GcProtocolError  code,
                                   const char      *message,
                                   const char      *suggestion,
                                   guint64          retry_after_ms);

/* The members of a refusal body without the braces around them
 * (`"error":…,"message":…`), for a message that carries a refusal among
 * other members (an in-band refusal event); gc_refusal_parse() reads
 * them from either. */
void    gc_protocol_append_refusal_members (GString         *out,
                                            GcProtocolError  code,
                                            const char      *message,
                                            const char      *suggestion,
                                            guint64          retry_after_ms);

/**
 * GcRefusal:
 * @code: (nullable): the `error` code string as sent; %NULL if absent
 * @error: its enum value; %GC_PROTOCOL_ERROR_FAILED for a missing or
 *   unknown code
 * @message: (nullable): the `message`, %NULL if absent
 * @suggestion: (nullable): the `suggestion` of a 409
 * @retry_after_ms: the `retry_after_ms` of a 429; 0 if absent
 *
 * A parsed refusal (§3.6). Members of the wrong type count as absent: a
 * refusal is refused already, its members only inform.
 */
typedef struct {
  char            *code;
  GcProtocolError  error;
  char            *message;
  char            *suggestion;
  guint64          retry_after_ms;
} GcRefusal;

/**
 * gc_refusal_parse:
 * @json: a refusal body (or any JSON object carrying its members)
 * @len: length of @json in bytes
 * @error: return location for a %GC_PROTOCOL_ERROR_BAD_REQUEST when
 *   @json is not one JSON object
 *
 * Returns: (transfer full) (nullable): the refusal, or %NULL on error
 */
GcRefusal *gc_refusal_parse (const char  *json,
                             gsize        len,
                             GError     **error);
void       gc_refusal_free  (GcRefusal   *refusal);

/**
 * gc_event_build_refused:
 * @code: the refusal's code
 * @message: human readable text
 * @suggestion: (nullable): a free name; written only for
 *   %GC_PROTOCOL_ERROR_NAME_TAKEN
 * @retry_after_ms: written only for %GC_PROTOCOL_ERROR_RATE_LIMITED
 *
 * The `refused` event (docs/protocol.md §3.6): a refusal sent after the
 * upgrade, so that a browser can read it: the members of
 * gc_protocol_build_refusal()'s body after `"type":"refused"`. The server
 * then closes with gc_protocol_refusal_close_code() and the code as reason.
 *
 * Returns: (transfer full): the event
 */
GBytes *gc_event_build_refused (GcProtocolError  code,
                                const char      *message,
                                const char      *suggestion,
                                guint64          retry_after_ms);

/* The close code of an in-band refusal with @code: 4000 + its HTTP status
 * (4400, 4403, 4409, 4429, 4503). */
gushort gc_protocol_refusal_close_code (GcProtocolError code);

/**
 * gc_protocol_append_json_string:
 * @out: where to append
 * @str: UTF-8 text
 * @len: length of @str in bytes, or -1 if NUL-terminated
 *
 * Appends @str as a JSON string literal, quotes included, escaped as the
 * builders above do. For callers writing other JSON (e.g. /healthz).
 */
/* Appends @user as the JSON object every event uses for a user
 * (`{"id":…,"name":…}`). */
void gc_protocol_append_user        (GString      *out,
                                     const GcUser *user);

void gc_protocol_append_json_string (GString    *out,
                                     const char *str,
                                     gssize      len);

/* ------------------------------------------------------------------ */
/* Server → client events (§4): parsing, for clients                    */
/* ------------------------------------------------------------------ */

typedef enum {
  GC_EVENT_UNKNOWN,
  GC_EVENT_WELCOME,
  GC_EVENT_MESSAGE,
  GC_EVENT_JOIN,
  GC_EVENT_LEAVE,
  GC_EVENT_RENAME,
  GC_EVENT_TYPING,
  GC_EVENT_ERROR,
  GC_EVENT_REFUSED,
} GcEventType;

/**
 * GcMessage:
 * @id: positive, increasing within the room
 * @ts: server time, Unix ms
 * @from: the sender
 * @kind: text or emote
 * @text: the chat text, verbatim
 * @client_id: the sender's id for it, or %NULL
 *
 * A chat message: a `message` event, or an entry of `welcome.history`.
 */
typedef struct {
  guint64        id;
  gint64         ts;
  GcUser        *from;
  GcMessageKind  kind;
  char          *text;
  char          *client_id;
} GcMessage;

void gc_message_free (GcMessage *message);

/**
 * GcWelcome:
 * @protocol: the protocol version the server speaks
 * @server_name: (nullable): the server's name
 * @server_version: (nullable): the server's version
 * @room: the canonical room code
 * @you: this client as a member
 * @session_id: the resume token (secret)
 * @resume_s: the resume window in seconds
 * @resumed: whether the connection resumed an earlier one
 * @members: (element-type GcUser): every member, including @you
 * @history: (element-type GcMessage): retained messages, oldest first
 * @limits: the server's limits
 */
typedef struct {
  guint      protocol;
  char      *server_name;
  char      *server_version;
  char      *room;
  GcUser    *you;
  char      *session_id;
  guint      resume_s;
  gboolean   resumed;
  GPtrArray *members;
  GPtrArray *history;
  GcLimits   limits;
} GcWelcome;

void gc_welcome_free (GcWelcome *welcome);

/**
 * GcEvent:
 * @type: which event; selects the union member of the same name
 *
 * A parsed server event. Every pointer is owned by the event; steal one
 * (g_steal_pointer()) to keep it beyond gc_event_free().
 *
 * - `unknown.type_name`: the `type` of an event this version does not
 *   know; clients should ignore such events.
 * - `error.code` is the wire string; `error.error` its enum value, or
 *   %GC_PROTOCOL_ERROR_FAILED for a code this version does not know.
 *   `error.ref` is %NULL when absent; `error.retry_after_ms` is 0 when
 *   absent.
 */
typedef struct {
  GcEventType type;
  union {
    struct {
      char *type_name;
    } unknown;
    GcWelcome *welcome;
    GcMessage *message;
    struct {
      GcUser *user;
      gint64  ts;
    } join;
    struct {
      GcUser        *user;
      GcLeaveReason  reason;
      gint64         ts;
    } leave;
    struct {
      GcUser *user;
      char   *old_name;
      gint64  ts;
    } rename;
    struct {
      GcUser   *user;
      gboolean  active;
    } typing;
    struct {
      char            *code;
      GcProtocolError  error;
      char            *message;
      char            *ref;
      guint64          retry_after_ms;
    } error;
    struct {
      char            *code;
      GcProtocolError  error;
      char            *message;
      char            *suggestion;
      guint64          retry_after_ms;
    } refused;
  };
} GcEvent;

/**
 * gc_event_parse:
 * @json: the text of one WebSocket message; need not be NUL-terminated
 * @len: length of @json in bytes
 * @error: return location for a %GC_PROTOCOL_ERROR_BAD_REQUEST
 *
 * Parses one server event. Unknown fields are ignored and an unknown
 * `type` gives %GC_EVENT_UNKNOWN; but every field this module reads must
 * be present (unless §4 calls it optional) and of the right JSON type,
 * and enum strings (kind, reason) must be known.
 *
 * Returns: (transfer full) (nullable): the event, or %NULL on error
 */
GcEvent *gc_event_parse (const char  *json,
                         gsize        len,
                         GError     **error);
void     gc_event_free  (GcEvent     *event);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcUser, gc_user_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcRequest, gc_request_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcMessage, gc_message_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcWelcome, gc_welcome_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcEvent, gc_event_free)
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcRefusal, gc_refusal_free)

G_END_DECLS
