/* gc-text-markup.c: user text as safe Pango markup, with http(s) links; mentions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "gc-protocol.h"
#include "gc-text-markup.h"

/* Appends @len bytes of @text, escaped, with control characters made
 * visible: GMarkup rejects them even as character references. */
static void
append_escaped (GString    *out,
                const char *text,
                gsize       len)
{
  const char *end = text + len;
  const char *p = text;

  while (p < end)
    {
      gunichar c = g_utf8_get_char (p);
      const char *next = g_utf8_next_char (p);

      switch (c)
        {
        case '&':
          g_string_append (out, "&amp;");
          break;
        case '<':
          g_string_append (out, "&lt;");
          break;
        case '>':
          g_string_append (out, "&gt;");
          break;
        case '"':
          g_string_append (out, "&quot;");
          break;
        case '\'':
          g_string_append (out, "&#39;");
          break;
        case '\t':
        case '\n':
          g_string_append_c (out, (char) c);
          break;
        case '\r':
          /* CR LF is a line break; a lone CR is shown. */
          if (next < end && *next == '\n')
            break;
          g_string_append_unichar (out, 0x240D);
          break;
        default:
          if (c < 0x20)
            g_string_append_unichar (out, 0x2400 + c);
          else if (c == 0x7F)
            g_string_append_unichar (out, 0x2421);
          else if (c >= 0x80 && c < 0xA0)
            g_string_append_unichar (out, 0xFFFD);
          else
            g_string_append_len (out, p, next - p);
        }
      p = next;
    }
}

/* Punctuation that usually ends a sentence rather than a link. */
static gsize
trim_link (const char *link,
           gsize       len)
{
  while (len > 0)
    {
      char last = link[len - 1];

      if (strchr (".,;:!?'\"", last) != NULL)
        len--;
      else if (last == ')' || last == ']')
        {
          char open = last == ')' ? '(' : '[';
          int depth = 0;

          for (gsize i = 0; i < len; i++)
            depth += link[i] == open ? 1 : link[i] == last ? -1 : 0;
          if (depth >= 0)
            break;
          len--;
        }
      else
        break;
    }
  return len;
}

char *
gc_text_to_markup (const char *text)
{
  static gsize link_regex_once = 0;
  GRegex *link_regex;
  g_autoptr(GMatchInfo) match = NULL;
  g_autoptr(GString) out = NULL;
  gsize text_len, done = 0;

  g_return_val_if_fail (text != NULL, NULL);

  if (g_once_init_enter (&link_regex_once))
    {
      GRegex *regex = g_regex_new ("\\bhttps?://[^\\s<>\"]+",
                                   G_REGEX_CASELESS | G_REGEX_OPTIMIZE, 0, NULL);
      g_once_init_leave (&link_regex_once, (gsize) regex);
    }
  link_regex = (GRegex *) link_regex_once;

  text_len = strlen (text);
  out = g_string_sized_new (text_len + 16);

  g_regex_match (link_regex, text, 0, &match);
  while (g_match_info_matches (match))
    {
      int start, end;
      gsize link_len;

      g_match_info_fetch_pos (match, 0, &start, &end);
      link_len = trim_link (text + start, (gsize) (end - start));

      append_escaped (out, text + done, (gsize) start - done);
      g_string_append (out, "<a href=\"");
      append_escaped (out, text + start, link_len);
      g_string_append (out, "\">");
      append_escaped (out, text + start, link_len);
      g_string_append (out, "</a>");
      done = (gsize) start + link_len;

      g_match_info_next (match, NULL);
    }
  append_escaped (out, text + done, text_len - done);

  return g_string_free (g_steal_pointer (&out), FALSE);
}

/* Characters that continue a word: a name inside a longer word ("ann" in
 * "annual") is no mention. */
static gboolean
is_word_char (gunichar c)
{
  return g_unichar_isalnum (c) || c == '_' || g_unichar_ismark (c);
}

gboolean
gc_text_mentions (const char *text,
                  const char *name)
{
  g_autofree char *text_key = NULL;
  g_autofree char *name_key = NULL;
  gsize name_len;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (name != NULL, FALSE);

  name_key = gc_protocol_user_name_key (name);
  name_len = strlen (name_key);
  if (name_len == 0)
    return FALSE;
  text_key = gc_protocol_user_name_key (text);

  for (const char *p = strstr (text_key, name_key); p != NULL; p = strstr (p + 1, name_key))
    {
      const char *after = p + name_len;
      gboolean starts_word = p == text_key ||
                             !is_word_char (g_utf8_get_char (g_utf8_prev_char (p)));
      gboolean ends_word = *after == '\0' || !is_word_char (g_utf8_get_char (after));

      if (starts_word && ends_word)
        return TRUE;
    }
  return FALSE;
}
