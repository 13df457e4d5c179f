/* test-protocol.c: tests for the wire protocol module (validation, requests, events)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include <json-glib/json-glib.h>

#include "gc-protocol.h"
#include "gc-protocol-private.h"

/* Helpers */

/* Every parser input goes through an exact-size heap copy with no NUL
 * after it, so a read past @len is caught by ASan. */
static GcRequest *
parse_request_max (const char  *json,
                   gsize        max_text_bytes,
                   char       **out_ref,
                   GError     **error)
{
  gsize len = strlen (json);
  g_autofree char *copy = g_memdup2 (json, len);

  return gc_request_parse (copy, len, max_text_bytes, out_ref, error);
}

static GcRequest *
parse_request (const char  *json,
               char       **out_ref,
               GError     **error)
{
  return parse_request_max (json, GC_PROTOCOL_DEFAULT_MAX_TEXT_BYTES, out_ref, error);
}

static GcEvent *
parse_event_len (const char  *json,
                 gsize        len,
                 GError     **error)
{
  g_autofree char *copy = g_memdup2 (json, len);

  return gc_event_parse (copy, len, error);
}

static GcEvent *
parse_event (const char  *json,
             GError     **error)
{
  return parse_event_len (json, strlen (json), error);
}

static GcEvent *
parse_event_bytes (GBytes *bytes)
{
  g_autoptr(GError) error = NULL;
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);
  GcEvent *event = parse_event_len (data, size, &error);

  g_assert_no_error (error);
  g_assert_nonnull (event);
  return event;
}

/* The text of @bytes as a NUL-terminated string. */
static char *
bytes_to_string (GBytes *bytes)
{
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);

  return g_strndup (data, size);
}

/* Parses @bytes with json-glib alone; returns the root object, owned by
 * the returned parser. */
static JsonParser *
raw_parse (GBytes      *bytes,
           JsonObject **out_object)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  gsize size;
  const char *data = g_bytes_get_data (bytes, &size);
  JsonNode *root;

  g_assert_true (g_utf8_validate (data, size, NULL));
  json_parser_load_from_data (parser, data, size, &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_nonnull (root);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  *out_object = json_node_get_object (root);

  return g_steal_pointer (&parser);
}

static char *
repeat (const char *unit,
        guint       n)
{
  GString *out = g_string_new (NULL);

  for (guint i = 0; i < n; i++)
    g_string_append (out, unit);

  return g_string_free (out, FALSE);
}

/* Errors */

static void
test_error_codes (void)
{
  static const struct {
    GcProtocolError code;
    const char *wire;
    guint status;
  } cases[] = {
    { GC_PROTOCOL_ERROR_BAD_REQUEST, "bad_request", 400 },
    { GC_PROTOCOL_ERROR_EMPTY_MESSAGE, "empty_message", 400 },
    { GC_PROTOCOL_ERROR_MESSAGE_TOO_LONG, "message_too_long", 400 },
    { GC_PROTOCOL_ERROR_RATE_LIMITED, "rate_limited", 429 },
    { GC_PROTOCOL_ERROR_INVALID_USER_NAME, "invalid_user_name", 400 },
    { GC_PROTOCOL_ERROR_NAME_TAKEN, "name_taken", 409 },
    { GC_PROTOCOL_ERROR_INVALID_ROOM_CODE, "invalid_room_code", 400 },
    { GC_PROTOCOL_ERROR_NOT_FOUND, "not_found", 404 },
    { GC_PROTOCOL_ERROR_ROOM_FULL, "room_full", 403 },
    { GC_PROTOCOL_ERROR_ORIGIN_NOT_ALLOWED, "origin_not_allowed", 403 },
    { GC_PROTOCOL_ERROR_UPGRADE_REQUIRED, "upgrade_required", 426 },
    { GC_PROTOCOL_ERROR_SERVER_FULL, "server_full", 503 },
    { GC_PROTOCOL_ERROR_METHOD_NOT_ALLOWED, "method_not_allowed", 405 },
    { GC_PROTOCOL_ERROR_UNAVAILABLE, "unavailable", 503 },
  };
  GcProtocolError code = GC_PROTOCOL_ERROR_FAILED;

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_assert_cmpstr (gc_protocol_error_to_string (cases[i].code), ==, cases[i].wire);
      g_assert_true (gc_protocol_error_from_string (cases[i].wire, &code));
      g_assert_cmpint (code, ==, cases[i].code);
      g_assert_cmpuint (gc_protocol_error_http_status (cases[i].code), ==, cases[i].status);
    }

  g_assert_null (gc_protocol_error_to_string (GC_PROTOCOL_ERROR_FAILED));
  g_assert_null (gc_protocol_error_to_string ((GcProtocolError) 999));
  code = GC_PROTOCOL_ERROR_ROOM_FULL;
  g_assert_false (gc_protocol_error_from_string ("no_such_code", &code));
  g_assert_false (gc_protocol_error_from_string (NULL, &code));
  g_assert_false (gc_protocol_error_from_string ("Bad_Request", &code));
  g_assert_cmpint (code, ==, GC_PROTOCOL_ERROR_ROOM_FULL);
}

static void
test_enum_strings (void)
{
  GcMessageKind kind = GC_MESSAGE_KIND_TEXT;
  GcLeaveReason reason = GC_LEAVE_REASON_LEFT;
  static const char * const reasons[] = { "left", "timeout", "slow", "flood", "error" };

  g_assert_cmpstr (gc_message_kind_to_string (GC_MESSAGE_KIND_TEXT), ==, "text");
  g_assert_cmpstr (gc_message_kind_to_string (GC_MESSAGE_KIND_EMOTE), ==, "emote");
  g_assert_true (gc_message_kind_from_string ("emote", &kind));
  g_assert_cmpint (kind, ==, GC_MESSAGE_KIND_EMOTE);
  g_assert_false (gc_message_kind_from_string ("Emote", &kind));
  g_assert_false (gc_message_kind_from_string (NULL, &kind));

  for (guint i = 0; i < G_N_ELEMENTS (reasons); i++)
    {
      g_assert_cmpstr (gc_leave_reason_to_string ((GcLeaveReason) i), ==, reasons[i]);
      g_assert_true (gc_leave_reason_from_string (reasons[i], &reason));
      g_assert_cmpint (reason, ==, i);
    }
  g_assert_false (gc_leave_reason_from_string ("kicked", &reason));
}

/* Room codes */

static void
assert_room_code_invalid (const char *code)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *canonical = gc_protocol_canonical_room_code (code, &error);

  g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_INVALID_ROOM_CODE);
  g_assert_null (canonical);
}

static void
test_room_code (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *canonical = NULL;
  g_autofree char *max = repeat ("A", 64);
  g_autofree char *too_long = repeat ("a", 65);
  g_autofree char *max_lower = NULL;

  canonical = gc_protocol_canonical_room_code ("Lobby_1-X", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (canonical, ==, "lobby_1-x");
  g_clear_pointer (&canonical, g_free);

  canonical = gc_protocol_canonical_room_code ("-", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (canonical, ==, "-");
  g_clear_pointer (&canonical, g_free);

  canonical = gc_protocol_canonical_room_code (max, &error);
  g_assert_no_error (error);
  max_lower = g_ascii_strdown (max, -1);
  g_assert_cmpstr (canonical, ==, max_lower);

  assert_room_code_invalid (too_long);
  assert_room_code_invalid (NULL);
  assert_room_code_invalid ("");
  assert_room_code_invalid ("a b");
  assert_room_code_invalid ("a+b");
  assert_room_code_invalid ("a.b");
  assert_room_code_invalid ("a/b");
  assert_room_code_invalid ("a%20b");
  assert_room_code_invalid ("caf\xc3\xa9");         /* é */
  assert_room_code_invalid ("\xef\xbc\xa1");        /* fullwidth A */
  assert_room_code_invalid ("room\n");
  assert_room_code_invalid ("\xff");
}

/* User names */

static void
assert_name_valid (const char *name,
                   const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *normalized = gc_protocol_normalize_user_name (name, &error);

  g_assert_no_error (error);
  g_assert_cmpstr (normalized, ==, expected);
}

static void
assert_name_invalid (const char *name)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *normalized = gc_protocol_normalize_user_name (name, &error);

  g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_INVALID_USER_NAME);
  g_assert_null (normalized);
}

static void
test_user_name_valid (void)
{
  g_autofree char *e_acute_32 = repeat ("\xc3\xa9", 32);        /* 64 bytes */
  g_autofree char *emoji_32 = repeat ("\xf0\x9f\x98\x80", 32);  /* 128 bytes */
  g_autofree char *ascii_32 = repeat ("x", 32);
  g_autofree char *padded = g_strconcat ("\xe3\x80\x80  ", ascii_32, " \xc2\xa0", NULL);

  assert_name_valid ("alice", "alice");
  assert_name_valid ("  alice  ", "alice");
  assert_name_valid ("Alice Smith", "Alice Smith");
  assert_name_valid ("a  b", "a  b");
  assert_name_valid ("\talice\n", "alice");                      /* trimmed, so fine */
  assert_name_valid ("\xe3\x80\x80" "alice" "\xc2\xa0", "alice"); /* U+3000, U+00A0 */
  assert_name_valid ("\xc2\x85" "bob" "\x0b", "bob");             /* NEL, VT */
  assert_name_valid ("\xe1\x9a\x80" "bob" "\xe2\x80\xa8", "bob"); /* U+1680, U+2028 */
  assert_name_valid ("\xe2\x80\x80" "bob" "\xe2\x80\x8a", "bob"); /* U+2000, U+200A */
  assert_name_valid ("\xe2\x80\xaf" "bob" "\xe2\x81\x9f", "bob"); /* U+202F, U+205F */
  assert_name_valid ("\xe2\x80\xa9" "bob" "\x0c\r", "bob");       /* U+2029, FF, CR */
  assert_name_valid ("a\xc2\xa0" "b", "a\xc2\xa0" "b");           /* inner NBSP stays */
  /* Not White_Space, so not trimmed: ZERO WIDTH SPACE, MONGOLIAN VOWEL
   * SEPARATOR. They are format characters (Cf), which names may not hold
   * since issue 14.9 (docs/protocol.md §3.4): refused, not trimmed. */
  assert_name_invalid ("\xe2\x80\x8b" "bob");
  assert_name_invalid ("\xe1\xa0\x8e" "bob");
  assert_name_valid (e_acute_32, e_acute_32);
  assert_name_valid (emoji_32, emoji_32);
  assert_name_valid (padded, ascii_32);
  assert_name_invalid ("\xe2\x80\xae" "evil"); /* Cf, not Cc: refused since issue 14.9 */
}

/* docs/protocol.md §3.4: no format characters, one script (TR39's
 * augmented sets: Han goes with kana, Bopomofo and Hangul). */
