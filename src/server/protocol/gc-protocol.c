/* gc-protocol.c: error codes, enum strings, value types and name/room validation
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-protocol-private.h"

G_DEFINE_QUARK (gc-protocol-error-quark, gc_protocol_error)

typedef struct {
  const char *wire;
  guint       http_status;
} ErrorInfo;

/* Indexed by GcProtocolError. */
static const ErrorInfo error_info[] = {
  [GC_PROTOCOL_ERROR_FAILED]             = { NULL,                 400 },
  [GC_PROTOCOL_ERROR_BAD_REQUEST]        = { "bad_request",        400 },
  [GC_PROTOCOL_ERROR_EMPTY_MESSAGE]      = { "empty_message",      400 },
  [GC_PROTOCOL_ERROR_MESSAGE_TOO_LONG]   = { "message_too_long",   400 },
  [GC_PROTOCOL_ERROR_RATE_LIMITED]       = { "rate_limited",       429 },
  [GC_PROTOCOL_ERROR_INVALID_USER_NAME]  = { "invalid_user_name",  400 },
  [GC_PROTOCOL_ERROR_NAME_TAKEN]         = { "name_taken",         409 },
  [GC_PROTOCOL_ERROR_INVALID_ROOM_CODE]  = { "invalid_room_code",  400 },
  [GC_PROTOCOL_ERROR_NOT_FOUND]          = { "not_found",          404 },
  [GC_PROTOCOL_ERROR_ROOM_FULL]          = { "room_full",          403 },
  [GC_PROTOCOL_ERROR_ORIGIN_NOT_ALLOWED] = { "origin_not_allowed", 403 },
  [GC_PROTOCOL_ERROR_UPGRADE_REQUIRED]   = { "upgrade_required",   426 },
  [GC_PROTOCOL_ERROR_SERVER_FULL]        = { "server_full",        503 },
  [GC_PROTOCOL_ERROR_METHOD_NOT_ALLOWED] = { "method_not_allowed", 405 },
  [GC_PROTOCOL_ERROR_UNAVAILABLE]        = { "unavailable",        503 },
};

const char *
gc_protocol_error_to_string (GcProtocolError code)
{
  if ((guint) code >= G_N_ELEMENTS (error_info))
    return NULL;

  return error_info[code].wire;
}

gboolean
gc_protocol_error_from_string (const char      *str,
                               GcProtocolError *out_code)
{
  if (str == NULL)
    return FALSE;

  for (guint i = 0; i < G_N_ELEMENTS (error_info); i++)
    {
      if (error_info[i].wire != NULL && strcmp (error_info[i].wire, str) == 0)
        {
          if (out_code != NULL)
            *out_code = (GcProtocolError) i;
          return TRUE;
        }
    }

  return FALSE;
}

guint
gc_protocol_error_http_status (GcProtocolError code)
{
  if ((guint) code >= G_N_ELEMENTS (error_info))
    return 400;

  return error_info[code].http_status;
}

static const char * const message_kinds[] = {
  [GC_MESSAGE_KIND_TEXT]  = "text",
  [GC_MESSAGE_KIND_EMOTE] = "emote",
};

static const char * const leave_reasons[] = {
  [GC_LEAVE_REASON_LEFT]    = "left",
  [GC_LEAVE_REASON_TIMEOUT] = "timeout",
  [GC_LEAVE_REASON_SLOW]    = "slow",
  [GC_LEAVE_REASON_FLOOD]   = "flood",
  [GC_LEAVE_REASON_ERROR]   = "error",
};

static int
lookup_string (const char * const *table,
               guint               n,
               const char         *str)
{
  if (str == NULL)
    return -1;

  for (guint i = 0; i < n; i++)
    {
      if (strcmp (table[i], str) == 0)
        return (int) i;
    }

  return -1;
}

const char *
gc_message_kind_to_string (GcMessageKind kind)
{
  g_return_val_if_fail ((guint) kind < G_N_ELEMENTS (message_kinds), NULL);

  return message_kinds[kind];
}

