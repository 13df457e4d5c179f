/* gc-compose-command.h: what a line typed in the compose box asks for
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

#include "gc-app-enums.h"

G_BEGIN_DECLS

/**
 * GcComposeCommandKind:
 * @GC_COMPOSE_COMMAND_EMPTY: nothing typed
 * @GC_COMPOSE_COMMAND_TEXT: a message (also a line starting with "//")
 * @GC_COMPOSE_COMMAND_EMOTE: "/me ACTION"
 * @GC_COMPOSE_COMMAND_NICK: "/nick NAME"
 * @GC_COMPOSE_COMMAND_JOIN: "/join ROOM"
 * @GC_COMPOSE_COMMAND_LEAVE: "/leave"
 * @GC_COMPOSE_COMMAND_HELP: "/help"
 */
typedef enum {
  GC_COMPOSE_COMMAND_EMPTY,
  GC_COMPOSE_COMMAND_TEXT,
  GC_COMPOSE_COMMAND_EMOTE,
  GC_COMPOSE_COMMAND_NICK,
  GC_COMPOSE_COMMAND_JOIN,
  GC_COMPOSE_COMMAND_LEAVE,
  GC_COMPOSE_COMMAND_HELP,
} GcComposeCommandKind;

#define GC_COMPOSE_ERROR (gc_compose_error_quark ())

/**
 * GcComposeError:
 * @GC_COMPOSE_ERROR_UNKNOWN_COMMAND: a "/word" that is no command
 * @GC_COMPOSE_ERROR_MISSING_ARGUMENT: a command without what it needs
 * @GC_COMPOSE_ERROR_INVALID_ARGUMENT: a command with an argument it cannot take
 */
typedef enum {
  GC_COMPOSE_ERROR_UNKNOWN_COMMAND,
  GC_COMPOSE_ERROR_MISSING_ARGUMENT,
  GC_COMPOSE_ERROR_INVALID_ARGUMENT,
} GcComposeError;

/**
 * GcComposeCommand:
 * @kind: what the line asks for
 * @argument: for TEXT and EMOTE the text to send, exactly as typed (after
 *   the command and one separating blank); for NICK the name as typed (the
 *   session checks it); for JOIN the canonical room code; else ""
 */
typedef struct {
  GcComposeCommandKind kind;
  char                *argument;
} GcComposeCommand;

GQuark            gc_compose_error_quark    (void);

GcComposeCommand *gc_compose_command_parse  (const char        *text,
                                             GError           **error);
void              gc_compose_command_free   (GcComposeCommand  *command);

gboolean          gc_compose_command_is_message (const GcComposeCommand *command);

char             *gc_compose_command_help_text (void);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcComposeCommand, gc_compose_command_free)

G_END_DECLS