static void
test_user_name_look_alikes (void)
{
  /* Look-alikes of "victim" and other spoofs. */
  assert_name_invalid ("v\xd1\x96" "ctim");                 /* Cyrillic і */
  assert_name_invalid ("victim\xe2\x80\x8d");              /* + ZWJ */
  assert_name_invalid ("vic\xe2\x80\x8ctim");              /* ZWNJ inside */
  assert_name_invalid ("\xe2\x80\xae" "mitciv");           /* RIGHT-TO-LEFT OVERRIDE */
  assert_name_invalid ("victim\xe2\x81\xa6");              /* LEFT-TO-RIGHT ISOLATE */
  assert_name_invalid ("\xef\xbb\xbf" "victim");           /* BYTE ORDER MARK */
  assert_name_invalid ("vict\xc2\xad" "im");                /* SOFT HYPHEN */
  assert_name_invalid ("\xd0\xb0" "dmin");                  /* Cyrillic а + Latin */
  assert_name_invalid ("p\xce\xb1ypal");                    /* Greek α + Latin */
  assert_name_invalid ("\xe5\xb1\xb1\xea\xb9\x80" "a");   /* Han, Hangul and Latin */
  assert_name_invalid ("\xe3\x81\x9f\xea\xb9\x80");       /* Hiragana with Hangul */

  /* One script, with Common (digits, punctuation, emoji, spaces) and
   * Inherited (combining marks) characters anywhere. */
  assert_name_valid ("victim", "victim");
  assert_name_valid ("Zo\xc3\xab 2 \xf0\x9f\x98\x80", "Zo\xc3\xab 2 \xf0\x9f\x98\x80");
  assert_name_valid ("e\xcc\x81mile", "e\xcc\x81mile");      /* combining acute */
  assert_name_valid ("\xd0\x92\xd0\xb0\xd1\x81\xd1\x8f", "\xd0\x92\xd0\xb0\xd1\x81\xd1\x8f");  /* Вася */
  assert_name_valid ("\xce\x95\xce\xbb\xce\xad\xce\xbd\xce\xb7", "\xce\x95\xce\xbb\xce\xad\xce\xbd\xce\xb7"); /* Ελένη */
  assert_name_valid ("\xd8\xb9\xd9\x84\xd9\x8a", "\xd8\xb9\xd9\x84\xd9\x8a");  /* علي */
  /* 山田たろう (Han and Hiragana), 김철수 (Hangul), 王小明 (Han), ㄅㄆ王 (Bopomofo and Han) */
  assert_name_valid ("\xe5\xb1\xb1\xe7\x94\xb0\xe3\x81\x9f\xe3\x82\x8d\xe3\x81\x86",
                     "\xe5\xb1\xb1\xe7\x94\xb0\xe3\x81\x9f\xe3\x82\x8d\xe3\x81\x86");
  assert_name_valid ("\xea\xb9\x80\xec\xb2\xa0\xec\x88\x98", "\xea\xb9\x80\xec\xb2\xa0\xec\x88\x98");
  assert_name_valid ("\xe7\x8e\x8b\xe5\xb0\x8f\xe6\x98\x8e", "\xe7\x8e\x8b\xe5\xb0\x8f\xe6\x98\x8e");
  assert_name_valid ("\xe3\x84\x85\xe3\x84\x86\xe7\x8e\x8b", "\xe3\x84\x85\xe3\x84\x86\xe7\x8e\x8b");
  /* Katakana and Hiragana together are Japanese too. */
  assert_name_valid ("\xe3\x82\xbf\xe3\x81\x9f", "\xe3\x82\xbf\xe3\x81\x9f");

  /* A rename goes by the same rules. */
  {
    g_autoptr(GError) error = NULL;
    g_autoptr(GcRequest) request =
      parse_request ("{\"type\":\"rename\",\"name\":\"v\\u0456ctim\"}", NULL, &error);

    g_assert_null (request);
    g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_INVALID_USER_NAME);
  }
}

static void
test_user_name_invalid (void)
{
  g_autofree char *ascii_33 = repeat ("x", 33);
  g_autofree char *e_acute_33 = repeat ("\xc3\xa9", 33);
  g_autofree char *emoji_33 = repeat ("\xf0\x9f\x98\x80", 33);

  assert_name_invalid (NULL);
  assert_name_invalid ("");
  assert_name_invalid ("   ");
  assert_name_invalid ("\xe3\x80\x80\xc2\xa0\t\n");
  assert_name_invalid (ascii_33);
  assert_name_invalid (e_acute_33);
  assert_name_invalid (emoji_33);
  assert_name_invalid ("a\tb");                 /* TAB inside: Cc */
  assert_name_invalid ("a\nb");
  assert_name_invalid ("a\x01" "b");
  assert_name_invalid ("a\x1f");
  assert_name_invalid ("a\x7f");                /* DEL */
  assert_name_invalid ("a\xc2\x80" "b");        /* U+0080 */
  assert_name_invalid ("a\xc2\x85" "b");        /* NEL inside: White_Space but Cc */
  assert_name_invalid ("a\xc2\x9f");            /* U+009F */
  assert_name_invalid ("a\xff");                /* invalid UTF-8 */
  assert_name_invalid ("\xc0\xaf");             /* overlong '/' */
  assert_name_invalid ("\xed\xa0\x80");         /* a surrogate */
  assert_name_invalid ("abc\xe2\x82");          /* truncated sequence */
}

static void
assert_same_key (const char *a,
                 const char *b)
{
  g_autofree char *key_a = gc_protocol_user_name_key (a);
  g_autofree char *key_b = gc_protocol_user_name_key (b);

  g_assert_cmpstr (key_a, ==, key_b);
}

static void
assert_different_key (const char *a,
                      const char *b)
{
  g_autofree char *key_a = gc_protocol_user_name_key (a);
  g_autofree char *key_b = gc_protocol_user_name_key (b);

  g_assert_cmpstr (key_a, !=, key_b);
}

static void
test_user_name_key (void)
{
  g_autofree char *key = gc_protocol_user_name_key ("Stra\xc3\x9f" "e");

  /* Full folding: ß becomes "ss", not just lower case. */
  g_assert_cmpstr (key, ==, "strasse");

  assert_same_key ("Alice", "alice");
  assert_same_key ("ALICE", "aLiCe");
  assert_same_key ("Stra\xc3\x9f" "e", "STRASSE");
  assert_same_key ("\xe1\xba\x9e", "ss");                  /* capital sharp s */
  assert_same_key ("\xe2\x84\xaa", "k");                   /* KELVIN SIGN */
  assert_same_key ("\xe2\x84\xaa", "K");
  assert_same_key ("\xef\xbc\xa1", "a");                   /* fullwidth A */
  assert_same_key ("\xef\xbd\x8b\xef\xbd\x89\xef\xbd\x8d", "KIM"); /* fullwidth kim */
  assert_same_key ("\xef\xac\x81", "FI");                  /* ligature fi */
  assert_same_key ("\xcf\x82", "\xce\xa3");                /* final sigma, capital sigma */
  assert_same_key ("\xc3\xa9", "e\xcc\x81");               /* precomposed / decomposed é */
  assert_same_key ("\xc3\x89", "e\xcc\x81");               /* É / e + acute */
  assert_same_key ("\xe2\x85\xa0", "i");                   /* ROMAN NUMERAL ONE */
  /* Cherokee small letters fold to the capitals (g_utf8_casefold() alone
   * gets the capitals wrong): U+13F8/U+13F0, U+AB70/U+13A0. */
  assert_same_key ("\xe1\x8f\xb8", "\xe1\x8f\xb0");
  assert_same_key ("\xea\xad\xb0", "\xe1\x8e\xa0");
  assert_same_key ("x\xe1\x8e\xa0Y\xe1\x8f\xb8z", "X\xea\xad\xb0y\xe1\x8f\xb0Z");

  assert_different_key ("alice", "alicf");
  assert_different_key ("alice", "alice ");
  assert_different_key ("a b", "ab");
  assert_different_key ("\xc3\xa9", "e");
}

static void
assert_suggestion (const char *name,
                   guint       n,
                   const char *expected)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *suggestion = gc_protocol_suggest_name (name, n);
  g_autofree char *normalized = NULL;

  g_assert_cmpstr (suggestion, ==, expected);
  g_assert_cmpint (g_utf8_strlen (suggestion, -1), <=, GC_PROTOCOL_MAX_USER_NAME_LENGTH);

  /* A suggestion is itself a valid, already normalized name. */
  normalized = gc_protocol_normalize_user_name (suggestion, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (normalized, ==, suggestion);
}

static void
test_suggest_name (void)
{
  g_autofree char *ascii_32 = repeat ("x", 32);
  g_autofree char *ascii_31_2 = g_strconcat (ascii_32 + 1, "2", NULL);
  g_autofree char *ascii_30_10 = g_strconcat (ascii_32 + 2, "10", NULL);
  g_autofree char *ascii_22_max = g_strconcat (ascii_32 + 10, "4294967295", NULL);
  g_autofree char *e_acute_32 = repeat ("\xc3\xa9", 32);
  g_autofree char *e_acute_31 = repeat ("\xc3\xa9", 31);
  g_autofree char *e_acute_31_2 = g_strconcat (e_acute_31, "2", NULL);
  g_autofree char *a_30 = repeat ("a", 30);
  g_autofree char *cut_at_space = g_strconcat (a_30, " b", NULL);
  g_autofree char *a_30_2 = g_strconcat (a_30, "2", NULL);
  g_autofree char *a_29 = repeat ("a", 29);
  g_autofree char *short_space = g_strconcat (a_29, " bc", NULL);
  g_autofree char *short_space_2 = g_strconcat (a_29, " b2", NULL);

  assert_suggestion ("alice", 2, "alice2");
  assert_suggestion ("alice", 17, "alice17");
  assert_suggestion ("bob 3", 2, "bob 32");
  assert_suggestion (ascii_32, 2, ascii_31_2);
  assert_suggestion (ascii_32, 10, ascii_30_10);
  assert_suggestion (ascii_32, G_MAXUINT, ascii_22_max);
  /* Shortened by code points, not bytes: 31 × "é" (62 bytes) + "2". */
  assert_suggestion (e_acute_32, 2, e_acute_31_2);
  /* A cut that ends the base in white space drops it. */
  assert_suggestion (cut_at_space, 2, a_30_2);
  assert_suggestion (short_space, 2, short_space_2);
}

static gboolean
keys_in_set (const char *key,
             gpointer    user_data)
{
  return g_hash_table_contains (user_data, key);
}

static void
test_find_free_name (void)
{
  g_autoptr(GHashTable) taken = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autofree char *free_name = NULL;
  const char *members[] = { "Alice", "alice2", "ALICE3", "\xef\xbd\x81lice5" };

  for (guint i = 0; i < G_N_ELEMENTS (members); i++)
    g_hash_table_add (taken, gc_protocol_user_name_key (members[i]));

  free_name = gc_protocol_find_free_name ("Alice", keys_in_set, taken);
  g_assert_cmpstr (free_name, ==, "Alice4");
  g_clear_pointer (&free_name, g_free);

  g_hash_table_add (taken, gc_protocol_user_name_key ("alice4"));
  free_name = gc_protocol_find_free_name ("Alice", keys_in_set, taken);
  /* alice5 is taken by its fullwidth twin. */
  g_assert_cmpstr (free_name, ==, "Alice6");
  g_clear_pointer (&free_name, g_free);

  free_name = gc_protocol_find_free_name ("bob", keys_in_set, taken);
  g_assert_cmpstr (free_name, ==, "bob2");
}