gboolean
gc_message_kind_from_string (const char    *str,
                             GcMessageKind *out_kind)
{
  int i = lookup_string (message_kinds, G_N_ELEMENTS (message_kinds), str);

  if (i < 0)
    return FALSE;
  if (out_kind != NULL)
    *out_kind = (GcMessageKind) i;
  return TRUE;
}

const char *
gc_leave_reason_to_string (GcLeaveReason reason)
{
  g_return_val_if_fail ((guint) reason < G_N_ELEMENTS (leave_reasons), NULL);

  return leave_reasons[reason];
}

gboolean
gc_leave_reason_from_string (const char    *str,
                             GcLeaveReason *out_reason)
{
  int i = lookup_string (leave_reasons, G_N_ELEMENTS (leave_reasons), str);

  if (i < 0)
    return FALSE;
  if (out_reason != NULL)
    *out_reason = (GcLeaveReason) i;
  return TRUE;
}

GcUser *
gc_user_new (const char *id,
             const char *name)
{
  GcUser *user;

  g_return_val_if_fail (id != NULL, NULL);
  g_return_val_if_fail (name != NULL, NULL);

  user = g_new (GcUser, 1);
  user->id = g_strdup (id);
  user->name = g_strdup (name);

  return user;
}

GcUser *
gc_user_copy (const GcUser *user)
{
  g_return_val_if_fail (user != NULL, NULL);

  return gc_user_new (user->id, user->name);
}

void
gc_user_free (GcUser *user)
{
  if (user == NULL)
    return;

  g_free (user->id);
  g_free (user->name);
  g_free (user);
}

/* The length of the UTF-8 sequence that starts at @p (@left bytes
 * there), 0 if it is not a well-formed one (Unicode's table 3-7: the
 * lead byte narrows the second byte's range against overlong forms,
 * surrogates and code points past U+10FFFF). */
static gsize
utf8_sequence_length (const guchar *p,
                      gsize         left)
{
  guchar lead = p[0], low = 0x80, high = 0xbf;
  gsize n;

  if (lead >= 0xc2 && lead <= 0xdf)
    n = 2;
  else if (lead >= 0xe0 && lead <= 0xef)
    {
      n = 3;
      if (lead == 0xe0)
        low = 0xa0;
      else if (lead == 0xed)
        high = 0x9f;
    }
  else if (lead >= 0xf0 && lead <= 0xf4)
    {
      n = 4;
      if (lead == 0xf0)
        low = 0x90;
      else if (lead == 0xf4)
        high = 0x8f;
    }
  else
    return 0;
  if (left < n || p[1] < low || p[1] > high)
    return 0;
  for (gsize i = 2; i < n; i++)
    if ((p[i] & 0xc0) != 0x80)
      return 0;
  return n;
}

gboolean
gc_protocol_utf8_validate (const char *text,
                           gsize       length)
{
  const guint64 ones = G_GUINT64_CONSTANT (0x0101010101010101);
  const guint64 highs = G_GUINT64_CONSTANT (0x8080808080808080);
  const guchar *p = (const guchar *) text, *end = p + length;

  g_return_val_if_fail (text != NULL || length == 0, FALSE);

  /* Every node of a cluster checks every message it receives from Redis:
   * g_utf8_validate_len() takes about 14 instructions a byte. */
  while (p < end)
    {
      gsize n;

      /* Eight bytes of 01-7F: none has its high bit set, and none is 0
       * (subtracting 1 from a 0 byte whose lower bytes are all 01-7F sets
       * its high bit). Two words at a time while they last. */
      if (end - p >= 16)
        {
          guint64 a, b;

          memcpy (&a, p, 8);
          memcpy (&b, p + 8, 8);
          if ((((a - ones) | a | (b - ones) | b) & highs) == 0)
            {
              p += 16;
              continue;
            }
        }
      if (end - p >= 8)
        {
          guint64 word;

          memcpy (&word, p, 8);
          if ((((word - ones) | word) & highs) == 0)
            {
              p += 8;
              continue;
            }
        }
      if (*p < 0x80)
        {
          if (*p == 0)
            return FALSE;
          p++;
          continue;
        }
      n = utf8_sequence_length (p, end - p);
      if (n == 0)
        return FALSE;
      p += n;
    }
  return TRUE;
}

