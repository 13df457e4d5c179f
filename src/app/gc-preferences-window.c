/* gc-preferences-window.c: notifications and colour scheme, stored in GSettings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "gc-application.h"
#include "gc-preferences-window.h"

struct _GcPreferencesWindow
{
  GtkWindow  parent_instance;

  GSettings *settings;
};

G_DEFINE_FINAL_TYPE (GcPreferencesWindow, gc_preferences_window, GTK_TYPE_WINDOW)

static void
gc_preferences_window_finalize (GObject *object)
{
  GcPreferencesWindow *self = GC_PREFERENCES_WINDOW (object);

  g_clear_object (&self->settings);

  G_OBJECT_CLASS (gc_preferences_window_parent_class)->finalize (object);
}

static void
gc_preferences_window_class_init (GcPreferencesWindowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = gc_preferences_window_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gochat/GoChat/gc-preferences-window.ui");
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
gc_preferences_window_init (GcPreferencesWindow *self)
{
  g_autoptr(GSimpleActionGroup) group = g_simple_action_group_new ();
  g_autoptr(GAction) notifications = NULL;
  g_autoptr(GAction) color_scheme = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));

  /* The radio buttons act on the settings themselves: each choice is an
   * action target, and the checked one follows the stored value. */
  self->settings = g_settings_new (GC_APPLICATION_ID);
  notifications = g_settings_create_action (self->settings, "notifications");
  color_scheme = g_settings_create_action (self->settings, "color-scheme");
  g_action_map_add_action (G_ACTION_MAP (group), notifications);
  g_action_map_add_action (G_ACTION_MAP (group), color_scheme);
  gtk_widget_insert_action_group (GTK_WIDGET (self), "prefs", G_ACTION_GROUP (group));
}

GcPreferencesWindow *
gc_preferences_window_new (GtkWindow *parent)
{
  g_return_val_if_fail (parent == NULL || GTK_IS_WINDOW (parent), NULL);

  return g_object_new (GC_TYPE_PREFERENCES_WINDOW,
                       "transient-for", parent,
                       "application", parent != NULL ? gtk_window_get_application (parent) : NULL,
                       NULL);
}
