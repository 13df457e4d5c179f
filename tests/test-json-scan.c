/* test-json-scan.c: the protocol module's fast JSON scanners (gc-json-scan.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-json-scan.h"
#include "gc-protocol.h"

static gboolean
check (const char  *json,
       GError     **error)
{
  gsize len = strlen (json);
  g_autofree char *copy = g_memdup2 (json, len);

  return gc_json_scan_check (copy, len, 4, "text", error);
}

/* docs/protocol.md §2.3 */
static void
test_check (void)
{
  static const char * const good[] = {
    "{}",
    " {\"a\":[1,2.5e-3,true,false,null],\"b\":{\"c\":\"\\u00e9\\n\\\"\"}} \n",
    "[[[[1]]]]",
    "{\"s\":\"\\ud83d\\ude00 \\/ \\b\\f\\r\\t\"}",
    "{\"brackets\":\"[[[[[[{{{{\"}",
    "\"just a string\"",
  };
  static const char * const bad[] = {
    "[[[[[1]]]]]",                     /* five levels, four allowed */
    "{\"a\":\"\\u0000\"}",             /* U+0000 */
    "{\"a\":\"\\ud83d\"}",             /* a lone high surrogate */
    "{\"a\":\"\\ud83dx\\ude00\"}",     /* not followed by its low one */
    "{\"a\":\"\\ude00\"}",             /* a lone low surrogate */
    "{\"a\":\"\\x41\"}",               /* not a JSON escape */
    "{\"a\":\"\\u12\"}",               /* short */
    "{\"a\":\"tab\there\"}",           /* a raw control character */
    "{'a':1}",                         /* not JSON quotes */
    "{\"a\":1} // comment",
    "{\"a\":1}{\"b\":2}",              /* two values */
    "{\"a\":1}[1]",
    "[1] 2",
    "{\"a\":1}}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (good); i++)
    {
      g_autoptr(GError) error = NULL;

      g_test_message ("good %u: %s", i, good[i]);
      g_assert_true (check (good[i], &error));
      g_assert_no_error (error);
    }

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;

      g_test_message ("bad %u: %s", i, bad[i]);
      g_assert_false (check (bad[i], &error));
      g_assert_error (error, GC_PROTOCOL_ERROR, GC_PROTOCOL_ERROR_BAD_REQUEST);
      g_assert_nonnull (strstr (error->message, "text"));
    }

  /* A raw NUL byte is named as such. */
  {
    static const char json[] = "{\"a\":\"x\0y\"}";
    g_autoptr(GError) error = NULL;

    g_assert_false (gc_json_scan_check (json, sizeof json - 1, 4, "text", &error));
    g_assert_nonnull (strstr (error->message, "byte 0x00"));
  }
}

static void
test_string (void)
{
  const struct {
    const char *json;
    const char *decoded;   /* NULL: refused */
  } cases[] = {
    { "\"plain\"", "plain" },
    { "\"\"", "" },
    { "\"a\\\"b\\\\c\\/d\"", "a\"b\\c/d" },
    { "\"\\b\\f\\n\\r\\t\"", "\b\f\n\r\t" },
    { "\"\\u00e9\\u20AC\"", "é€" },
    { "\"\\ud83d\\ude00\"", "😀" },
    { "\"é raw\"", "é raw" },
    { "\"\\u0000\"", NULL },
    { "\"\\ud83d\"", NULL },
    { "\"\\ude00\"", NULL },
    { "\"\\q\"", NULL },
    { "\"a\nb\"", NULL },
    { "\"never ends", NULL },
    { "\"ends in a backslash\\", NULL },
    { "not a string", NULL },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize len = strlen (cases[i].json);
      g_autoptr(GString) out = g_string_new (NULL);
      gsize pos = 0;
      gboolean ok = gc_json_scan_string (cases[i].json, len, &pos, out);

      g_test_message ("case %u: %s", i, cases[i].json);
      if (cases[i].decoded == NULL)
        {
          g_assert_false (ok);
          continue;
        }
      g_assert_true (ok);
      g_assert_cmpuint (pos, ==, len);
      g_assert_cmpstr (out->str, ==, cases[i].decoded);

      /* Skipping agrees on where the string ends. */
      pos = 0;
      g_assert_true (gc_json_scan_skip_string (cases[i].json, len, &pos));
      g_assert_cmpuint (pos, ==, len);
    }
}