void
gc_limits_init_default (GcLimits *limits)
{
  g_return_if_fail (limits != NULL);

  limits->max_text_bytes = GC_PROTOCOL_DEFAULT_MAX_TEXT_BYTES;
  limits->max_message_bytes = GC_PROTOCOL_DEFAULT_MAX_MESSAGE_BYTES;
  limits->rate_burst = GC_PROTOCOL_DEFAULT_RATE_BURST;
  limits->rate_per_s = GC_PROTOCOL_DEFAULT_RATE_PER_S;
}

/* The White_Space property of Unicode 15 (PropList.txt), which neither
 * g_unichar_isspace() (no U+000B, no U+0085) nor the Zs category covers. */
gboolean
gc_protocol_is_white_space (gunichar c)
{
  switch (c)
    {
    case 0x0009: case 0x000A: case 0x000B: case 0x000C: case 0x000D:
    case 0x0020:
    case 0x0085:
    case 0x00A0:
    case 0x1680:
    case 0x2000: case 0x2001: case 0x2002: case 0x2003: case 0x2004:
    case 0x2005: case 0x2006: case 0x2007: case 0x2008: case 0x2009:
    case 0x200A:
    case 0x2028: case 0x2029:
    case 0x202F:
    case 0x205F:
    case 0x3000:
      return TRUE;
    default:
      return FALSE;
    }
}

gboolean
gc_protocol_has_non_space (const char *text)
{
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      if (!gc_protocol_is_white_space (g_utf8_get_char (p)))
        return TRUE;
    }

  return FALSE;
}

/* Category Cc. */
static gboolean
is_control (gunichar c)
{
  return c < 0x20 || (c >= 0x7F && c <= 0x9F);
}

/* Script sets for the single-script rule (docs/protocol.md §3.4), after
 * Unicode TR39's "augmented script sets": Han is written beside kana
 * (Japanese), Bopomofo (Chinese) and Hangul (Korean), so those count as
 * scripts of their own that Han and its partners belong to. GLib knows
 * each character's Script, not its Script_Extensions; Common and
 * Inherited characters fit any script. */
#define SCRIPT_JAPANESE -1
#define SCRIPT_HAN_BOPOMOFO -2
#define SCRIPT_KOREAN -3
#define MAX_SCRIPT_SET 4

typedef struct {
  gboolean all;                 /* Common, Inherited, or nothing seen yet */
  guint    n;
  int      scripts[MAX_SCRIPT_SET];
} ScriptSet;

static void
script_set_of (gunichar   c,
               ScriptSet *set)
{
  GUnicodeScript script = g_unichar_get_script (c);

  set->all = FALSE;
  set->n = 0;
  switch (script)
    {
    case G_UNICODE_SCRIPT_COMMON:
    case G_UNICODE_SCRIPT_INHERITED:
      set->all = TRUE;
      break;
    case G_UNICODE_SCRIPT_HAN:
      set->scripts[set->n++] = script;
      set->scripts[set->n++] = SCRIPT_JAPANESE;
      set->scripts[set->n++] = SCRIPT_HAN_BOPOMOFO;
      set->scripts[set->n++] = SCRIPT_KOREAN;
      break;
    case G_UNICODE_SCRIPT_HIRAGANA:
    case G_UNICODE_SCRIPT_KATAKANA:
      set->scripts[set->n++] = script;
      set->scripts[set->n++] = SCRIPT_JAPANESE;
      break;
    case G_UNICODE_SCRIPT_BOPOMOFO:
      set->scripts[set->n++] = script;
      set->scripts[set->n++] = SCRIPT_HAN_BOPOMOFO;
      break;
    case G_UNICODE_SCRIPT_HANGUL:
      set->scripts[set->n++] = script;
      set->scripts[set->n++] = SCRIPT_KOREAN;
      break;
    default:
      set->scripts[set->n++] = script;
      break;
    }
}

