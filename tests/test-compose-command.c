/* test-compose-command.c: the compose box's command parser (src/app/gc-compose-command.c)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <locale.h>
#include <string.h>

#include "gc-compose-command.h"

static void
assert_parses (const char           *text,
               GcComposeCommandKind  kind,
               const char           *argument)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GcComposeCommand) command = gc_compose_command_parse (text, &error);

  g_assert_no_error (error);
  g_assert_nonnull (command);
  g_assert_cmpint (command->kind, ==, kind);
  g_assert_cmpstr (command->argument, ==, argument);
}

static void
assert_refused (const char     *text,
                GcComposeError  code,
                const char     *message_part)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GcComposeCommand) command = gc_compose_command_parse (text, &error);

  g_assert_null (command);
  g_assert_error (error, GC_COMPOSE_ERROR, (int) code);
  g_assert_nonnull (strstr (error->message, message_part));
}

static void
test_text (void)
{
  assert_parses ("", GC_COMPOSE_COMMAND_EMPTY, "");
  assert_parses ("hello", GC_COMPOSE_COMMAND_TEXT, "hello");
  assert_parses (" /me is not a command here", GC_COMPOSE_COMMAND_TEXT, " /me is not a command here");
  assert_parses ("two\nlines", GC_COMPOSE_COMMAND_TEXT, "two\nlines");
  /* "//" escapes a leading slash: one goes. */
  assert_parses ("//me", GC_COMPOSE_COMMAND_TEXT, "/me");
  assert_parses ("//", GC_COMPOSE_COMMAND_TEXT, "/");
  assert_parses ("///x", GC_COMPOSE_COMMAND_TEXT, "//x");
}

static void
test_commands (void)
{
  /* One separating blank goes; the rest is kept as typed. */
  assert_parses ("/me waves", GC_COMPOSE_COMMAND_EMOTE, "waves");
  assert_parses ("/me  waves twice", GC_COMPOSE_COMMAND_EMOTE, " waves twice");
  assert_parses ("/me\twaves", GC_COMPOSE_COMMAND_EMOTE, "waves");
  assert_parses ("/me\nwaves", GC_COMPOSE_COMMAND_EMOTE, "waves");
  assert_parses ("/me", GC_COMPOSE_COMMAND_EMOTE, "");
  /* Case does not matter. */
  assert_parses ("/ME waves", GC_COMPOSE_COMMAND_EMOTE, "waves");
  assert_parses ("/Nick alice", GC_COMPOSE_COMMAND_NICK, "alice");
  /* The session checks names: the parser passes them on as typed. */
  assert_parses ("/nick", GC_COMPOSE_COMMAND_NICK, "");
  assert_parses ("/nick  al ice ", GC_COMPOSE_COMMAND_NICK, " al ice ");
  assert_parses ("/leave", GC_COMPOSE_COMMAND_LEAVE, "");
  assert_parses ("/LEAVE now", GC_COMPOSE_COMMAND_LEAVE, "");
  assert_parses ("/help", GC_COMPOSE_COMMAND_HELP, "");
  assert_parses ("/help me", GC_COMPOSE_COMMAND_HELP, "");
}

static void
test_join (void)
{
  /* The room code comes back canonical, blanks around it trimmed. */
  assert_parses ("/join Two", GC_COMPOSE_COMMAND_JOIN, "two");
  assert_parses ("/join   blue-otter-42  ", GC_COMPOSE_COMMAND_JOIN, "blue-otter-42");
  assert_parses ("/JOIN a_b", GC_COMPOSE_COMMAND_JOIN, "a_b");

  assert_refused ("/join", GC_COMPOSE_ERROR_MISSING_ARGUMENT, "/join blue-otter-42");
  assert_refused ("/join   \t", GC_COMPOSE_ERROR_MISSING_ARGUMENT, "/join blue-otter-42");
  assert_refused ("/join no such room!", GC_COMPOSE_ERROR_INVALID_ARGUMENT,
                  "“no such room!” is not a room code");
}

static void
test_unknown (void)
{
  /* A command's name must end at a blank or the end. */
  assert_refused ("/mee too", GC_COMPOSE_ERROR_UNKNOWN_COMMAND, "Unknown command “/mee”");
  assert_refused ("/joinx", GC_COMPOSE_ERROR_UNKNOWN_COMMAND, "Unknown command “/joinx”");
  assert_refused ("/", GC_COMPOSE_ERROR_UNKNOWN_COMMAND, "Unknown command “/”");
  assert_refused ("/shrug\nsecond line", GC_COMPOSE_ERROR_UNKNOWN_COMMAND, "Unknown command “/shrug”.");
}

static void
test_is_message (void)
{
  static const struct { const char *text; gboolean message; } cases[] = {
    { "", FALSE }, { "hi", TRUE }, { "//x", TRUE }, { "/me x", TRUE },
    { "/nick x", FALSE }, { "/join x", FALSE }, { "/leave", FALSE }, { "/help", FALSE },
  };

  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(GcComposeCommand) command = gc_compose_command_parse (cases[i].text, NULL);

      g_assert_nonnull (command);
      g_assert_cmpint (gc_compose_command_is_message (command), ==, cases[i].message);
    }
}

static void
test_help (void)
{
  g_autofree char *help = gc_compose_command_help_text ();

  /* Every command is explained. */
  for (const char *const *name = (const char *const[]) { "/me", "/nick", "/join", "/leave", "/help", "//", NULL };
       *name != NULL; name++)
    g_assert_nonnull (strstr (help, *name));
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/compose-command/text", test_text);
  g_test_add_func ("/compose-command/commands", test_commands);
  g_test_add_func ("/compose-command/join", test_join);
  g_test_add_func ("/compose-command/unknown", test_unknown);
  g_test_add_func ("/compose-command/is-message", test_is_message);
  g_test_add_func ("/compose-command/help", test_help);

  return g_test_run ();
}
