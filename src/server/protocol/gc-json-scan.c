/* gc-json-scan.c: fast JSON scanners that build no tree
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-json-scan.h"
#include "gc-protocol.h"

int
gc_json_scan_u_escape (const char *json,
                       gsize       len,
                       gsize       i)
{
  int unit = 0;

  if (i + 6 > len || json[i] != '\\' || json[i + 1] != 'u')
    return -1;

  for (gsize j = i + 2; j < i + 6; j++)
    {
      if (!g_ascii_isxdigit (json[j]))
        return -1;
      unit = unit * 16 + g_ascii_xdigit_value (json[j]);
    }

  return unit;
}

gboolean
gc_json_scan_check (const char  *json,
                    gsize        len,
                    guint        max_depth,
                    const char  *what,
                    GError     **error)
{
  guint depth = 0;
  gboolean closed = FALSE;
  gsize i = 0;

  while (i < len)
    {
      guchar c = json[i++];

      /* json-glib reads the first value and drops the rest unseen. */
      if (closed && c != ' ' && c != '\t' && c != '\n' && c != '\r')
        {
          g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                       "%s is not valid JSON: more than one value", what);
          return FALSE;
        }

      if (c == '"')
        {
          while (i < len && json[i] != '"')
            {
              /* JSON forbids raw control characters in strings, though
               * json-glib's scanner takes them (and calls a NUL "not
               * UTF-8"). */
              if ((guchar) json[i] < 0x20)
                {
                  g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                               "%s is not valid JSON: a raw control character (byte 0x%02x) "
                               "in a string must be escaped", what, (guchar) json[i]);
                  return FALSE;
                }
              if (json[i] != '\\')
                {
                  i++;
                  continue;
                }

              if (i + 1 >= len)
                return TRUE;

              switch (json[i + 1])
                {
                case '"': case '\\': case '/':
                case 'b': case 'f': case 'n': case 'r': case 't':
                  i += 2;
                  break;

                case 'u':
                  {
                    int unit = gc_json_scan_u_escape (json, len, i);

                    if (unit == 0)
                      {
                        g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                                     "%s holds U+0000 (\\u0000), which is not supported", what);
                        return FALSE;
                      }
                    i += 6;
                    /* A high surrogate must pair with a low one; json-glib
                     * writes a lone one as invalid UTF-8. */
                    if (unit >= 0xD800 && unit <= 0xDBFF)
                      {
                        int low = gc_json_scan_u_escape (json, len, i);

                        if (low < 0xDC00 || low > 0xDFFF)
                          unit = -1;
                        i += 6;
                      }
                    else if (unit >= 0xDC00 && unit <= 0xDFFF)
                      unit = -1;

                    if (unit < 0)
                      {
                        g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                                     "%s is not valid JSON: bad \\u escape", what);
                        return FALSE;
                      }
                  }
                  break;

                default:
                  g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                               "%s is not valid JSON: bad escape in a string", what);
                  return FALSE;
                }
            }
          i++;
          continue;
        }

      switch (c)
        {
        case '{': case '[':
          if (++depth > max_depth)
            {
              g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                           "%s nests deeper than %u levels", what, max_depth);
              return FALSE;
            }
          break;

        case '}': case ']':
          if (depth > 0 && --depth == 0)
            closed = TRUE;
          break;

        case ' ': case '\t': case '\n': case '\r':
        case ',': case ':': case '-': case '+': case '.':
          break;

        default:
          if (!g_ascii_isalnum (c))
            {
              g_set_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST,
                           "%s is not valid JSON: unexpected byte 0x%02x", what, c);
              return FALSE;
            }
          break;
        }
    }

  return TRUE;
}

gboolean
gc_json_scan_string (const char *json,
                     gsize       len,
                     gsize      *i,
                     GString    *out)
{
  gsize pos = *i + 1;

  if (*i >= len || json[*i] != '"')
    return FALSE;

  while (pos < len)
    {
      guchar c = json[pos];
      gunichar unit;

      if (c == '"')
        {
          *i = pos + 1;
          return TRUE;
        }
      if (c < 0x20)
        return FALSE;
      if (c != '\\')
        {
          gsize run = pos;

          while (pos < len && json[pos] != '"' && json[pos] != '\\' && (guchar) json[pos] >= 0x20)
            pos++;
          if (out != NULL)
            g_string_append_len (out, json + run, pos - run);
          continue;
        }

      if (pos + 1 >= len)
        return FALSE;
      switch (json[pos + 1])
        {
        case '"': case '\\': case '/':
          unit = json[pos + 1];
          pos += 2;
          break;
        case 'b': unit = '\b'; pos += 2; break;
        case 'f': unit = '\f'; pos += 2; break;
        case 'n': unit = '\n'; pos += 2; break;
        case 'r': unit = '\r'; pos += 2; break;
        case 't': unit = '\t'; pos += 2; break;
        case 'u':
          {
            int high = gc_json_scan_u_escape (json, len, pos);

            if (high <= 0 || (high >= 0xDC00 && high <= 0xDFFF))
              return FALSE;
            pos += 6;
            if (high >= 0xD800 && high <= 0xDBFF)
              {
                int low = gc_json_scan_u_escape (json, len, pos);

                if (low < 0xDC00 || low > 0xDFFF)
                  return FALSE;
                pos += 6;
                unit = 0x10000 + (((gunichar) high - 0xD800) << 10) + ((gunichar) low - 0xDC00);
              }
            else
              unit = (gunichar) high;
          }
          break;
        default:
          return FALSE;
        }
      if (out != NULL)
        g_string_append_unichar (out, unit);
    }

  return FALSE;
}