/* @into ∩= @other */
static void
script_set_intersect (ScriptSet       *into,
                      const ScriptSet *other)
{
  guint kept = 0;

  if (other->all)
    return;
  if (into->all)
    {
      *into = *other;
      return;
    }

  for (guint i = 0; i < into->n; i++)
    {
      for (guint j = 0; j < other->n; j++)
        {
          if (into->scripts[i] == other->scripts[j])
            {
              into->scripts[kept++] = into->scripts[i];
              break;
            }
        }
    }
  into->n = kept;
}

char *
gc_protocol_canonical_room_code (const char  *code,
                                 GError     **error)
{
  gsize len;

  if (code == NULL || code[0] == '\0')
    {
      g_set_error_literal (error, GC_PROTOCOL_ERROR,
                           GC_PROTOCOL_ERROR_INVALID_ROOM_CODE,
                           "room_code is missing");
      return NULL;
    }

  len = strlen (code);
  if (len > GC_PROTOCOL_MAX_ROOM_CODE_LENGTH)
    {
      g_set_error (error, GC_PROTOCOL_ERROR,
                   GC_PROTOCOL_ERROR_INVALID_ROOM_CODE,
                   "room_code is longer than %d characters",
                   GC_PROTOCOL_MAX_ROOM_CODE_LENGTH);
      return NULL;
    }

  for (gsize i = 0; i < len; i++)
    {
      if (!g_ascii_isalnum (code[i]) && code[i] != '_' && code[i] != '-')
        {
          g_set_error_literal (error, GC_PROTOCOL_ERROR,
                               GC_PROTOCOL_ERROR_INVALID_ROOM_CODE,
                               "room_code may only hold A-Z, a-z, 0-9, _ and -");
          return NULL;
        }
    }

  return g_ascii_strdown (code, len);
}

char *
gc_protocol_check_user_name (const char            *name,
                             GcProtocolNameProblem *problem,
                             gunichar              *character)
{
  const char *start;
  const char *end;
  glong n_chars = 0;
  GcProtocolNameProblem found = GC_PROTOCOL_NAME_OK;
  gunichar c = 0;

  if (name == NULL)
    found = GC_PROTOCOL_NAME_MISSING;
  else if (!g_utf8_validate (name, -1, NULL))
    found = GC_PROTOCOL_NAME_NOT_UTF8;
  if (found != GC_PROTOCOL_NAME_OK)
    goto out;

  /* [start, end) is the name without White_Space at either end. */
  start = name;
  while (*start != '\0' && gc_protocol_is_white_space (g_utf8_get_char (start)))
    start = g_utf8_next_char (start);

  end = start;
  for (const char *p = start; *p != '\0'; p = g_utf8_next_char (p))
    {
      if (!gc_protocol_is_white_space (g_utf8_get_char (p)))
        end = g_utf8_next_char (p);
    }

  if (end == start)
    {
      found = GC_PROTOCOL_NAME_EMPTY;
      goto out;
    }

  /* Inner white space may be a control character too (TAB, LF, NEL). */
  for (const char *p = start; p < end; p = g_utf8_next_char (p))
    {
      c = g_utf8_get_char (p);
      if (is_control (c))
        {
          found = GC_PROTOCOL_NAME_CONTROL;
          goto out;
        }
      n_chars++;
    }

  /* Look-alikes (§3.4): one member must not pass for another. NFKC and
   * case folding keep invisible characters (U+200D ZERO WIDTH JOINER,
   * U+202E RIGHT-TO-LEFT OVERRIDE, …: category Cf) and letters of other
   * scripts that look the same ("vіctim" with a Cyrillic і). */
  {
    ScriptSet scripts = { .all = TRUE };

    for (const char *p = start; p < end; p = g_utf8_next_char (p))
      {
        ScriptSet of_c;

        c = g_utf8_get_char (p);
        if (g_unichar_type (c) == G_UNICODE_FORMAT)
          {
            found = GC_PROTOCOL_NAME_INVISIBLE;
            goto out;
          }

        script_set_of (c, &of_c);
        script_set_intersect (&scripts, &of_c);
        if (!scripts.all && scripts.n == 0)
          {
            found = GC_PROTOCOL_NAME_MIXED_SCRIPTS;
            goto out;
          }
      }
  }

  if (n_chars > GC_PROTOCOL_MAX_USER_NAME_LENGTH)
    found = GC_PROTOCOL_NAME_TOO_LONG;

out:
  if (problem != NULL)
    *problem = found;
  if (character != NULL)
    *character = found == GC_PROTOCOL_NAME_CONTROL || found == GC_PROTOCOL_NAME_INVISIBLE ||
                 found == GC_PROTOCOL_NAME_MIXED_SCRIPTS ? c : 0;
  if (found != GC_PROTOCOL_NAME_OK)
    return NULL;
  return g_strndup (start, end - start);
}