/* since */

static void
test_parse_since (void)
{
  static const char * const bad[] = {
    "", "-1", "+1", " 1", "1 ", "1.0", "1e3", "0x10", "abc", "1a",
    "18446744073709551616", "99999999999999999999", "\xd9\xa1", /* ARABIC-INDIC ONE */
  };
  static const struct {
    const char *str;
    guint64 value;
  } good[] = {
    { "0", 0 },
    { "42", 42 },
    { "007", 7 },
    { "9223372036854775808", G_GUINT64_CONSTANT (9223372036854775808) },
    { "18446744073709551615", G_MAXUINT64 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;
      guint64 value = 1234;

      g_assert_true (gc_protocol_parse_since (good[i].str, &value, &error));
      g_assert_no_error (error);
      g_assert_cmpuint (value, ==, good[i].value);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      guint64 value = 1234;

      g_assert_false (gc_protocol_parse_since (bad[i], &value, &error));
      g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST);
      g_assert_cmpuint (value, ==, 1234);
    }

  {
    g_autoptr(GError) error = NULL;
    guint64 value = 0;

    g_assert_false (gc_protocol_parse_since (NULL, &value, &error));
    g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST);
  }
}

/* Requests */

static void
test_request_message (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GcRequest) request = NULL;
  g_autofree char *ref = NULL;

  request = parse_request ("{\"type\":\"message\",\"text\":\"  hi  \",\"client_id\":\"c-1\"}",
                           &ref, &error);
  g_assert_no_error (error);
  g_assert_cmpint (request->type, ==, GC_REQUEST_MESSAGE);
  g_assert_cmpint (request->kind, ==, GC_MESSAGE_KIND_TEXT);
  g_assert_cmpstr (request->text, ==, "  hi  ");   /* verbatim */
  g_assert_cmpstr (request->client_id, ==, "c-1");
  g_assert_cmpstr (ref, ==, "c-1");
  g_assert_null (request->name);
  g_clear_pointer (&request, gc_request_free);
  g_clear_pointer (&ref, g_free);

  /* Unknown fields ignored, any order, white space between tokens. */
  request = parse_request ("{ \"extra\": [1, {\"x\": null}], \"kind\": \"emote\",\n"
                           "  \"text\": \"waves\", \"type\": \"message\", \"v\": 2.5 }",
                           &ref, &error);
  g_assert_no_error (error);
  g_assert_cmpint (request->kind, ==, GC_MESSAGE_KIND_EMOTE);
  g_assert_cmpstr (request->text, ==, "waves");
  g_assert_null (request->client_id);
  g_assert_null (ref);
  g_clear_pointer (&request, gc_request_free);

  /* Escapes decode; a surrogate pair becomes one emoji; a literal
   * backslash before "u0000" is not an escape of U+0000. */
  request = parse_request ("{\"type\":\"message\",\"text\":\"a\\\"b\\\\c\\n\\ud83d\\ude00\\u00e9\\/ \\\\u0000\"}",
                           NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (request->text, ==, "a\"b\\c\n\xf0\x9f\x98\x80\xc3\xa9/ \\u0000");
  g_clear_pointer (&request, gc_request_free);

  /* "Non-space" is anything but White_Space: ZWSP and controls count. */
  request = parse_request ("{\"type\":\"message\",\"text\":\" \\u200b \"}", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (request->text, ==, " \xe2\x80\x8b ");
  g_clear_pointer (&request, gc_request_free);

  request = parse_request ("{\"type\":\"message\",\"text\":\"\\u0001\"}", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (request->text, ==, "\x01");
  g_clear_pointer (&request, gc_request_free);

  /* A client_id of exactly 64 bytes, and an empty one, are fine. */
  {
    g_autofree char *id_64 = repeat ("i", 64);
    g_autofree char *json = g_strdup_printf ("{\"type\":\"message\",\"text\":\"x\",\"client_id\":\"%s\"}", id_64);

    request = parse_request (json, &ref, &error);
    g_assert_no_error (error);
    g_assert_cmpstr (request->client_id, ==, id_64);
    g_assert_cmpstr (ref, ==, id_64);
    g_clear_pointer (&request, gc_request_free);
    g_clear_pointer (&ref, g_free);
  }

  request = parse_request ("{\"type\":\"message\",\"text\":\"x\",\"client_id\":\"\"}", &ref, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (request->client_id, ==, "");
  g_assert_cmpstr (ref, ==, "");
}

static void
test_request_text_limit (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GcRequest) request = NULL;
  g_autofree char *ref = NULL;
  g_autofree char *text_max = repeat ("a", GC_PROTOCOL_DEFAULT_MAX_TEXT_BYTES);
  g_autofree char *json_max = g_strdup_printf ("{\"type\":\"message\",\"text\":\"%s\"}", text_max);
  g_autofree char *json_over = g_strdup_printf ("{\"type\":\"message\",\"text\":\"%sb\",\"client_id\":\"big\"}", text_max);
  /* 3 × "é" = 6 bytes: measured in bytes of UTF-8, not characters. */
  const char *json_utf8 = "{\"type\":\"message\",\"text\":\"\xc3\xa9\xc3\xa9\xc3\xa9\"}";
  /* The escape \\u00e9 is 6 bytes of JSON but 2 of text. */
  const char *json_escaped = "{\"type\":\"message\",\"text\":\"\\u00e9\\u00e9\\u00e9\"}";

  request = parse_request (json_max, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (strlen (request->text), ==, GC_PROTOCOL_DEFAULT_MAX_TEXT_BYTES);
  g_clear_pointer (&request, gc_request_free);

  request = parse_request (json_over, &ref, &error);
  g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_MESSAGE_TOO_LONG);
  g_assert_null (request);
  g_assert_cmpstr (ref, ==, "big");
  g_clear_error (&error);

  request = parse_request_max (json_utf8, 6, NULL, &error);
  g_assert_no_error (error);
  g_clear_pointer (&request, gc_request_free);

  request = parse_request_max (json_utf8, 5, NULL, &error);
  g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_MESSAGE_TOO_LONG);
  g_clear_error (&error);

  request = parse_request_max (json_escaped, 6, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (request->text, ==, "\xc3\xa9\xc3\xa9\xc3\xa9");
}

static void
test_request_typing_rename (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GcRequest) request = NULL;
  g_autofree char *ref = NULL;

  request = parse_request ("{\"type\":\"typing\",\"active\":true}", &ref, &error);
  g_assert_no_error (error);
  g_assert_cmpint (request->type, ==, GC_REQUEST_TYPING);
  g_assert_true (request->active);
  g_assert_null (request->text);
  g_assert_null (ref);
  g_clear_pointer (&request, gc_request_free);

  /* client_id is not part of typing, but echoed as ref when readable. */
  request = parse_request ("{\"type\":\"typing\",\"active\":false,\"client_id\":\"t1\"}", &ref, &error);
  g_assert_no_error (error);
  g_assert_false (request->active);
  g_assert_cmpstr (ref, ==, "t1");
  g_clear_pointer (&request, gc_request_free);
  g_clear_pointer (&ref, g_free);

  /* ... and ignored there when it is not a valid client_id. */
  request = parse_request ("{\"type\":\"typing\",\"active\":true,\"client_id\":7}", &ref, &error);
  g_assert_no_error (error);
  g_assert_null (ref);
  g_clear_pointer (&request, gc_request_free);

  request = parse_request ("{\"type\":\"rename\",\"name\":\"\\u3000 Bob \"}", NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpint (request->type, ==, GC_REQUEST_RENAME);
  g_assert_cmpstr (request->name, ==, "Bob");
}

typedef struct {
  const char *json;
  GcProtocolError code;
  const char *ref;
} RequestErrorCase;

static void
test_request_errors (void)
{
  static const RequestErrorCase cases[] = {
    /* Not JSON, not an object */
    { "", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "   ", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "hello", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"typing\",\"active\":true", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"typing\",\"active\":true}}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"typing\",\"active\":true} x", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"typing\",\"active\":true,}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "[]", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "[{\"type\":\"typing\",\"active\":true}]", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "\"message\"", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "42", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "null", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "true", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    /* Not JSON, though json-glib's scanner would take it */
    { "{'type':'typing','active':true}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "/* c */{\"type\":\"typing\",\"active\":true}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "\xef\xbb\xbf{\"type\":\"typing\",\"active\":true}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":\"\\x41\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":\"\\'\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":\"\\u12\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":\"\\ud800\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":\"\\udc00\\ud800\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    /* json-glib turns a lone high surrogate before other text into invalid UTF-8 */
    { "{\"type\":\"message\",\"text\":\"\\ud83dx\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":\"\\ud83d\\n\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":\"\\ud83d\\u0041\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":\"\\ud83d\\ud83d\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":\"x\\ude00\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":\"\xff\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    /* Raw control characters in strings: JSON forbids them, json-glib takes them */
    { "{\"type\":\"message\",\"text\":\"a\x01b\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":\"a\tb\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":\"line\nline\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":\"\x1f\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":{\"t\":\"\x1b[0m\"}}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"ty\rpe\":\"typing\",\"type\":\"typing\",\"active\":true}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"rename\",\"name\":\"bob\x7f\x01\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    /* U+0000 would be cut off by json-glib: refused unread, so no ref */
    { "{\"type\":\"message\",\"client_id\":\"z\",\"text\":\"a\\u0000b\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"rename\",\"name\":\"bob\\u0000evil\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    /* type */
    { "{}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"text\":\"hi\",\"client_id\":\"r\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, "r" },
    { "{\"type\":5}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":null}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":[\"message\"]}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"shout\",\"client_id\":\"u\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, "u" },
    { "{\"type\":\"Message\",\"text\":\"hi\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"welcome\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    /* message */
    { "{\"type\":\"message\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"client_id\":\"m\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, "m" },
    { "{\"type\":\"message\",\"text\":5}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":null}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":true}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":[\"hi\"]}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":{\"t\":\"hi\"}}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":\"hi\",\"kind\":\"shout\",\"client_id\":\"k\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, "k" },
    { "{\"type\":\"message\",\"text\":\"hi\",\"kind\":\"TEXT\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":\"hi\",\"kind\":1}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":\"hi\",\"kind\":null}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":\"hi\",\"client_id\":5}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":\"hi\",\"client_id\":null}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":\"hi\",\"client_id\":[\"a\"]}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":\"hi\",\"client_id\":"
      "\"12345678901234567890123456789012345678901234567890123456789012345\"}",
      GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"message\",\"text\":\"\",\"client_id\":\"e\"}", GC_PROTOCOL_ERROR_EMPTY_MESSAGE, "e" },
    { "{\"type\":\"message\",\"text\":\"   \"}", GC_PROTOCOL_ERROR_EMPTY_MESSAGE, NULL },
    { "{\"type\":\"message\",\"text\":\"\\t\\n\\r \\u000b\\u000c\"}", GC_PROTOCOL_ERROR_EMPTY_MESSAGE, NULL },
    { "{\"type\":\"message\",\"text\":\"\\u3000\\u00a0\\u0085\\u1680\\u2000\\u200a\\u2028\\u2029\\u202f\\u205f\"}",
      GC_PROTOCOL_ERROR_EMPTY_MESSAGE, NULL },
    { "{\"type\":\"message\",\"text\":\"\xe3\x80\x80\xc2\xa0\"}", GC_PROTOCOL_ERROR_EMPTY_MESSAGE, NULL },
    /* typing */
    { "{\"type\":\"typing\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"typing\",\"active\":\"true\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"typing\",\"active\":1}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"typing\",\"active\":0}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"typing\",\"active\":null}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"typing\",\"active\":True}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    /* rename */
    { "{\"type\":\"rename\"}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"rename\",\"name\":5}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"rename\",\"name\":null}", GC_PROTOCOL_ERROR_BAD_REQUEST, NULL },
    { "{\"type\":\"rename\",\"name\":\"\",\"client_id\":\"n\"}", GC_PROTOCOL_ERROR_INVALID_USER_NAME, "n" },
    { "{\"type\":\"rename\",\"name\":\" \\u3000 \"}", GC_PROTOCOL_ERROR_INVALID_USER_NAME, NULL },
    { "{\"type\":\"rename\",\"name\":\"a\\tb\"}", GC_PROTOCOL_ERROR_INVALID_USER_NAME, NULL },
    { "{\"type\":\"rename\",\"name\":\"a\\u007f\"}", GC_PROTOCOL_ERROR_INVALID_USER_NAME, NULL },
    { "{\"type\":\"rename\",\"name\":\"a\\u0080\"}", GC_PROTOCOL_ERROR_INVALID_USER_NAME, NULL },
    { "{\"type\":\"rename\",\"name\":\"123456789012345678901234567890123\"}", GC_PROTOCOL_ERROR_INVALID_USER_NAME, NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      static char stale[] = "stale";
      g_autoptr(GError) error = NULL;
      g_autoptr(GcRequest) request = NULL;
      char *ref = stale;   /* must be overwritten, failure or not */
      g_autofree char *escaped = g_strescape (cases[i].json, NULL);

      g_test_message ("case %u: %s", i, escaped);
      request = parse_request (cases[i].json, &ref, &error);
      g_assert_null (request);
      g_assert_error (error, GC_PROTOCOL_ERROR, (gint) cases[i].code);
      g_assert_nonnull (error->message);
      g_assert_cmpstr (ref, ==, cases[i].ref);
      g_free (ref);
    }
}

/* A raw NUL (or other control byte) in a string is refused as such,
 * not as "not UTF-8", by both the flat reader and json-glib. */
static void
test_request_raw_control (void)
{
  static const char json[] = "{\"type\":\"message\",\"text\":\"a\0b\"}";
  gsize len = sizeof json - 1;
  g_autofree char *copy = g_memdup2 (json, len);
  g_autoptr(GError) error = NULL;
  g_autoptr(GError) event_error = NULL;
  g_autoptr(GcRequest) request = NULL;
  g_autoptr(GcEvent) event = NULL;

  request = gc_request_parse (copy, len, GC_PROTOCOL_DEFAULT_MAX_TEXT_BYTES, NULL, &error);
  g_assert_null (request);
  g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST);
  g_assert_nonnull (strstr (error->message, "control character (byte 0x00)"));
  g_assert_null (strstr (error->message, "UTF-8"));

  g_clear_error (&error);
  request = gc_request_parse_with_json_glib (copy, len, GC_PROTOCOL_DEFAULT_MAX_TEXT_BYTES,
                                             NULL, &error);
  g_assert_null (request);
  g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST);
  g_assert_nonnull (strstr (error->message, "control character (byte 0x00)"));

  /* Events go through the same check. */
  event = parse_event ("{\"type\":\"typing\",\"user\":{\"id\":\"1\",\"name\":\"a\x02\"},"
                       "\"active\":true}", &event_error);
  g_assert_null (event);
  g_assert_nonnull (event_error);
  g_assert_nonnull (strstr (event_error->message, "control character (byte 0x02)"));
}

/* docs/protocol.md §2.3: one JSON value per message. json-glib reads the
 * first and drops the rest; both readers must refuse the whole. */
static void
test_request_two_values (void)
{
  static const char * const cases[] = {
    "{\"type\":\"typing\",\"active\":true}{\"type\":\"typing\",\"active\":false}",
    "{\"type\":\"typing\",\"active\":true}[1]",
    "{\"type\":\"typing\",\"active\":true} {}",
    "{\"type\":\"typing\",\"active\":true}\n\"x\"",
    "{\"type\":\"typing\",\"active\":true}}",
    "{\"type\":\"typing\",\"active\":true}]",
    "{\"type\":\"typing\",\"active\":true}1",
    "{\"type\":\"typing\",\"active\":true}null",
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize len = strlen (cases[i]);
      g_autofree char *copy = g_memdup2 (cases[i], len);
      g_autoptr(GError) error = NULL;
      g_autoptr(GError) slow_error = NULL;
      g_autoptr(GError) event_error = NULL;
      g_autoptr(GcRequest) request = NULL;
      g_autoptr(GcRequest) slow = NULL;
      g_autoptr(GcEvent) event = NULL;

      g_test_message ("case %u: %s", i, cases[i]);
      request = gc_request_parse (copy, len, GC_PROTOCOL_DEFAULT_MAX_TEXT_BYTES, NULL, &error);
      g_assert_null (request);
      g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST);

      slow = gc_request_parse_with_json_glib (copy, len, GC_PROTOCOL_DEFAULT_MAX_TEXT_BYTES,
                                              NULL, &slow_error);
      g_assert_null (slow);
      g_assert_error (slow_error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST);

      event = gc_event_parse (copy, len, &event_error);
      g_assert_null (event);
      g_assert_error (event_error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST);
    }

  /* White space after the one value is fine. */
  {
    static const char json[] = " {\"type\":\"typing\",\"active\":true} \r\n\t";
    g_autoptr(GError) error = NULL;
    g_autoptr(GcRequest) request = parse_request (json, NULL, &error);

    g_assert_no_error (error);
    g_assert_nonnull (request);
  }
}

/* docs/protocol.md §2.3: a member given twice: the last one counts, in
 * both readers alike. */
static void
test_request_duplicate_keys (void)
{
  static const char * const jsons[] = {
    "{\"type\":\"typing\",\"active\":false,\"active\":true}",
    "{\"type\":\"message\",\"type\":\"typing\",\"active\":true}",
    "{\"active\":null,\"type\":\"typing\",\"x\":1,\"x\":2,\"active\":true}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (jsons); i++)
    {
      gsize len = strlen (jsons[i]);
      g_autofree char *copy = g_memdup2 (jsons[i], len);
      g_autoptr(GError) error = NULL;
      g_autoptr(GcRequest) request = NULL;
      g_autoptr(GcRequest) slow = NULL;

      request = gc_request_parse (copy, len, GC_PROTOCOL_DEFAULT_MAX_TEXT_BYTES, NULL, &error);
      g_assert_no_error (error);
      slow = gc_request_parse_with_json_glib (copy, len, GC_PROTOCOL_DEFAULT_MAX_TEXT_BYTES,
                                              NULL, &error);
      g_assert_no_error (error);
      g_assert_cmpint (request->type, ==, GC_REQUEST_TYPING);
      g_assert_cmpint (slow->type, ==, GC_REQUEST_TYPING);
      g_assert_true (request->active);
      g_assert_true (slow->active);
    }
}

static char *
nested (const char *open,
        const char *close,
        guint       depth)
{
  g_autofree char *opens = repeat (open, depth);
  g_autofree char *closes = repeat (close, depth);

  return g_strconcat (opens, closes, NULL);
}

static void
test_request_depth (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GcRequest) request = NULL;
  g_autofree char *arrays_63 = nested ("[", "]", GC_PROTOCOL_MAX_JSON_DEPTH - 1);
  g_autofree char *arrays_64 = nested ("[", "]", GC_PROTOCOL_MAX_JSON_DEPTH);
  g_autofree char *ok = g_strdup_printf ("{\"type\":\"typing\",\"active\":true,\"x\":%s}", arrays_63);
  g_autofree char *too_deep = g_strdup_printf ("{\"type\":\"typing\",\"active\":true,\"x\":%s}", arrays_64);
  g_autofree char *very_deep = nested ("[", "]", 100000);
  g_autofree char *objects = nested ("{\"a\":", "}", 100000);
  /* Brackets inside strings do not count. */
  g_autofree char *in_string = repeat ("[{", 1000);
  g_autofree char *quoted = g_strdup_printf ("{\"type\":\"message\",\"text\":\"%s\"}", in_string);

  request = parse_request (ok, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (request);
  g_clear_pointer (&request, gc_request_free);

  request = parse_request (too_deep, NULL, &error);
  g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST);
  g_clear_error (&error);

  request = parse_request (very_deep, NULL, &error);
  g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST);
  g_clear_error (&error);

  request = parse_request (objects, NULL, &error);
  g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST);
  g_clear_error (&error);

  request = parse_request (quoted, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (request->text, ==, in_string);
}

static void
test_request_length (void)
{
  const char *json = "{\"type\":\"typing\",\"active\":true}garbage";
  gsize len = strlen ("{\"type\":\"typing\",\"active\":true}");
  g_autofree char *copy = g_memdup2 (json, len);
  g_autoptr(GError) error = NULL;
  g_autoptr(GcRequest) request = NULL;

  /* Only @len bytes are read; nothing after them (not even a NUL). */
  request = gc_request_parse (copy, len, 4096, NULL, &error);
  g_assert_no_error (error);
  g_assert_true (request->active);
  g_clear_pointer (&request, gc_request_free);

  request = gc_request_parse (json, strlen (json), 4096, NULL, &error);
  g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST);
  g_clear_error (&error);

  /* A NUL byte inside the length is not JSON. */
  request = gc_request_parse ("{\"type\":\"typing\",\"active\":true}\0", len + 1, 4096, NULL, &error);
  g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST);
  g_clear_error (&error);

  request = gc_request_parse (NULL, 0, 4096, NULL, &error);
  g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST);
}

static const char * const nasty_strings[] = {
  "",
  "plain",
  "\"quoted\" and \\backslashed\\ \\\"",
  "\x01\x02\x03\x04\x05\x06\x07\x08\t\n\x0b\x0c\r\x0e\x0f\x10\x11\x12\x13\x14\x15\x16\x17\x18\x19\x1a\x1b\x1c\x1d\x1e\x1f",
  "del \x7f c1 \xc2\x80\xc2\x9f",
  "emoji \xf0\x9f\x98\x80\xf0\x9f\x91\xa9\xe2\x80\x8d\xf0\x9f\x92\xbb flag \xf0\x9f\x87\xa9\xf0\x9f\x87\xaa",
  "line\xe2\x80\xa8sep\xe2\x80\xa9para",
  "</script><script>alert(1)</script>",
  "\\u0041 is not an escape here",
  "caf\xc3\xa9 \xe4\xb8\xad\xe6\x96\x87 \xd8\xa7\xd9\x84\xd8\xb9\xd8\xb1\xd8\xa8\xd9\x8a\xd8\xa9 \xe2\x80\xae rtl",
  "max \xf4\x8f\xbf\xbf and bom \xef\xbb\xbf and nonchar \xef\xbf\xbf",
  "/ slash and \x1b[31mansi\x1b[0m",
  "  leading and trailing  ",
};

static void
test_request_builders (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (nasty_strings); i++)
    {
      const char *text = nasty_strings[i];
      g_autoptr(GError) error = NULL;
      g_autoptr(GcRequest) request = NULL;
      g_autofree char *json = NULL;
      g_autofree char *ref = NULL;

      json = gc_request_build_message (text, GC_MESSAGE_KIND_EMOTE, "cid\"1");
      g_assert_true (g_utf8_validate (json, -1, NULL));
      request = parse_request (json, &ref, &error);
      g_assert_cmpstr (ref, ==, "cid\"1");
      if (text[0] == '\0')
        {
          g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_EMPTY_MESSAGE);
          continue;
        }
      g_assert_no_error (error);
      g_assert_cmpint (request->type, ==, GC_REQUEST_MESSAGE);
      g_assert_cmpint (request->kind, ==, GC_MESSAGE_KIND_EMOTE);
      g_assert_cmpstr (request->text, ==, text);
      g_assert_cmpstr (request->client_id, ==, "cid\"1");
    }

  {
    g_autofree char *json = gc_request_build_message ("hi", GC_MESSAGE_KIND_TEXT, NULL);
    g_autoptr(GcRequest) request = parse_request (json, NULL, NULL);

    g_assert_cmpstr (json, ==, "{\"type\":\"message\",\"text\":\"hi\",\"kind\":\"text\"}");
    g_assert_nonnull (request);
    g_assert_null (request->client_id);
  }

  {
    g_autofree char *on = gc_request_build_typing (TRUE);
    g_autofree char *off = gc_request_build_typing (FALSE);
    g_autoptr(GcRequest) request = NULL;

    g_assert_cmpstr (on, ==, "{\"type\":\"typing\",\"active\":true}");
    g_assert_cmpstr (off, ==, "{\"type\":\"typing\",\"active\":false}");
    request = parse_request (off, NULL, NULL);
    g_assert_cmpint (request->type, ==, GC_REQUEST_TYPING);
    g_assert_false (request->active);
  }

  {
    g_autofree char *json = gc_request_build_rename ("Z\xc3\xbc" "rich \"Z\"");
    g_autoptr(GcRequest) request = parse_request (json, NULL, NULL);

    g_assert_cmpint (request->type, ==, GC_REQUEST_RENAME);
    g_assert_cmpstr (request->name, ==, "Z\xc3\xbc" "rich \"Z\"");
  }
}

/* Escaping */

static void
test_escape (void)
{
  for (guint i = 0; i < G_N_ELEMENTS (nasty_strings); i++)
    {
      g_autoptr(GString) out = g_string_new ("{\"s\":");
      g_autoptr(GBytes) bytes = NULL;
      g_autoptr(JsonParser) parser = NULL;
      JsonObject *object;

      gc_protocol_append_json_string (out, nasty_strings[i], -1);
      g_string_append_c (out, '}');

      /* No raw control characters or line/paragraph separators. */
      for (gsize j = 0; j < out->len; j++)
        g_assert_cmpuint ((guchar) out->str[j], >=, 0x20);
      g_assert_null (strstr (out->str, "\xe2\x80\xa8"));
      g_assert_null (strstr (out->str, "\xe2\x80\xa9"));

      bytes = g_bytes_new (out->str, out->len);
      parser = raw_parse (bytes, &object);
      g_assert_cmpstr (json_object_get_string_member (object, "s"), ==, nasty_strings[i]);
    }

  /* Exact forms: short escapes where JSON has them, \u00XX otherwise,
   * non-ASCII kept as UTF-8. */
  {
    g_autoptr(GString) out = g_string_new (NULL);

    gc_protocol_append_json_string (out, "\"\\\b\f\n\r\t\x01\x1f\x7f/\xc3\xa9\xe2\x80\xa8\xe2\x80\xa9", -1);
    g_assert_cmpstr (out->str, ==,
                     "\"\\\"\\\\\\b\\f\\n\\r\\t\\u0001\\u001f\x7f/\xc3\xa9\\u2028\\u2029\"");
  }

  /* Explicit length: stops there, and writes an embedded NUL escaped. */
  {
    g_autoptr(GString) out = g_string_new (NULL);

    gc_protocol_append_json_string (out, "a\0b-not-this", 3);
    g_assert_cmpstr (out->str, ==, "\"a\\u0000b\"");
    gc_protocol_append_json_string (out, NULL, 0);
    g_assert_cmpstr (out->str, ==, "\"a\\u0000b\"\"\"");
  }

  /* Invalid UTF-8 never escapes into the output: each bad byte is U+FFFD. */
  {
    static const struct {
      const char *in;
      const char *out;
    } cases[] = {
      { "a\xff" "b", "\"a\xef\xbf\xbd" "b\"" },
      { "\xc0\xaf", "\"\xef\xbf\xbd\xef\xbf\xbd\"" },                 /* overlong */
      { "\xed\xa0\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" }, /* surrogate */
      { "\xf4\x90\x80\x80", "\"\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\xef\xbf\xbd\"" }, /* > U+10FFFF */
      { "x\xe2\x82", "\"x\xef\xbf\xbd\xef\xbf\xbd\"" },               /* truncated */
      { "\xe2\x28\xa1", "\"\xef\xbf\xbd(\xef\xbf\xbd\"" },
    };

    for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
      {
        g_autoptr(GString) out = g_string_new (NULL);

        gc_protocol_append_json_string (out, cases[i].in, -1);
        g_assert_cmpstr (out->str, ==, cases[i].out);
        g_assert_true (g_utf8_validate (out->str, out->len, NULL));
      }
  }

  /* Every single byte value and every code point class survives. */
  {
    g_autoptr(GString) all = g_string_new (NULL);
    g_autoptr(GString) out = g_string_new ("{\"s\":");
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(JsonParser) parser = NULL;
    JsonObject *object;

    for (gunichar c = 1; c < 0x110000; c += (c < 0x3000 ? 1 : 97))
      {
        if (c >= 0xD800 && c <= 0xDFFF)
          continue;
        g_string_append_unichar (all, c);
      }
    gc_protocol_append_json_string (out, all->str, all->len);
    g_string_append_c (out, '}');
    bytes = g_bytes_new (out->str, out->len);
    parser = raw_parse (bytes, &object);
    g_assert_cmpstr (json_object_get_string_member (object, "s"), ==, all->str);
  }
}

/* Events: building and parsing */

static GcUser *
make_user (const char *id,
           const char *name)
{
  return gc_user_new (id, name);
}

static void
test_event_message (void)
{
  g_autoptr(GcUser) from = make_user ("u-1", "Al\"ice\xe2\x80\xa8");
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GBytes) bare = NULL;
  g_autoptr(GcEvent) event = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autofree char *text = NULL;
  JsonObject *object;
  JsonObject *from_object;

  for (guint i = 0; i < G_N_ELEMENTS (nasty_strings); i++)
    {
      g_autoptr(GBytes) nasty = gc_event_build_message (7, 1700000000123, from,
                                                        GC_MESSAGE_KIND_TEXT,
                                                        nasty_strings[i], nasty_strings[i]);
      g_autoptr(GcEvent) parsed = parse_event_bytes (nasty);

      g_assert_cmpint (parsed->type, ==, GC_EVENT_MESSAGE);
      g_assert_cmpstr (parsed->message->text, ==, nasty_strings[i]);
      g_assert_cmpstr (parsed->message->client_id, ==, nasty_strings[i]);
    }

  bytes = gc_event_build_message (G_MAXINT64, -5, from, GC_MESSAGE_KIND_EMOTE, " waves ", "c9");
  text = bytes_to_string (bytes);
  g_assert_cmpstr (text, ==,
                   "{\"type\":\"message\",\"id\":9223372036854775807,\"ts\":-5,"
                   "\"from\":{\"id\":\"u-1\",\"name\":\"Al\\\"ice\\u2028\"},"
                   "\"kind\":\"emote\",\"text\":\" waves \",\"client_id\":\"c9\"}");

  event = parse_event_bytes (bytes);
  g_assert_cmpint (event->type, ==, GC_EVENT_MESSAGE);
  g_assert_cmpuint (event->message->id, ==, G_MAXINT64);
  g_assert_cmpint (event->message->ts, ==, -5);
  g_assert_cmpstr (event->message->from->id, ==, "u-1");
  g_assert_cmpstr (event->message->from->name, ==, "Al\"ice\xe2\x80\xa8");
  g_assert_cmpint (event->message->kind, ==, GC_MESSAGE_KIND_EMOTE);
  g_assert_cmpstr (event->message->text, ==, " waves ");
  g_assert_cmpstr (event->message->client_id, ==, "c9");

  /* client_id is omitted (not null) when there is none. */
  bare = gc_event_build_message (1, 2, from, GC_MESSAGE_KIND_TEXT, "x", NULL);
  parser = raw_parse (bare, &object);
  g_assert_false (json_object_has_member (object, "client_id"));
  g_assert_cmpstr (json_object_get_string_member (object, "type"), ==, "message");
  g_assert_cmpint (json_object_get_int_member (object, "id"), ==, 1);
  g_assert_cmpint (json_object_get_int_member (object, "ts"), ==, 2);
  g_assert_cmpstr (json_object_get_string_member (object, "kind"), ==, "text");
  g_assert_cmpstr (json_object_get_string_member (object, "text"), ==, "x");
  from_object = json_object_get_object_member (object, "from");
  g_assert_cmpstr (json_object_get_string_member (from_object, "id"), ==, "u-1");
  g_assert_cmpuint (json_object_get_size (object), ==, 6);
}

static void
test_event_membership (void)
{
  g_autoptr(GcUser) user = make_user ("7f3a", "B\xc3\xb6" "b");

  {
    g_autoptr(GBytes) bytes = gc_event_build_join (user, 1700000000000);
    g_autofree char *text = bytes_to_string (bytes);
    g_autoptr(GcEvent) event = parse_event_bytes (bytes);

    g_assert_cmpstr (text, ==, "{\"type\":\"join\",\"user\":{\"id\":\"7f3a\",\"name\":\"B\xc3\xb6" "b\"},\"ts\":1700000000000}");
    g_assert_cmpint (event->type, ==, GC_EVENT_JOIN);
    g_assert_cmpstr (event->join.user->id, ==, "7f3a");
    g_assert_cmpstr (event->join.user->name, ==, "B\xc3\xb6" "b");
    g_assert_cmpint (event->join.ts, ==, 1700000000000);
  }

  for (GcLeaveReason reason = GC_LEAVE_REASON_LEFT; reason <= GC_LEAVE_REASON_ERROR; reason++)
    {
      g_autoptr(GBytes) bytes = gc_event_build_leave (user, reason, 99);
      g_autoptr(GcEvent) event = parse_event_bytes (bytes);
      g_autoptr(JsonParser) parser = NULL;
      JsonObject *object;

      g_assert_cmpint (event->type, ==, GC_EVENT_LEAVE);
      g_assert_cmpint (event->leave.reason, ==, reason);
      g_assert_cmpstr (event->leave.user->name, ==, "B\xc3\xb6" "b");
      g_assert_cmpint (event->leave.ts, ==, 99);

      parser = raw_parse (bytes, &object);
      g_assert_cmpstr (json_object_get_string_member (object, "reason"), ==,
                       gc_leave_reason_to_string (reason));
    }

  {
    g_autoptr(GBytes) bytes = gc_event_build_rename (user, "old \"name\"", 5);
    g_autoptr(GcEvent) event = parse_event_bytes (bytes);

    g_assert_cmpint (event->type, ==, GC_EVENT_RENAME);
    g_assert_cmpstr (event->rename.user->name, ==, "B\xc3\xb6" "b");
    g_assert_cmpstr (event->rename.old_name, ==, "old \"name\"");
    g_assert_cmpint (event->rename.ts, ==, 5);
  }

  {
    g_autoptr(GBytes) on = gc_event_build_typing (user, TRUE);
    g_autoptr(GBytes) off = gc_event_build_typing (user, FALSE);
    g_autoptr(GcEvent) event_on = parse_event_bytes (on);
    g_autoptr(GcEvent) event_off = parse_event_bytes (off);
    g_autofree char *text = bytes_to_string (off);

    g_assert_cmpstr (text, ==, "{\"type\":\"typing\",\"user\":{\"id\":\"7f3a\",\"name\":\"B\xc3\xb6" "b\"},\"active\":false}");
    g_assert_cmpint (event_on->type, ==, GC_EVENT_TYPING);
    g_assert_true (event_on->typing.active);
    g_assert_false (event_off->typing.active);
    g_assert_cmpstr (event_off->typing.user->id, ==, "7f3a");
  }
}

static void
test_event_error (void)
{
  {
    g_autoptr(GBytes) bytes = gc_event_build_error (GC_PROTOCOL_ERROR_RATE_LIMITED, "slow down", "c1", 250);
    g_autofree char *text = bytes_to_string (bytes);
    g_autoptr(GcEvent) event = parse_event_bytes (bytes);

    g_assert_cmpstr (text, ==, "{\"type\":\"error\",\"code\":\"rate_limited\",\"message\":\"slow down\","
                               "\"ref\":\"c1\",\"retry_after_ms\":250}");
    g_assert_cmpint (event->type, ==, GC_EVENT_ERROR);
    g_assert_cmpstr (event->error.code, ==, "rate_limited");
    g_assert_cmpint (event->error.error, ==, GC_PROTOCOL_ERROR_RATE_LIMITED);
    g_assert_cmpstr (event->error.message, ==, "slow down");
    g_assert_cmpstr (event->error.ref, ==, "c1");
    g_assert_cmpuint (event->error.retry_after_ms, ==, 250);
  }

  {
    /* No ref; retry_after_ms only for rate_limited. */
    g_autoptr(GBytes) bytes = gc_event_build_error (GC_PROTOCOL_ERROR_EMPTY_MESSAGE, "empty", NULL, 250);
    g_autoptr(JsonParser) parser = NULL;
    g_autoptr(GcEvent) event = parse_event_bytes (bytes);
    JsonObject *object;

    parser = raw_parse (bytes, &object);
    g_assert_false (json_object_has_member (object, "ref"));
    g_assert_false (json_object_has_member (object, "retry_after_ms"));
    g_assert_cmpuint (json_object_get_size (object), ==, 3);
    g_assert_cmpint (event->error.error, ==, GC_PROTOCOL_ERROR_EMPTY_MESSAGE);
    g_assert_null (event->error.ref);
    g_assert_cmpuint (event->error.retry_after_ms, ==, 0);
  }

  {
    /* Straight from a parse failure. */
    g_autoptr(GError) error = NULL;
    g_autofree char *ref = NULL;
    g_autoptr(GcRequest) request = parse_request ("{\"type\":\"message\",\"text\":\" \",\"client_id\":\"q\"}",
                                                  &ref, &error);
    g_autoptr(GBytes) bytes = NULL;
    g_autoptr(GcEvent) event = NULL;

    g_assert_null (request);
    bytes = gc_event_build_error_from_gerror (error, ref, 0);
    event = parse_event_bytes (bytes);
    g_assert_cmpstr (event->error.code, ==, "empty_message");
    g_assert_cmpstr (event->error.message, ==, error->message);
    g_assert_cmpstr (event->error.ref, ==, "q");
  }

  {
    /* A code from a newer server. */
    g_autoptr(GcEvent) event = parse_event ("{\"type\":\"error\",\"code\":\"brand_new\",\"message\":\"m\"}", NULL);

    g_assert_cmpint (event->type, ==, GC_EVENT_ERROR);
    g_assert_cmpstr (event->error.code, ==, "brand_new");
    g_assert_cmpint (event->error.error, ==, GC_PROTOCOL_ERROR_FAILED);
  }
}

static void
test_refusal (void)
{
  {
    g_autoptr(GBytes) bytes = gc_protocol_build_refusal (GC_PROTOCOL_ERROR_NAME_TAKEN, "taken", "alice2", 0);
    g_autofree char *text = bytes_to_string (bytes);

    g_assert_cmpstr (text, ==, "{\"error\":\"name_taken\",\"message\":\"taken\",\"suggestion\":\"alice2\"}");
  }

  {
    g_autoptr(GBytes) bytes = gc_protocol_build_refusal (GC_PROTOCOL_ERROR_RATE_LIMITED, "too many joins", NULL, 1500);
    g_autoptr(JsonParser) parser = NULL;
    JsonObject *object;

    parser = raw_parse (bytes, &object);
    g_assert_cmpstr (json_object_get_string_member (object, "error"), ==, "rate_limited");
    g_assert_cmpstr (json_object_get_string_member (object, "message"), ==, "too many joins");
    g_assert_cmpint (json_object_get_int_member (object, "retry_after_ms"), ==, 1500);
    g_assert_false (json_object_has_member (object, "suggestion"));
  }

  {
    g_autoptr(GBytes) bytes = gc_protocol_build_refusal (GC_PROTOCOL_ERROR_INVALID_ROOM_CODE,
                                                         "bad \"room\"", "ignored", 7);
    g_autofree char *text = bytes_to_string (bytes);

    g_assert_cmpstr (text, ==, "{\"error\":\"invalid_room_code\",\"message\":\"bad \\\"room\\\"\"}");
  }
}

static GBytes *
welcome_with_rate (GPtrArray *members,
                   GPtrArray *history,
                   double     rate_per_s,
                   gboolean   resumed)
{
  GcLimits limits;
  GcWelcomeParams params = {
    .server_name = GC_PROTOCOL_SERVER_NAME,
    .server_version = "0.1.0",
    .room = "lobby",
    .you = g_ptr_array_index (members, 0),
    .session_id = "0123456789abcdef0123456789abcdef",
    .resume_s = 30,
    .resumed = resumed,
    .members = members,
    .history = history,
    .limits = &limits,
  };

  gc_limits_init_default (&limits);
  limits.rate_per_s = rate_per_s;

  return gc_event_build_welcome (&params);
}

static void
test_event_welcome (void)
{
  g_autoptr(GPtrArray) members = g_ptr_array_new_with_free_func ((GDestroyNotify) gc_user_free);
  g_autoptr(GPtrArray) history = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GcEvent) event = NULL;
  g_autoptr(JsonParser) parser = NULL;
  g_autofree char *text = NULL;
  GcWelcome *welcome;
  JsonObject *object;
  JsonObject *limits;

  g_ptr_array_add (members, make_user ("u1", "me"));
  g_ptr_array_add (members, make_user ("u2", "\xe3\x81\x82\xe3\x81\x84"));
  g_ptr_array_add (history, gc_event_build_message (41, 1000, members->pdata[1],
                                                    GC_MESSAGE_KIND_TEXT, "first \"one\"\n", NULL));
  g_ptr_array_add (history, gc_event_build_message (42, 1001, members->pdata[0],
                                                    GC_MESSAGE_KIND_EMOTE, "waves \xf0\x9f\x91\x8b", "cid"));

  bytes = welcome_with_rate (members, history, 5, FALSE);
  text = bytes_to_string (bytes);

  /* History is spliced in byte for byte, in order. */
  {
    g_autofree char *h0 = bytes_to_string (history->pdata[0]);
    g_autofree char *h1 = bytes_to_string (history->pdata[1]);
    g_autofree char *spliced = g_strdup_printf ("\"history\":[%s,%s]", h0, h1);

    g_assert_nonnull (strstr (text, spliced));
  }
  g_assert_nonnull (strstr (text, "\"rate_per_s\":5}"));
  g_assert_true (g_str_has_prefix (text, "{\"type\":\"welcome\",\"protocol\":1,"));

  parser = raw_parse (bytes, &object);
  g_assert_cmpint (json_object_get_int_member (object, "protocol"), ==, 1);
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (object, "server"), "name"),
                   ==, "gochat-server");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "members")), ==, 2);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (object, "history")), ==, 2);
  limits = json_object_get_object_member (object, "limits");
  g_assert_cmpint (json_object_get_int_member (limits, "max_text_bytes"), ==, 4096);
  g_assert_cmpint (json_object_get_int_member (limits, "max_message_bytes"), ==, 65536);
  g_assert_cmpint (json_object_get_int_member (limits, "rate_burst"), ==, 10);
  g_assert_cmpint (json_object_get_int_member (limits, "rate_per_s"), ==, 5);

  event = parse_event_bytes (bytes);
  g_assert_cmpint (event->type, ==, GC_EVENT_WELCOME);
  welcome = event->welcome;
  g_assert_cmpuint (welcome->protocol, ==, 1);
  g_assert_cmpstr (welcome->server_name, ==, "gochat-server");
  g_assert_cmpstr (welcome->server_version, ==, "0.1.0");
  g_assert_cmpstr (welcome->room, ==, "lobby");
  g_assert_cmpstr (welcome->you->id, ==, "u1");
  g_assert_cmpstr (welcome->you->name, ==, "me");
  g_assert_cmpstr (welcome->session_id, ==, "0123456789abcdef0123456789abcdef");
  g_assert_cmpuint (welcome->resume_s, ==, 30);
  g_assert_false (welcome->resumed);
  g_assert_cmpuint (welcome->members->len, ==, 2);
  g_assert_cmpstr (((GcUser *) welcome->members->pdata[1])->name, ==, "\xe3\x81\x82\xe3\x81\x84");
  g_assert_cmpuint (welcome->history->len, ==, 2);
  {
    GcMessage *first = welcome->history->pdata[0];
    GcMessage *second = welcome->history->pdata[1];

    g_assert_cmpuint (first->id, ==, 41);
    g_assert_cmpint (first->ts, ==, 1000);
    g_assert_cmpstr (first->from->id, ==, "u2");
    g_assert_cmpstr (first->text, ==, "first \"one\"\n");
    g_assert_null (first->client_id);
    g_assert_cmpuint (second->id, ==, 42);
    g_assert_cmpint (second->kind, ==, GC_MESSAGE_KIND_EMOTE);
    g_assert_cmpstr (second->client_id, ==, "cid");
  }
  g_assert_cmpuint (welcome->limits.max_text_bytes, ==, 4096);
  g_assert_cmpuint (welcome->limits.max_message_bytes, ==, 65536);
  g_assert_cmpuint (welcome->limits.rate_burst, ==, 10);
  g_assert_cmpfloat (welcome->limits.rate_per_s, ==, 5.0);

  /* Fractional rates survive exactly; no history is an empty array. */
  {
    static const double rates[] = { 0.1, 2.5, 1.0 / 3.0, 1e-7, 123456789.125 };

    for (guint i = 0; i < G_N_ELEMENTS (rates); i++)
      {
        g_autoptr(GBytes) other = welcome_with_rate (members, NULL, rates[i], TRUE);
        g_autoptr(GcEvent) parsed = parse_event_bytes (other);
        g_autofree char *other_text = bytes_to_string (other);

        g_assert_nonnull (strstr (other_text, "\"history\":[]"));
        g_assert_cmpfloat (parsed->welcome->limits.rate_per_s, ==, rates[i]);
        g_assert_true (parsed->welcome->resumed);
        g_assert_cmpuint (parsed->welcome->history->len, ==, 0);
      }
  }
}

typedef struct {
  const char *json;
  GcEventType type;   /* GC_EVENT_UNKNOWN + valid = FALSE means an error */
  gboolean valid;
} EventCase;

static void
test_event_parse_errors (void)
{
#define USER "{\"id\":\"u\",\"name\":\"n\"}"
#define LIMITS "{\"max_text_bytes\":4096,\"max_message_bytes\":65536,\"rate_burst\":10,\"rate_per_s\":5}"
#define WELCOME_HEAD "{\"type\":\"welcome\",\"protocol\":1,\"room\":\"r\",\"you\":" USER ",\"session_id\":\"s\"," \
                     "\"resume_s\":30,\"resumed\":false,\"members\":[" USER "]"
  static const EventCase cases[] = {
    /* fine, with unknown fields and without optional ones */
    { "{\"type\":\"join\",\"user\":" USER ",\"ts\":1,\"extra\":{\"a\":[1]}}", GC_EVENT_JOIN, TRUE },
    { "{\"type\":\"message\",\"id\":1,\"ts\":1,\"from\":" USER ",\"text\":\"t\"}", GC_EVENT_MESSAGE, TRUE },
    { WELCOME_HEAD ",\"history\":[],\"limits\":" LIMITS "}", GC_EVENT_WELCOME, TRUE },
    { WELCOME_HEAD ",\"history\":[],\"limits\":{\"max_text_bytes\":1,\"max_message_bytes\":2,"
      "\"rate_burst\":3,\"rate_per_s\":0.5}}", GC_EVENT_WELCOME, TRUE },
    { "{\"type\":\"error\",\"code\":\"bad_request\",\"message\":\"m\"}", GC_EVENT_ERROR, TRUE },
    { "{\"type\":\"shiny_new_event\",\"whatever\":[1,2]}", GC_EVENT_UNKNOWN, TRUE },
    /* not an event at all */
    { "", GC_EVENT_UNKNOWN, FALSE },
    { "[]", GC_EVENT_UNKNOWN, FALSE },
    { "{}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":1}", GC_EVENT_UNKNOWN, FALSE },
    /* message */
    { "{\"type\":\"message\",\"id\":\"1\",\"ts\":1,\"from\":" USER ",\"text\":\"t\"}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"message\",\"id\":0,\"ts\":1,\"from\":" USER ",\"text\":\"t\"}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"message\",\"id\":-3,\"ts\":1,\"from\":" USER ",\"text\":\"t\"}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"message\",\"id\":1.5,\"ts\":1,\"from\":" USER ",\"text\":\"t\"}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"message\",\"id\":18446744073709551615,\"ts\":1,\"from\":" USER ",\"text\":\"t\"}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"message\",\"id\":1,\"from\":" USER ",\"text\":\"t\"}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"message\",\"id\":1,\"ts\":1,\"text\":\"t\"}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"message\",\"id\":1,\"ts\":1,\"from\":\"u\",\"text\":\"t\"}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"message\",\"id\":1,\"ts\":1,\"from\":{\"id\":5,\"name\":\"n\"},\"text\":\"t\"}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"message\",\"id\":1,\"ts\":1,\"from\":{\"id\":\"u\"},\"text\":\"t\"}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"message\",\"id\":1,\"ts\":1,\"from\":" USER "}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"message\",\"id\":1,\"ts\":1,\"from\":" USER ",\"text\":\"t\",\"kind\":\"yell\"}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"message\",\"id\":1,\"ts\":1,\"from\":" USER ",\"text\":\"t\",\"client_id\":3}", GC_EVENT_UNKNOWN, FALSE },
    /* join, leave, rename, typing */
    { "{\"type\":\"join\",\"ts\":1}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"join\",\"user\":" USER "}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"join\",\"user\":" USER ",\"ts\":\"1\"}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"leave\",\"user\":" USER ",\"reason\":\"kicked\",\"ts\":1}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"leave\",\"user\":" USER ",\"ts\":1}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"rename\",\"user\":" USER ",\"ts\":1}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"rename\",\"user\":" USER ",\"old_name\":null,\"ts\":1}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"typing\",\"user\":" USER ",\"active\":\"yes\"}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"typing\",\"active\":true}", GC_EVENT_UNKNOWN, FALSE },
    /* error */
    { "{\"type\":\"error\",\"message\":\"m\"}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"error\",\"code\":\"bad_request\"}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"error\",\"code\":\"bad_request\",\"message\":\"m\",\"ref\":1}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"error\",\"code\":\"rate_limited\",\"message\":\"m\",\"retry_after_ms\":-1}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"error\",\"code\":\"rate_limited\",\"message\":\"m\",\"retry_after_ms\":\"5\"}", GC_EVENT_UNKNOWN, FALSE },
    /* welcome */
    { WELCOME_HEAD ",\"history\":[]}", GC_EVENT_UNKNOWN, FALSE },
    { WELCOME_HEAD ",\"limits\":" LIMITS "}", GC_EVENT_UNKNOWN, FALSE },
    { WELCOME_HEAD ",\"history\":[1],\"limits\":" LIMITS "}", GC_EVENT_UNKNOWN, FALSE },
    { WELCOME_HEAD ",\"history\":[{\"id\":1}],\"limits\":" LIMITS "}", GC_EVENT_UNKNOWN, FALSE },
    { WELCOME_HEAD ",\"history\":{},\"limits\":" LIMITS "}", GC_EVENT_UNKNOWN, FALSE },
    { WELCOME_HEAD ",\"history\":[],\"limits\":{\"max_text_bytes\":-1,\"max_message_bytes\":2,"
      "\"rate_burst\":3,\"rate_per_s\":1}}", GC_EVENT_UNKNOWN, FALSE },
    { WELCOME_HEAD ",\"history\":[],\"limits\":{\"max_text_bytes\":1,\"max_message_bytes\":2,"
      "\"rate_burst\":3,\"rate_per_s\":\"1\"}}", GC_EVENT_UNKNOWN, FALSE },
    { WELCOME_HEAD ",\"history\":[],\"limits\":{\"max_text_bytes\":4294967296,\"max_message_bytes\":2,"
      "\"rate_burst\":3,\"rate_per_s\":1}}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"welcome\",\"protocol\":1,\"room\":\"r\",\"you\":" USER ",\"session_id\":\"s\","
      "\"resume_s\":30,\"resumed\":false,\"members\":[5],\"history\":[],\"limits\":" LIMITS "}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"welcome\",\"protocol\":1,\"room\":\"r\",\"you\":" USER ",\"session_id\":\"s\","
      "\"resume_s\":30,\"resumed\":0,\"members\":[],\"history\":[],\"limits\":" LIMITS "}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"welcome\",\"protocol\":1,\"server\":\"gochat\",\"room\":\"r\",\"you\":" USER ",\"session_id\":\"s\","
      "\"resume_s\":30,\"resumed\":false,\"members\":[],\"history\":[],\"limits\":" LIMITS "}", GC_EVENT_UNKNOWN, FALSE },
    { "{\"type\":\"welcome\",\"room\":\"r\",\"you\":" USER ",\"session_id\":\"s\","
      "\"resume_s\":30,\"resumed\":false,\"members\":[],\"history\":[],\"limits\":" LIMITS "}", GC_EVENT_UNKNOWN, FALSE },
  };
#undef USER
#undef LIMITS
#undef WELCOME_HEAD

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GcEvent) event = NULL;
      g_autofree char *escaped = g_strescape (cases[i].json, NULL);

      g_test_message ("case %u: %s", i, escaped);
      event = parse_event (cases[i].json, &error);
      if (cases[i].valid)
        {
          g_assert_no_error (error);
          g_assert_nonnull (event);
          g_assert_cmpint (event->type, ==, cases[i].type);
        }
      else
        {
          g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST);
          g_assert_null (event);
        }
    }

  {
    g_autoptr(GcEvent) event = parse_event ("{\"type\":\"shiny_new_event\"}", NULL);

    g_assert_cmpstr (event->unknown.type_name, ==, "shiny_new_event");
  }

  {
    /* Default kind, optional server object absent. */
    g_autoptr(GcEvent) event = parse_event ("{\"type\":\"message\",\"id\":3,\"ts\":1,"
                                            "\"from\":{\"id\":\"u\",\"name\":\"n\"},\"text\":\"t\"}", NULL);

    g_assert_cmpint (event->message->kind, ==, GC_MESSAGE_KIND_TEXT);
    g_assert_null (event->message->client_id);
  }
}

