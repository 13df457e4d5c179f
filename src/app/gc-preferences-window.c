/* gc-preferences-window.c: notifications and colour scheme, stored in GSettings
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "gc-application.h"
#include "gc-preferences-window.h"

struct _GcPreferencesWindow
{
  AdwPreferencesWindow  parent_instance;

  GSettings            *settings;

  /* The radio buttons, each the prefix of a row that carries its label. */
  GtkCheckButton       *notify_mentions;
  GtkCheckButton       *notify_all;
  GtkCheckButton       *notify_never;
  GtkCheckButton       *scheme_default;
  GtkCheckButton       *scheme_light;
  GtkCheckButton       *scheme_dark;
  AdwPreferencesGroup  *notifications_group;
  AdwPreferencesGroup  *style_group;
};

G_DEFINE_FINAL_TYPE (GcPreferencesWindow, gc_preferences_window, ADW_TYPE_PREFERENCES_WINDOW)

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
  gtk_widget_class_bind_template_child (widget_class, GcPreferencesWindow, notify_mentions);
  gtk_widget_class_bind_template_child (widget_class, GcPreferencesWindow, notify_all);
  gtk_widget_class_bind_template_child (widget_class, GcPreferencesWindow, notify_never);
  gtk_widget_class_bind_template_child (widget_class, GcPreferencesWindow, scheme_default);
  gtk_widget_class_bind_template_child (widget_class, GcPreferencesWindow, scheme_light);
  gtk_widget_class_bind_template_child (widget_class, GcPreferencesWindow, scheme_dark);
  gtk_widget_class_bind_template_child (widget_class, GcPreferencesWindow, notifications_group);
  gtk_widget_class_bind_template_child (widget_class, GcPreferencesWindow, style_group);
  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

/* A label-less radio button in a row's prefix is read by its row's title:
 * the accessible name is that title without its mnemonic underscores. */
static void
name_after_row (GtkCheckButton *button)
{
  GtkWidget *row = gtk_widget_get_ancestor (GTK_WIDGET (button), ADW_TYPE_PREFERENCES_ROW);
  const char *title = adw_preferences_row_get_title (ADW_PREFERENCES_ROW (row));
  g_autoptr(GString) name = g_string_new (NULL);

  for (const char *p = title; *p != '\0'; p++)
    {
      if (*p == '_' && p[1] == '_')
        p++;
      else if (*p == '_')
        continue;
      g_string_append_c (name, *p);
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, name->str,
                                  -1);
}

static GtkWidget *
find_list_box (GtkWidget *root)
{
  if (GTK_IS_LIST_BOX (root))
    return root;
  for (GtkWidget *child = gtk_widget_get_first_child (root); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_list_box (child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

/* A group's rows sit in a list that libadwaita 1.2 leaves unnamed: a
 * screen reader reads it by the group's title. */
static void
name_group_list (AdwPreferencesGroup *group)
{
  GtkWidget *list = find_list_box (GTK_WIDGET (group));

  if (list != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (list),
                                    GTK_ACCESSIBLE_PROPERTY_LABEL,
                                    adw_preferences_group_get_title (group),
                                    -1);
}

static void
gc_preferences_window_init (GcPreferencesWindow *self)
{
  g_autoptr(GSimpleActionGroup) group = g_simple_action_group_new ();
  g_autoptr(GAction) notifications = NULL;
  g_autoptr(GAction) color_scheme = NULL;

  gtk_widget_init_template (GTK_WIDGET (self));

  name_after_row (self->notify_mentions);
  name_after_row (self->notify_all);
  name_after_row (self->notify_never);
  name_after_row (self->scheme_default);
  name_after_row (self->scheme_light);
  name_after_row (self->scheme_dark);
  name_group_list (self->notifications_group);
  name_group_list (self->style_group);

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