char *
gc_protocol_normalize_user_name (const char  *name,
                                 GError     **error)
{
  GcProtocolNameProblem problem;
  gunichar c;
  char *normalized = gc_protocol_check_user_name (name, &problem, &c);

  if (normalized != NULL)
    return normalized;

  /* These words go over the wire (a refusal's message, §3.6). */
  switch (problem)
    {
    case GC_PROTOCOL_NAME_MISSING:
      g_set_error_literal (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_INVALID_USER_NAME,
                           "the name is missing");
      break;
    case GC_PROTOCOL_NAME_NOT_UTF8:
      g_set_error_literal (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_INVALID_USER_NAME,
                           "the name is not valid UTF-8");
      break;
    case GC_PROTOCOL_NAME_EMPTY:
      g_set_error_literal (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_INVALID_USER_NAME,
                           "the name is empty");
      break;
    case GC_PROTOCOL_NAME_CONTROL:
      g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_INVALID_USER_NAME,
                   "the name may not hold control characters (U+%04X)", c);
      break;
    case GC_PROTOCOL_NAME_INVISIBLE:
      g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_INVALID_USER_NAME,
                   "the name may not hold invisible formatting characters (U+%04X)", c);
      break;
    case GC_PROTOCOL_NAME_MIXED_SCRIPTS:
      g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_INVALID_USER_NAME,
                   "the name mixes letters of different scripts (U+%04X)", c);
      break;
    case GC_PROTOCOL_NAME_TOO_LONG:
    case GC_PROTOCOL_NAME_OK:
    default:
      g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_INVALID_USER_NAME,
                   "the name is longer than %d characters",
                   GC_PROTOCOL_MAX_USER_NAME_LENGTH);
      break;
    }
  return NULL;
}

/* Full case folding (CaseFolding.txt, statuses C and F) of valid UTF-8.
 * g_utf8_casefold() folds whatever its table lacks with
 * g_unichar_tolower(), which is wrong only for Cherokee capitals: they
 * fold to themselves (it is the small letters that fold to capitals),
 * yet it lowers them, so "Ᏸ" and "ᏸ" would swap instead of meeting. */
static char *
casefold (const char *str)
{
  GString *out = g_string_sized_new (strlen (str) + 8);
  const char *run = str;
  const char *p;

  for (p = str; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c >= 0x13A0 && c <= 0x13F5)
        {
          g_autofree char *folded = g_utf8_casefold (run, p - run);

          g_string_append (out, folded);
          g_string_append_unichar (out, c);
          run = g_utf8_next_char (p);
        }
    }

  if (run == str)
    {
      g_string_free (out, TRUE);
      return g_utf8_casefold (str, -1);
    }
  else
    {
      g_autofree char *folded = g_utf8_casefold (run, p - run);

      g_string_append (out, folded);
      return g_string_free (out, FALSE);
    }
}