static void
test_steal_from_event (void)
{
  g_autoptr(GcUser) user = make_user ("u", "n");
  g_autoptr(GBytes) bytes = gc_event_build_message (5, 6, user, GC_MESSAGE_KIND_TEXT, "keep me", NULL);
  g_autoptr(GcEvent) event = parse_event_bytes (bytes);
  g_autoptr(GcMessage) message = g_steal_pointer (&event->message);

  g_clear_pointer (&event, gc_event_free);
  g_assert_cmpstr (message->text, ==, "keep me");
  g_assert_cmpstr (message->from->name, ==, "n");
}

/* docs/protocol.md §3.1–§3.2: what clients send. */
static void
test_join_build (void)
{
  GcJoinParams params = { .room_code = "Lobby", .user_name = "Zoë & Bob+1%" };
  g_autofree char *query = gc_join_build_query (&params);
  g_autofree char *resume = NULL;
  g_autofree char *target = NULL;
  const struct {
    const char *base;
    const char *path;
  } paths[] = {
    { NULL, "/joinRoom" },
    { "", "/joinRoom" },
    { "/", "/joinRoom" },
    { "/chat", "/chat/joinRoom" },
    { "/chat//", "/chat/joinRoom" },
  };

  g_assert_cmpstr (query, ==, "room_code=Lobby&user_name=Zo%C3%AB%20%26%20Bob%2B1%25");

  params.session_id = "ab-_c";
  params.has_since = TRUE;
  params.since = G_MAXUINT64;
  resume = gc_join_build_query (&params);
  g_assert_cmpstr (resume, ==, "room_code=Lobby&user_name=Zo%C3%AB%20%26%20Bob%2B1%25"
                               "&session_id=ab-_c&since=18446744073709551615");

  for (guint i = 0; i < G_N_ELEMENTS (paths); i++)
    {
      g_autofree char *path = gc_join_build_path (paths[i].base);

      g_assert_cmpstr (path, ==, paths[i].path);
    }

  params.session_id = NULL;
  params.has_since = FALSE;
  target = gc_join_build_target ("/x/", &params);
  g_assert_cmpstr (target, ==, "/x/joinRoom?room_code=Lobby&user_name=Zo%C3%AB%20%26%20Bob%2B1%25");

  g_assert_true (gc_join_is_path (GC_PROTOCOL_JOIN_PATH));
  g_assert_false (gc_join_is_path ("/joinroom"));
  g_assert_false (gc_join_is_path (NULL));
}