static void
test_skip_value (void)
{
  const struct {
    const char *json;
    gssize      end;    /* -1: does not end */
  } cases[] = {
    { "123,", 3 },
    { "true}", 4 },
    { "\"a,\\\"]\" ,", 7 },
    { "{\"a\":[1,{\"b\":\"}\"}]} ,", 19 },
    { "[[],[]]]", 7 },
    { "{\"a\":1", -1 },
    { "\"open", -1 },
    { ",", -1 },
    { "", -1 },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      gsize pos = 0;
      gboolean ok = gc_json_scan_skip_value (cases[i].json, strlen (cases[i].json), &pos);

      g_test_message ("case %u: %s", i, cases[i].json);
      g_assert_cmpint (ok, ==, cases[i].end >= 0);
      if (ok)
        g_assert_cmpuint (pos, ==, (gsize) cases[i].end);
    }

  g_assert_true (gc_json_scan_literal ("true", 4, 0, "true"));
  g_assert_true (gc_json_scan_literal ("null ", 5, 0, "null"));
  g_assert_true (gc_json_scan_literal ("[false]", 7, 1, "false"));
  g_assert_false (gc_json_scan_literal ("truex", 5, 0, "true"));
  g_assert_false (gc_json_scan_literal ("tru", 3, 0, "true"));
  g_assert_cmpuint (gc_json_scan_space (" \t\r\nx", 5, 0), ==, 4);
  g_assert_cmpuint (gc_json_scan_space ("  ", 2, 0), ==, 2);
}

/* Walks a request the way gc_request_parse()'s fast path does, and an
 * event the way the bench does. */
static void
test_object_scan (void)
{
  static const char request[] =
    " { \"type\" : \"message\", \"text\":\"h\\u00e9\", \"n\":null, \"x\":{\"y\":[1]},"
    " \"active\":false ,\"esc\\\"key\":true } ";
  GcJsonObjectScan scan;
  const char *key;
  gsize key_len;
  g_autoptr(GString) text = g_string_new (NULL);
  const char *raw = NULL;
  gsize raw_len = 0;
  guint n = 0;

  g_assert_true (gc_json_object_scan_begin (&scan, request, sizeof request - 1));
  while (gc_json_object_scan_next (&scan, &key, &key_len))
    {
      g_autofree char *name = g_strndup (key, key_len);

      switch (n++)
        {
        case 0:
          g_assert_cmpstr (name, ==, "type");
          g_assert_cmpint (gc_json_object_scan_peek (&scan), ==, '"');
          g_assert_true (gc_json_object_scan_raw_string (&scan, &raw, &raw_len));
          g_assert_cmpmem (raw, raw_len, "message", 7);
          break;
        case 1:
          g_assert_cmpstr (name, ==, "text");
          g_assert_true (gc_json_object_scan_string (&scan, text));
          g_assert_cmpstr (text->str, ==, "hé");
          break;
        case 2:
          g_assert_cmpstr (name, ==, "n");
          g_assert_false (gc_json_object_scan_literal (&scan, "true"));
          g_assert_true (gc_json_object_scan_literal (&scan, "null"));
          break;
        case 3:
          /* Not read: the next call skips it. */
          g_assert_cmpstr (name, ==, "x");
          g_assert_cmpint (gc_json_object_scan_peek (&scan), ==, '{');
          g_assert_false (gc_json_object_scan_string (&scan, NULL));
          break;
        case 4:
          g_assert_cmpstr (name, ==, "active");
          g_assert_true (gc_json_object_scan_literal (&scan, "false"));
          break;
        case 5:
          g_assert_cmpstr (name, ==, "esc\\\"key");
          break;
        default:
          g_assert_not_reached ();
        }
    }
  g_assert_false (scan.failed);
  g_assert_cmpuint (n, ==, 6);
  g_assert_true (gc_json_object_scan_end (&scan));

  /* The empty object; trailing text. */
  g_assert_true (gc_json_object_scan_begin (&scan, "{ }", 3));
  g_assert_false (gc_json_object_scan_next (&scan, &key, &key_len));
  g_assert_false (scan.failed);
  g_assert_true (gc_json_object_scan_end (&scan));

  g_assert_true (gc_json_object_scan_begin (&scan, "{}[]", 4));
  g_assert_false (gc_json_object_scan_next (&scan, &key, &key_len));
  g_assert_false (gc_json_object_scan_end (&scan));

  /* Malformed, as far as the scan sees. */
  {
    static const char * const bad[] = {
      "[1]", "", "{", "{\"a\"}", "{\"a\":}", "{\"a\":1,}", "{\"a\":1 \"b\":2}", "{a:1}",
      "{\"a\":\"open}", "{\"a\":1,", "{\"a\":1, ",
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_test_message ("bad %u: %s", i, bad[i]);
        if (gc_json_object_scan_begin (&scan, bad[i], strlen (bad[i])))
          while (gc_json_object_scan_next (&scan, &key, &key_len))
            ;
        g_assert_true (scan.failed);
        g_assert_false (gc_json_object_scan_end (&scan));
      }
  }
}

int
main (int   argc,
      char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/json-scan/check", test_check);
  g_test_add_func ("/json-scan/string", test_string);
  g_test_add_func ("/json-scan/skip-value", test_skip_value);
  g_test_add_func ("/json-scan/object", test_object_scan);

  return g_test_run ();
}
