/* gc-application.c: the GoChat application: command line, windows, app actions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "gc-application.h"
#include "gc-window.h"

struct _GcApplication
{
  GtkApplication parent_instance;
};

G_DEFINE_FINAL_TYPE (GcApplication, gc_application, GTK_TYPE_APPLICATION)

static GcWindow *
new_window (GcApplication *self)
{
  GcWindow *window = gc_window_new (GTK_APPLICATION (self));

  gtk_window_present (GTK_WINDOW (window));
  return window;
}

static void
gc_application_activate (GApplication *app)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (app));

  if (window != NULL)
    {
      gtk_window_present (window);
      return;
    }

  gc_window_show_join_dialog (new_window (GC_APPLICATION (app)));
}

/* Every invocation, also one forwarded from a second `gochat` process, opens
 * its own window, so two people can share a desktop (or a test can run
 * two clients). */
static int
gc_application_command_line (GApplication            *app,
                             GApplicationCommandLine *command_line)
{
  GVariantDict *options = g_application_command_line_get_options_dict (command_line);
  const char *server = NULL;
  const char *name = NULL;
  const char *room = NULL;
  GcWindow *window;

  g_variant_dict_lookup (options, "server", "&s", &server);
  g_variant_dict_lookup (options, "name", "&s", &name);
  g_variant_dict_lookup (options, "room", "&s", &room);

  window = new_window (GC_APPLICATION (app));
  if (room != NULL)
    gc_window_join (window, server, name, room);
  else
    {
      GcJoinDialog *dialog = gc_window_show_join_dialog (window);

      gc_join_dialog_set_values (dialog, server, name, NULL);
    }

  return 0;
}

static int
gc_application_handle_local_options (GApplication *app,
                                     GVariantDict *options)
{
  if (g_variant_dict_contains (options, "version"))
    {
      g_print ("gochat %s\n", PACKAGE_VERSION);
      return 0;
    }
  return -1;
}

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  GtkApplication *app = user_data;
  static const char *authors[] = { "The GoChat developers", NULL };

  gtk_show_about_dialog (gtk_application_get_active_window (app),
                         "program-name", "GoChat",
                         "logo-icon-name", GC_APPLICATION_ID,
                         "version", PACKAGE_VERSION,
                         "comments", "Chat rooms for everyone on a GoChat server",
                         "license-type", GTK_LICENSE_GPL_3_0,
                         "authors", authors,
                         NULL);
}

static void
new_window_action (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  gc_window_show_join_dialog (new_window (GC_APPLICATION (user_data)));
}

static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  GtkApplication *app = user_data;
  GList *windows = gtk_application_get_windows (app);

  /* Closing each window leaves its room cleanly; the app then ends when
   * the last closing handshake is done. */
  for (GList *l = windows; l != NULL; )
    {
      GtkWindow *window = l->data;

      l = l->next;
      gtk_window_close (window);
    }
}

static void
gc_application_startup (GApplication *app)
{
  static const GActionEntry app_actions[] = {
    { .name = "about", .activate = about_action },
    { .name = "new-window", .activate = new_window_action },
    { .name = "quit", .activate = quit_action },
  };
  static const char *quit_accels[] = { "<Control>q", NULL };
  static const char *new_window_accels[] = { "<Control>n", NULL };
  static const char *join_accels[] = { "<Control>j", NULL };

  g_autoptr(GtkCssProvider) css = gtk_css_provider_new ();

  G_APPLICATION_CLASS (gc_application_parent_class)->startup (app);

  gtk_css_provider_load_from_resource (css, "/io/github/gochat/GoChat/style.css");
  gtk_style_context_add_provider_for_display (gdk_display_get_default (), GTK_STYLE_PROVIDER (css),
                                              GTK_STYLE_PROVIDER_PRIORITY_APPLICATION);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions,
                                   G_N_ELEMENTS (app_actions), app);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.quit", quit_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "app.new-window", new_window_accels);
  gtk_application_set_accels_for_action (GTK_APPLICATION (app), "win.join", join_accels);
}

static void
gc_application_class_init (GcApplicationClass *klass)
{
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  app_class->activate = gc_application_activate;
  app_class->command_line = gc_application_command_line;
  app_class->handle_local_options = gc_application_handle_local_options;
  app_class->startup = gc_application_startup;
}

static void
gc_application_init (GcApplication *self)
{
  static const GOptionEntry entries[] = {
    { "server", 's', 0, G_OPTION_ARG_STRING, NULL,
      "Server address (default: the last one, else ws://localhost:8081)", "URL" },
    { "name", 'n', 0, G_OPTION_ARG_STRING, NULL,
      "Your name in the room (default: the last one, else your account's name)", "NAME" },
    { "room", 'r', 0, G_OPTION_ARG_STRING, NULL,
      "Join this room at once, without the join dialog", "CODE" },
    { "version", 0, 0, G_OPTION_ARG_NONE, NULL, "Print the version and exit", NULL },
    { NULL }
  };

  g_application_add_main_option_entries (G_APPLICATION (self), entries);
  g_application_set_option_context_summary (G_APPLICATION (self), "Chat in GoChat rooms.");
}

GcApplication *
gc_application_new (GApplicationFlags flags)
{
  return g_object_new (GC_TYPE_APPLICATION,
                       "application-id", GC_APPLICATION_ID,
                       "flags", flags,
                       "resource-base-path", "/io/github/gochat/GoChat",
                       NULL);
}
