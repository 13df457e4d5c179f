/* gc-application.h: the GoChat application: command line, windows, app actions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define GC_APPLICATION_ID "io.github.gochat.GoChat"

#define GC_TYPE_APPLICATION (gc_application_get_type ())
G_DECLARE_FINAL_TYPE (GcApplication, gc_application, GC, APPLICATION, GtkApplication)

/* @flags: usually G_APPLICATION_HANDLES_COMMAND_LINE; tests add
 * G_APPLICATION_NON_UNIQUE. */
GcApplication *gc_application_new (GApplicationFlags flags);

G_END_DECLS