/* docs/protocol.md §3.2–§3.5, §3.7: what the server reads; and what it
 * reads is what clients build. */
static void
test_join_parse (void)
{
  const struct {
    const char      *query;
    GcProtocolError  code;
    const char      *room;   /* left in the query on failure */
  } refused[] = {
    { NULL, GC_PROTOCOL_ERROR_INVALID_ROOM_CODE, NULL },
    { "user_name=a", GC_PROTOCOL_ERROR_INVALID_ROOM_CODE, NULL },
    { "room_code&user_name=a", GC_PROTOCOL_ERROR_INVALID_ROOM_CODE, NULL },
    { "room_code=a&room_code=a&user_name=a", GC_PROTOCOL_ERROR_INVALID_ROOM_CODE, NULL },
    { "room_code=a%00b&user_name=a", GC_PROTOCOL_ERROR_INVALID_ROOM_CODE, NULL },
    { "room_code=a%zz&user_name=a", GC_PROTOCOL_ERROR_INVALID_ROOM_CODE, NULL },
    { "room_code=a%20b&user_name=a", GC_PROTOCOL_ERROR_INVALID_ROOM_CODE, NULL },
    { "room_code=A&user_name=bob%00evil", GC_PROTOCOL_ERROR_INVALID_USER_NAME, "a" },
    { "room_code=A&user_name", GC_PROTOCOL_ERROR_INVALID_USER_NAME, "a" },
    { "room_code=A&user_name=+", GC_PROTOCOL_ERROR_INVALID_USER_NAME, "a" },
    { "room_code=A&user_name=a&user_name=b", GC_PROTOCOL_ERROR_INVALID_USER_NAME, "a" },
    { "room_code=A&user_name=a%FF", GC_PROTOCOL_ERROR_INVALID_USER_NAME, "a" },
    { "room_code=A&user_name=a&since", GC_PROTOCOL_ERROR_BAD_REQUEST, "a" },
    { "room_code=A&user_name=a&since=-1", GC_PROTOCOL_ERROR_BAD_REQUEST, "a" },
    { "room_code=A&user_name=a&since=1&since=1", GC_PROTOCOL_ERROR_BAD_REQUEST, "a" },
    { "room_code=A&user_name=a&session_id=x&session_id=x", GC_PROTOCOL_ERROR_BAD_REQUEST, "a" },
    { "room_code=A&user_name=a&session_id=x%00", GC_PROTOCOL_ERROR_BAD_REQUEST, "a" },
    /* The first failure in §3.7's order wins. */
    { "since=x&user_name=&room_code=", GC_PROTOCOL_ERROR_INVALID_ROOM_CODE, NULL },
    { "since=x&user_name=&room_code=b", GC_PROTOCOL_ERROR_INVALID_USER_NAME, "b" },
  };
  GcJoinParams params = { .room_code = "Room_1", .user_name = " Zoë & Bob+1% ",
                          .session_id = "t0k3n", .has_since = TRUE, .since = 42 };
  g_autofree char *built = gc_join_build_query (&params);
  g_auto(GcJoinQuery) query = { 0 };
  g_auto(GcJoinQuery) fresh = { 0 };
  g_autoptr(GError) error = NULL;

  g_assert_true (gc_join_query_parse (built, &query, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (query.room_code, ==, "room_1");
  g_assert_cmpstr (query.user_name, ==, "Zoë & Bob+1%");
  g_assert_cmpstr (query.session_id, ==, "t0k3n");
  g_assert_true (query.has_since);
  g_assert_cmpuint (query.since, ==, 42);

  /* `+` is a space; unknown parameters are ignored. */
  g_assert_true (gc_join_query_parse ("x=1&room_code=r&user_name=a+b&y", &fresh, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (fresh.user_name, ==, "a b");
  g_assert_null (fresh.session_id);
  g_assert_false (fresh.has_since);

  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_auto(GcJoinQuery) bad = { 0 };
      g_autoptr(GError) bad_error = NULL;

      g_test_message ("case %u: %s", i, refused[i].query);
      g_assert_false (gc_join_query_parse (refused[i].query, &bad, &bad_error));
      g_assert_error (bad_error, GC_PROTOCOL_ERROR, (gint) refused[i].code);
      g_assert_cmpstr (bad.room_code, ==, refused[i].room);
    }
}

/* docs/protocol.md §3.6: the body the server builds reads back, alone or
 * among other members; members of the wrong type count as absent. */
static void
test_refusal_parse (void)
{
  g_autoptr(GBytes) taken = gc_protocol_build_refusal (GC_PROTOCOL_ERROR_NAME_TAKEN,
                                                       "in use", "alice2", 0);
  g_autoptr(GBytes) limited = gc_protocol_build_refusal (GC_PROTOCOL_ERROR_RATE_LIMITED,
                                                         "slow down", NULL, 1500);
  g_autoptr(GString) event = g_string_new ("{\"type\":\"refused\",");
  g_autoptr(GcRefusal) refusal = NULL;
  g_autoptr(GError) error = NULL;
  gsize size;
  const char *data;

  data = g_bytes_get_data (taken, &size);
  refusal = gc_refusal_parse (data, size, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (refusal->code, ==, "name_taken");
  g_assert_cmpint (refusal->error, ==, GC_PROTOCOL_ERROR_NAME_TAKEN);
  g_assert_cmpstr (refusal->message, ==, "in use");
  g_assert_cmpstr (refusal->suggestion, ==, "alice2");
  g_assert_cmpuint (refusal->retry_after_ms, ==, 0);
  g_clear_pointer (&refusal, gc_refusal_free);

  data = g_bytes_get_data (limited, &size);
  refusal = gc_refusal_parse (data, size, &error);
  g_assert_no_error (error);
  g_assert_cmpint (refusal->error, ==, GC_PROTOCOL_ERROR_RATE_LIMITED);
  g_assert_null (refusal->suggestion);
  g_assert_cmpuint (refusal->retry_after_ms, ==, 1500);
  g_clear_pointer (&refusal, gc_refusal_free);

  gc_protocol_append_refusal_members (event, GC_PROTOCOL_ERROR_SERVER_FULL, "full", NULL, 0);
  g_string_append_c (event, '}');
  refusal = gc_refusal_parse (event->str, event->len, &error);
  g_assert_no_error (error);
  g_assert_cmpint (refusal->error, ==, GC_PROTOCOL_ERROR_SERVER_FULL);
  g_assert_cmpstr (refusal->message, ==, "full");
  g_clear_pointer (&refusal, gc_refusal_free);

  refusal = gc_refusal_parse ("{\"error\":\"from_the_future\",\"message\":5,"
                              "\"retry_after_ms\":\"9\",\"suggestion\":null}", 78, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (refusal->code, ==, "from_the_future");
  g_assert_cmpint (refusal->error, ==, GC_PROTOCOL_ERROR_FAILED);
  g_assert_null (refusal->message);
  g_assert_null (refusal->suggestion);
  g_assert_cmpuint (refusal->retry_after_ms, ==, 0);
  g_clear_pointer (&refusal, gc_refusal_free);

  refusal = gc_refusal_parse ("<html>502</html>", 16, &error);
  g_assert_null (refusal);
  g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST);
  g_clear_error (&error);

  refusal = gc_refusal_parse ("[1]", 3, &error);
  g_assert_null (refusal);
  g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST);
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/protocol/error-codes", test_error_codes);
  g_test_add_func ("/protocol/enum-strings", test_enum_strings);
  g_test_add_func ("/protocol/room-code", test_room_code);
  g_test_add_func ("/protocol/user-name/valid", test_user_name_valid);
  g_test_add_func ("/protocol/user-name/invalid", test_user_name_invalid);
  g_test_add_func ("/protocol/user-name/look-alikes", test_user_name_look_alikes);
  g_test_add_func ("/protocol/user-name/key", test_user_name_key);
  g_test_add_func ("/protocol/user-name/suggest", test_suggest_name);
  g_test_add_func ("/protocol/user-name/find-free", test_find_free_name);
  g_test_add_func ("/protocol/since", test_parse_since);
  g_test_add_func ("/protocol/request/message", test_request_message);
  g_test_add_func ("/protocol/request/text-limit", test_request_text_limit);
  g_test_add_func ("/protocol/request/typing-rename", test_request_typing_rename);
  g_test_add_func ("/protocol/request/errors", test_request_errors);
  g_test_add_func ("/protocol/request/raw-control", test_request_raw_control);
  g_test_add_func ("/protocol/request/two-values", test_request_two_values);
  g_test_add_func ("/protocol/request/duplicate-keys", test_request_duplicate_keys);
  g_test_add_func ("/protocol/request/depth", test_request_depth);
  g_test_add_func ("/protocol/request/length", test_request_length);
  g_test_add_func ("/protocol/request/builders", test_request_builders);
  g_test_add_func ("/protocol/escape", test_escape);
  g_test_add_func ("/protocol/event/message", test_event_message);
  g_test_add_func ("/protocol/event/membership", test_event_membership);
  g_test_add_func ("/protocol/event/error", test_event_error);
  g_test_add_func ("/protocol/event/welcome", test_event_welcome);
  g_test_add_func ("/protocol/event/parse-errors", test_event_parse_errors);
  g_test_add_func ("/protocol/event/steal", test_steal_from_event);
  g_test_add_func ("/protocol/refusal", test_refusal);
  g_test_add_func ("/protocol/refusal/parse", test_refusal_parse);
  g_test_add_func ("/protocol/join/build", test_join_build);
  g_test_add_func ("/protocol/join/parse", test_join_parse);

  return g_test_run ();
}
