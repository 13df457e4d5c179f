/* gc-application.h: the GoChat application: command line, links, hosting, notifications, style
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

#include "gc-open-rooms.h"

#include "gc-local-host.h"

G_BEGIN_DECLS

#define GC_APPLICATION_ID "io.github.gochat.GoChat"

/* The `notifications` setting (values as in the GSettings schema). */
typedef enum {
  GC_NOTIFY_MENTIONS,  /* a message names you while the window is not focused */
  GC_NOTIFY_ALL,       /* every message from others while it is not focused */
  GC_NOTIFY_NEVER,
} GcNotifyMode;

/* The `color-scheme` setting. */
typedef enum {
  GC_COLOR_SCHEME_DEFAULT,  /* follow the system */
  GC_COLOR_SCHEME_LIGHT,
  GC_COLOR_SCHEME_DARK,
} GcColorScheme;

#define GC_TYPE_APPLICATION (gc_application_get_type ())
G_DECLARE_FINAL_TYPE (GcApplication, gc_application, GC, APPLICATION, AdwApplication)

/* Sets up gettext for the app's translations: the installed ones, or
 * those of the build tree named by $GOCHAT_LOCALEDIR (meson devenv and
 * the tests set it). Call before anything is translated. */
void           gc_application_init_i18n  (void);

/* @flags: usually G_APPLICATION_HANDLES_COMMAND_LINE |
 * G_APPLICATION_HANDLES_OPEN; tests add G_APPLICATION_NON_UNIQUE. */
GcApplication *gc_application_new        (GApplicationFlags  flags);

/* The host of rooms on this computer while it runs, else %NULL. */
GcLocalHost   *gc_application_get_host   (GcApplication     *self);

/* Starts hosting at @port (or the next free port) unless the app hosts
 * already, in which case that host is returned whatever its port
 * (transfer none). */
GcLocalHost   *gc_application_start_host (GcApplication     *self,
                                          guint16            port,
                                          GError           **error);

/* Closes every window (leaving their rooms cleanly) without asking. */
void           gc_application_quit_now   (GcApplication     *self);

/* The rooms open in all windows, remembered across starts (transfer none). */
GcOpenRooms  *gc_application_get_open_rooms (GcApplication *self);

/* Whether the app is quitting (its windows' rooms stay saved). */
gboolean      gc_application_get_quitting   (GcApplication *self);

typedef struct _GcWindow GcWindow;
gboolean      gc_application_restore_rooms  (GcApplication *self,
                                             GcWindow      *window);

G_END_DECLS
