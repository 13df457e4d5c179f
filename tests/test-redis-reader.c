/* test-redis-reader.c: the subscriptions link's own RESP reader
 * (redis_reply_parse(), gc-redis-subscriptions.c): every reply the link
 * gets, whole, whatever the point where a read cut the stream, and a
 * refusal of what the link never gets
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-redis-client-private.h"

/* CLIENT SETNAME's answer, a subscription, a message whose payload holds
 * CRLF and NUL, an unsubscription, a null and an error. */
static const char stream[] =
  "+OK\r\n"
  "*3\r\n$9\r\nsubscribe\r\n$9\r\ngc:{r}:ch\r\n:1\r\n"
  "*3\r\n$7\r\nmessage\r\n$9\r\ngc:{r}:ch\r\n$10\r\nab\r\ncd\0xyz\r\n"
  "*3\r\n$7\r\nmessage\r\n$9\r\ngc:{r}:ch\r\n$0\r\n\r\n"
  "*3\r\n$11\r\nunsubscribe\r\n$9\r\ngc:{r}:ch\r\n:0\r\n"
  "$-1\r\n"
  "-ERR wrong\r\n";

/* Each reply as TYPE:STR|STR|STR, what the reader gives. */
static char *
describe (const RedisReply *reply)
{
  GString *out = g_string_new (NULL);
  gsize n = reply->type == '*' ? reply->elements : 1;

  g_string_append_c (out, reply->type != '\0' ? reply->type : '0');
  g_string_append_c (out, ':');
  for (gsize i = 0; i < n; i++)
    {
      const RedisElement *e = &reply->element[i];

      if (i > 0)
        g_string_append_c (out, '|');
      if (e->str != NULL)
        {
          /* Terminated where its CRLF was. */
          g_assert_cmpint (e->str[e->len], ==, '\0');
          for (gsize k = 0; k < e->len; k++)
            g_string_append_printf (out, e->str[k] >= ' ' ? "%c" : "\\%02x", (guchar) e->str[k]);
        }
    }
  return g_string_free (out, FALSE);
}

static const char *expected[] = {
  "+:OK",
  "*:subscribe|gc:{r}:ch|1",
  "*:message|gc:{r}:ch|ab\\0d\\0acd\\00xyz",
  "*:message|gc:{r}:ch|",
  "*:unsubscribe|gc:{r}:ch|0",
  "0:",
  "-:ERR wrong",
};

/* The stream as it arrives in two reads, cut at every byte. */
static void
test_every_cut (void)
{
  gsize length = sizeof stream - 1;

  for (gsize cut = 0; cut <= length; cut++)
    {
      g_autofree char *buffer = g_memdup2 (stream, length);
      gsize done = 0, seen = 0;
      gssize n;
      RedisReply reply;

      /* The first read: the whole replies in it, then nothing. */
      while ((n = redis_reply_parse (buffer + done, buffer + cut, &reply)) > 0)
        {
          g_autofree char *text = describe (&reply);

          g_assert_cmpstr (text, ==, expected[seen++]);
          done += n;
        }
      g_assert_cmpint (n, ==, 0);
      /* The second: the rest. */
      while ((n = redis_reply_parse (buffer + done, buffer + length, &reply)) > 0)
        {
          g_autofree char *text = describe (&reply);

          g_assert_cmpstr (text, ==, expected[seen++]);
          done += n;
        }
      g_assert_cmpint (n, ==, 0);
      g_assert_cmpuint (done, ==, length);
      g_assert_cmpuint (seen, ==, G_N_ELEMENTS (expected));
    }
}

/* What the link never gets is refused, not guessed at. */
static void
test_refused (void)
{
  static const char *bad[] = {
    "*1\r\n*1\r\n:1\r\n",           /* nested */
    "*-1\r\n",                      /* a null array */
    "$2\r\nabc\r\n",                /* longer than its length */
    "$3\r\nabcXY",                  /* no CRLF after it */
    "$x\r\n",
    "$-2\r\n",
    "$99999999999\r\n",
    "?what\r\n",
    "+OK\rX",
    "*3\r\n$1\r\na\r\n?\r\n",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autofree char *buffer = g_strdup (bad[i]);
      RedisReply reply;

      g_assert_cmpint (redis_reply_parse (buffer, buffer + strlen (buffer), &reply), ==, -1);
    }
}

int
main (int    argc,
      char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/redis/reader/every-cut", test_every_cut);
  g_test_add_func ("/redis/reader/refused", test_refused);
  return g_test_run ();
}