char *
gc_protocol_user_name_key (const char *normalized_name)
{
  g_autofree char *nfkc = NULL;
  g_autofree char *folded = NULL;

  g_return_val_if_fail (normalized_name != NULL, NULL);
  g_return_val_if_fail (g_utf8_validate (normalized_name, -1, NULL), NULL);

  /* Unicode's NFKC_Casefold idea: folding can undo NFKC (e.g. U+0345
   * folds to U+03B9), so normalise again afterwards. */
  nfkc = g_utf8_normalize (normalized_name, -1, G_NORMALIZE_NFKC);
  folded = casefold (nfkc);

  return g_utf8_normalize (folded, -1, G_NORMALIZE_NFKC);
}

char *
gc_protocol_suggest_name (const char *normalized_name,
                          guint       n)
{
  char suffix[16];
  int suffix_len;
  const char *base_end;
  glong max_base;

  g_return_val_if_fail (normalized_name != NULL, NULL);
  g_return_val_if_fail (g_utf8_validate (normalized_name, -1, NULL), NULL);

  suffix_len = g_snprintf (suffix, sizeof suffix, "%u", n);
  max_base = GC_PROTOCOL_MAX_USER_NAME_LENGTH - suffix_len;

  if (g_utf8_strlen (normalized_name, -1) > max_base)
    base_end = g_utf8_offset_to_pointer (normalized_name, max_base);
  else
    base_end = normalized_name + strlen (normalized_name);

  /* A cut can end the base in white space ("ab " of "ab cd…"); "ab 2"
   * would be valid but reads like two words, so drop it. */
  while (base_end > normalized_name)
    {
      const char *prev = g_utf8_prev_char (base_end);

      if (!gc_protocol_is_white_space (g_utf8_get_char (prev)))
        break;
      base_end = prev;
    }

  return g_strdup_printf ("%.*s%s", (int) (base_end - normalized_name),
                          normalized_name, suffix);
}

char *
gc_protocol_find_free_name (const char              *normalized_name,
                            GcProtocolNameTakenFunc  is_taken,
                            gpointer                 user_data)
{
  g_return_val_if_fail (normalized_name != NULL, NULL);
  g_return_val_if_fail (is_taken != NULL, NULL);

  /* A room holds far fewer than G_MAXUINT members, so this ends. */
  for (guint n = 2; ; n++)
    {
      g_autofree char *suggestion = gc_protocol_suggest_name (normalized_name, n);
      g_autofree char *key = gc_protocol_user_name_key (suggestion);

      if (!is_taken (key, user_data))
        return g_steal_pointer (&suggestion);
    }
}

gboolean
gc_protocol_parse_since (const char  *str,
                         guint64     *out_since,
                         GError     **error)
{
  guint64 value = 0;

  g_return_val_if_fail (out_since != NULL, FALSE);

  if (str == NULL || str[0] == '\0')
    {
      g_set_error_literal (error, GC_PROTOCOL_ERROR,
                           GC_PROTOCOL_ERROR_BAD_REQUEST,
                           "since is empty");
      return FALSE;
    }

  for (const char *p = str; *p != '\0'; p++)
    {
      guint digit;

      if (!g_ascii_isdigit (*p))
        {
          g_set_error_literal (error, GC_PROTOCOL_ERROR,
                               GC_PROTOCOL_ERROR_BAD_REQUEST,
                               "since must be a non-negative integer");
          return FALSE;
        }

      digit = *p - '0';
      if (value > (G_MAXUINT64 - digit) / 10)
        {
          g_set_error_literal (error, GC_PROTOCOL_ERROR,
                               GC_PROTOCOL_ERROR_BAD_REQUEST,
                               "since is too large");
          return FALSE;
        }
      value = value * 10 + digit;
    }

  *out_since = value;
  return TRUE;
}
