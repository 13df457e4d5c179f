/* gc-compose-command.c: what a line typed in the compose box asks for
 *
 * Pure text in, command or GError out: no widgets, no session, so every
 * case is unit-tested (tests/test-compose-command.c).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>
#include <string.h>

#include "gc-protocol.h"
#include "gc-compose-command.h"

G_DEFINE_QUARK (gc-compose-error-quark, gc_compose_error)

/* Whether @text starts with the command @name followed by white space or
 * its end; *@rest then points after one separating blank, so that
 * "/me  two spaces" keeps its second space. */
static gboolean
match_command (const char  *text,
               const char  *name,
               const char **rest)
{
  gsize len = strlen (name);

  if (g_ascii_strncasecmp (text, name, len) != 0)
    return FALSE;
  if (text[len] == '\0')
    {
      *rest = text + len;
      return TRUE;
    }
  if (text[len] == ' ' || text[len] == '\t' || text[len] == '\n')
    {
      *rest = text + len + 1;
      return TRUE;
    }
  return FALSE;
}

static GcComposeCommand *
command_new (GcComposeCommandKind  kind,
             const char           *argument)
{
  GcComposeCommand *command = g_new0 (GcComposeCommand, 1);

  command->kind = kind;
  command->argument = g_strdup (argument);
  return command;
}

/* /join ROOM: any blanks around ROOM go; ROOM must be a room code. */
static GcComposeCommand *
parse_join (const char  *payload,
            GError     **error)
{
  g_autofree char *trimmed = g_strstrip (g_strdup (payload));
  g_autofree char *room = NULL;

  if (*trimmed == '\0')
    {
      g_set_error_literal (error, GC_COMPOSE_ERROR, GC_COMPOSE_ERROR_MISSING_ARGUMENT,
                           _("Say which room to join, e.g. /join blue-otter-42"));
      return NULL;
    }
  room = gc_protocol_canonical_room_code (trimmed, NULL);
  if (room == NULL)
    {
      g_set_error (error, GC_COMPOSE_ERROR, GC_COMPOSE_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a room code: a room code has 1 to %d letters A–Z, digits, _ and -."),
                   trimmed, GC_PROTOCOL_MAX_ROOM_CODE_LENGTH);
      return NULL;
    }
  return command_new (GC_COMPOSE_COMMAND_JOIN, room);
}

/**
 * gc_compose_command_parse:
 * @text: the compose box's text (UTF-8)
 * @error: where an unknown command or a bad argument is explained, in
 *   words fit to show in the room
 *
 * Commands are matched without regard to case. Text that does not start
 * with "/" is a message; "//" sends a message that starts with "/".
 *
 * Returns: (transfer full): the command, or %NULL with @error set
 */
GcComposeCommand *
gc_compose_command_parse (const char  *text,
                          GError     **error)
{
  const char *payload;

  g_return_val_if_fail (text != NULL, NULL);
  g_return_val_if_fail (error == NULL || *error == NULL, NULL);

  if (*text == '\0')
    return command_new (GC_COMPOSE_COMMAND_EMPTY, "");
  if (text[0] != '/')
    return command_new (GC_COMPOSE_COMMAND_TEXT, text);
  if (text[1] == '/')
    return command_new (GC_COMPOSE_COMMAND_TEXT, text + 1);
  if (match_command (text, "/me", &payload))
    return command_new (GC_COMPOSE_COMMAND_EMOTE, payload);
  if (match_command (text, "/nick", &payload))
    return command_new (GC_COMPOSE_COMMAND_NICK, payload);
  if (match_command (text, "/join", &payload))
    return parse_join (payload, error);
  if (match_command (text, "/leave", &payload))
    return command_new (GC_COMPOSE_COMMAND_LEAVE, "");
  if (match_command (text, "/help", &payload))
    return command_new (GC_COMPOSE_COMMAND_HELP, "");

  {
    g_autofree char *name = g_strndup (text, strcspn (text, " \t\n"));

    g_set_error (error, GC_COMPOSE_ERROR, GC_COMPOSE_ERROR_UNKNOWN_COMMAND,
                 _("Unknown command “%s”. Type /help for the list."), name);
  }
  return NULL;
}

void
gc_compose_command_free (GcComposeCommand *command)
{
  if (command == NULL)
    return;
  g_free (command->argument);
  g_free (command);
}

/**
 * gc_compose_command_is_message:
 * @command: a command
 *
 * Returns: whether @command sends its argument to the room as a message
 *   (TEXT or EMOTE): what counts against the server's text limit and
 *   what "typing" means
 */
gboolean
gc_compose_command_is_message (const GcComposeCommand *command)
{
  g_return_val_if_fail (command != NULL, FALSE);

  return command->kind == GC_COMPOSE_COMMAND_TEXT || command->kind == GC_COMPOSE_COMMAND_EMOTE;
}

/**
 * gc_compose_command_help_text:
 *
 * Returns: (transfer full): what /help shows, one line per command
 */
char *
gc_compose_command_help_text (void)
{
  return g_strjoin ("\n",
                    _("Commands:"),
                    _("/me ACTION — say what you are doing, e.g. /me waves"),
                    _("/nick NAME — change your name"),
                    _("/join ROOM — join another room on this server"),
                    _("/leave — leave this room"),
                    _("/help — show this help"),
                    _("Start a message with // to send a line that begins with /."),
                    _("Enter sends; Shift+Enter starts a new line; Tab completes a name."),
                    _("Ctrl+? shows every keyboard shortcut."),
                    NULL);
}
