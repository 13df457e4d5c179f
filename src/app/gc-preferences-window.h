/* gc-preferences-window.h: notifications and colour scheme, stored in GSettings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define GC_TYPE_PREFERENCES_WINDOW (gc_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (GcPreferencesWindow, gc_preferences_window, GC, PREFERENCES_WINDOW, AdwPreferencesWindow)

/* @parent: (nullable): the window it belongs to (and its application). */
GcPreferencesWindow *gc_preferences_window_new (GtkWindow *parent);

G_END_DECLS
