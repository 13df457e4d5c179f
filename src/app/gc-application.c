/* gc-application.c: the GoChat application: command line, links, hosting, notifications, style
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <glib/gi18n-lib.h>
#include <locale.h>

#include "gc-application.h"
#include "gc-invite-link.h"
#include "gc-preferences-window.h"
#include "gc-window.h"

struct _GcApplication
{
  AdwApplication  parent_instance;

  GSettings      *settings;
  GcLocalHost    *host;
  GcOpenRooms    *open_rooms;
  gboolean        quitting;
};

G_DEFINE_FINAL_TYPE (GcApplication, gc_application, ADW_TYPE_APPLICATION)

/* `--host[=PORT]`: GApplication hands main-option callbacks no data, so
 * the port waits here for handle-local-options, which passes it on in
 * the options (to the primary instance too). -1: no --host. */
static int host_option_port = -1;

void
gc_application_init_i18n (void)
{
  const char *build_localedir = g_getenv ("GOCHAT_LOCALEDIR");

  setlocale (LC_ALL, "");
  if (build_localedir != NULL && *build_localedir != '\0')
    bindtextdomain (GETTEXT_PACKAGE, build_localedir);
  else
    {
#ifdef G_OS_WIN32
      /* Installed anywhere: the translations sit beside the program. */
      g_autofree char *prefix = g_win32_get_package_installation_directory_of_module (NULL);
      g_autofree char *localedir = g_build_filename (prefix, "share", "locale", NULL);

      bindtextdomain (GETTEXT_PACKAGE, localedir);
#else
      bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
#endif
    }
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);
}

/* ------------------------------------------------------------------ */
/* Windows                                                              */
/* ------------------------------------------------------------------ */

static GcWindow *
new_window (GcApplication *self)
{
  GcWindow *window = gc_window_new (GTK_APPLICATION (self));

  gtk_window_present (GTK_WINDOW (window));
  return window;
}

/* Links join in the window the user works in. */
static GcWindow *
target_window (GcApplication *self)
{
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (GC_IS_WINDOW (window))
    {
      gtk_window_present (window);
      return GC_WINDOW (window);
    }
  return new_window (self);
}

/* Joins the rooms saved at the last run into @window; FALSE if none. */
gboolean
gc_application_restore_rooms (GcApplication *self,
                              GcWindow      *window)
{
  g_autoptr(GPtrArray) saved = NULL;

  g_return_val_if_fail (GC_IS_APPLICATION (self), FALSE);
  g_return_val_if_fail (GC_IS_WINDOW (window), FALSE);

  saved = gc_open_rooms_dup_saved (self->open_rooms);
  for (guint i = 0; i < saved->len; i++)
    {
      GcSavedRoom *room = g_ptr_array_index (saved, i);

      gc_window_rejoin (window, room->server_url, room->user_name, room->room_code);
    }
  return saved->len > 0;
}

gboolean
gc_application_get_quitting (GcApplication *self)
{
  g_return_val_if_fail (GC_IS_APPLICATION (self), FALSE);
  return self->quitting;
}

GcOpenRooms *
gc_application_get_open_rooms (GcApplication *self)
{
  g_return_val_if_fail (GC_IS_APPLICATION (self), NULL);
  return self->open_rooms;
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

  window = GTK_WINDOW (new_window (GC_APPLICATION (app)));
  /* The rooms open when the app last ran come back; with none, the join
   * dialog is the start. */
  if (!gc_application_restore_rooms (GC_APPLICATION (app), GC_WINDOW (window)))
    gc_window_show_join_dialog (GC_WINDOW (window));
}

static void
gc_application_open (GApplication  *app,
                     GFile        **files,
                     int            n_files,
                     const char    *hint)
{
  GcApplication *self = GC_APPLICATION (app);

  for (int i = 0; i < n_files; i++)
    {
      g_autofree char *uri = g_file_get_uri (files[i]);

      gc_window_open_invite (target_window (self), uri);
    }
}

/* Every invocation that names a room, also one forwarded from a second
 * `gochat` process, opens its own window, so two people can share a
 * desktop (or a test can run two clients); invite links join the window
 * in use. */
static int
gc_application_command_line (GApplication            *app,
                             GApplicationCommandLine *command_line)
{
  GcApplication *self = GC_APPLICATION (app);
  GVariantDict *options = g_application_command_line_get_options_dict (command_line);
  g_auto(GStrv) arguments = NULL;
  const char *server = NULL;
  const char *name = NULL;
  const char *room = NULL;
  gboolean opened = FALSE;
  int status = 0;
  int argc;
  int port;

  g_variant_dict_lookup (options, "server", "&s", &server);
  g_variant_dict_lookup (options, "name", "&s", &name);
  g_variant_dict_lookup (options, "room", "&s", &room);

  arguments = g_application_command_line_get_arguments (command_line, &argc);
  for (int i = 1; i < argc; i++)
    {
      g_autoptr(GError) error = NULL;

      if (!gc_invite_link_parse (arguments[i], NULL, NULL, &error))
        {
          g_application_command_line_printerr (command_line, "gochat: %s\n", error->message);
          status = 2;
          continue;
        }
      gc_window_open_invite (target_window (self), arguments[i]);
      opened = TRUE;
    }

  if (g_variant_dict_lookup (options, "host", "i", &port))
    gc_window_host (new_window (self), (guint16) port, name, room);
  else if (room != NULL)
    gc_window_join (new_window (self), server, name, room);
  else if (!opened && status == 0)
    {
      GcWindow *window = new_window (self);

      /* A plain start (no options) brings back the rooms open at the last
       * run, as activate does; otherwise the join dialog is the start. */
      if (server != NULL || name != NULL || !gc_application_restore_rooms (self, window))
        {
          GcJoinDialog *dialog = gc_window_show_join_dialog (window);

          gc_join_dialog_set_values (dialog, server, name, NULL);
        }
    }

  return status;
}

static gboolean
host_option_cb (const char  *option_name,
                const char  *value,
                gpointer     data,
                GError     **error)
{
  guint64 port;

  if (value == NULL)
    {
      host_option_port = GC_LOCAL_HOST_DEFAULT_PORT;
      return TRUE;
    }
  if (!g_ascii_string_to_unsigned (value, 10, 1, G_MAXUINT16, &port, NULL))
    {
      g_set_error (error, G_OPTION_ERROR, G_OPTION_ERROR_BAD_VALUE,
                   _("--host takes a port from 1 to 65535, not “%s”"), value);
      return FALSE;
    }
  host_option_port = (int) port;
  return TRUE;
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
  if (host_option_port >= 0)
    g_variant_dict_insert (options, "host", "i", host_option_port);
  return -1;
}

/* ------------------------------------------------------------------ */
/* Colour scheme                                                        */
/* ------------------------------------------------------------------ */

/* The preference's "default" follows the desktop (libadwaita's style
 * manager reads the settings portal); light and dark force one. */
static void
apply_color_scheme (GcApplication *self)
{
  AdwStyleManager *style_manager = adw_style_manager_get_default ();
  AdwColorScheme color_scheme;

  switch ((GcColorScheme) g_settings_get_enum (self->settings, "color-scheme"))
    {
    case GC_COLOR_SCHEME_LIGHT:
      color_scheme = ADW_COLOR_SCHEME_FORCE_LIGHT;
      break;
    case GC_COLOR_SCHEME_DARK:
      color_scheme = ADW_COLOR_SCHEME_FORCE_DARK;
      break;
    case GC_COLOR_SCHEME_DEFAULT:
    default:
      color_scheme = ADW_COLOR_SCHEME_DEFAULT;
      break;
    }
  adw_style_manager_set_color_scheme (style_manager, color_scheme);
}

static void
color_scheme_changed_cb (GSettings     *settings,
                         const char    *key,
                         GcApplication *self)
{
  apply_color_scheme (self);
}

/* ------------------------------------------------------------------ */
/* Actions                                                              */
/* ------------------------------------------------------------------ */

static void
about_action (GSimpleAction *action,
              GVariant      *parameter,
              gpointer       user_data)
{
  GtkApplication *app = user_data;
  static const char *authors[] = { "The GoChat developers", NULL };

  GtkWidget *about;

  about = g_object_new (ADW_TYPE_ABOUT_WINDOW,
                        "transient-for", gtk_application_get_active_window (app),
                        "application-name", "GoChat",
                        "application-icon", GC_APPLICATION_ID,
                        "version", PACKAGE_VERSION,
                        "comments", _("Chat rooms for everyone on a GoChat server, or on your own computer"),
                        "license-type", GTK_LICENSE_GPL_3_0,
                        "developers", authors,
                        "developer-name", authors[0],
                        /* Translators: your names, one per line. */
                        "translator-credits", _("translator-credits"),
                        NULL);
  gtk_window_present (GTK_WINDOW (about));
}

static void
new_window_action (GSimpleAction *action,
                   GVariant      *parameter,
                   gpointer       user_data)
{
  gc_window_show_join_dialog (new_window (GC_APPLICATION (user_data)));
}

static void
preferences_action (GSimpleAction *action,
                    GVariant      *parameter,
                    gpointer       user_data)
{
  GtkApplication *app = user_data;
  GtkWindow *parent = gtk_application_get_active_window (app);

  for (GList *l = gtk_application_get_windows (app); l != NULL; l = l->next)
    if (GC_IS_PREFERENCES_WINDOW (l->data))
      {
        gtk_window_present (l->data);
        return;
      }

  gtk_window_present (GTK_WINDOW (gc_preferences_window_new (parent)));
}

/* A notification was clicked: that window, that room. */
static void
show_room_action (GSimpleAction *action,
                  GVariant      *parameter,
                  gpointer       user_data)
{
  GtkApplication *app = user_data;
  const char *server;
  const char *room;
  GtkWindow *window;
  guint id;

  g_variant_get (parameter, "(u&s&s)", &id, &server, &room);
  window = gtk_application_get_window_by_id (app, id);
  if (!GC_IS_WINDOW (window))
    return;

  gtk_window_present (window);
  for (guint i = 0; i < gc_window_get_n_sessions (GC_WINDOW (window)); i++)
    {
      GcChatSession *session = gc_window_get_nth_session (GC_WINDOW (window), i);

      if (g_str_equal (gc_chat_session_get_server_url (session), server) &&
          g_str_equal (gc_chat_session_get_room (session), room))
        {
          gc_window_show_session (GC_WINDOW (window), session);
          return;
        }
    }
}

void
gc_application_quit_now (GcApplication *self)
{
  GList *windows;

  g_return_if_fail (GC_IS_APPLICATION (self));

  /* The rooms stay saved for the next start. */
  self->quitting = TRUE;

  /* Closing each window leaves its rooms cleanly (and takes its dialogs
   * along); the app then ends when the last closing handshake (and the
   * host's shutdown) is done. */
  windows = g_list_copy_deep (gtk_application_get_windows (GTK_APPLICATION (self)),
                              (GCopyFunc) g_object_ref, NULL);
  for (GList *l = windows; l != NULL; l = l->next)
    if (GC_IS_WINDOW (l->data))
      gc_window_close_now (l->data);
  g_list_free_full (windows, g_object_unref);

  /* What is left belongs to no room: preferences, about. */
  while ((windows = gtk_application_get_windows (GTK_APPLICATION (self))) != NULL)
    gtk_window_destroy (windows->data);
}

/* Quitting cuts off those who joined rooms hosted here: ask first. */
static void
quit_action (GSimpleAction *action,
             GVariant      *parameter,
             gpointer       user_data)
{
  GcApplication *self = user_data;
  GtkWindow *window = gtk_application_get_active_window (GTK_APPLICATION (self));

  if (self->host != NULL && gc_local_host_count_others (self->host) > 0)
    {
      for (GList *l = gtk_application_get_windows (GTK_APPLICATION (self));
           !GC_IS_WINDOW (window) && l != NULL; l = l->next)
        window = l->data;
      if (GC_IS_WINDOW (window))
        {
          gc_window_confirm_quit (GC_WINDOW (window));
          return;
        }
    }
  gc_application_quit_now (self);
}

/* ------------------------------------------------------------------ */
/* Hosting                                                              */
/* ------------------------------------------------------------------ */

static void
host_stopped_cb (GcLocalHost   *host,
                 GcApplication *self)
{
  if (self->host == host)
    {
      g_signal_handlers_disconnect_by_data (host, self);
      g_clear_object (&self->host);
    }
}

GcLocalHost *
gc_application_get_host (GcApplication *self)
{
  g_return_val_if_fail (GC_IS_APPLICATION (self), NULL);

  return self->host != NULL && gc_local_host_get_running (self->host) ? self->host : NULL;
}

GcLocalHost *
gc_application_start_host (GcApplication  *self,
                           guint16         port,
                           GError        **error)
{
  g_autoptr(GcLocalHost) host = NULL;

  g_return_val_if_fail (GC_IS_APPLICATION (self), NULL);

  if (gc_application_get_host (self) != NULL)
    return self->host;

  host = gc_local_host_new ();
  if (!gc_local_host_start (host, port, error))
    return NULL;

  /* One still shutting down goes its own way. */
  if (self->host != NULL)
    g_signal_handlers_disconnect_by_data (self->host, self);
  g_set_object (&self->host, host);
  g_signal_connect (host, "stopped", G_CALLBACK (host_stopped_cb), self);
  return self->host;
}

/* ------------------------------------------------------------------ */
/* GApplication                                                         */
/* ------------------------------------------------------------------ */

static void
set_accels (GtkApplication *app,
            const char     *action,
            const char     *accel)
{
  const char *accels[] = { accel, NULL };

  gtk_application_set_accels_for_action (app, action, accels);
}

static void
gc_application_startup (GApplication *app)
{
  static const GActionEntry app_actions[] = {
    { .name = "about", .activate = about_action },
    { .name = "new-window", .activate = new_window_action },
    { .name = "preferences", .activate = preferences_action },
    { .name = "show-room", .activate = show_room_action, .parameter_type = "(uss)" },
    { .name = "quit", .activate = quit_action },
  };
  GcApplication *self = GC_APPLICATION (app);
  GtkApplication *gtk_app = GTK_APPLICATION (app);

  /* AdwApplication loads style.css from the resource base path. */
  G_APPLICATION_CLASS (gc_application_parent_class)->startup (app);

  self->settings = g_settings_new (GC_APPLICATION_ID);
  self->open_rooms = gc_open_rooms_new ();
  gc_open_rooms_bind_settings (self->open_rooms, self->settings);
  g_signal_connect (self->settings, "changed::color-scheme", G_CALLBACK (color_scheme_changed_cb), self);
  apply_color_scheme (self);

  g_action_map_add_action_entries (G_ACTION_MAP (app), app_actions,
                                   G_N_ELEMENTS (app_actions), app);
  set_accels (gtk_app, "app.quit", "<Control>q");
  set_accels (gtk_app, "app.new-window", "<Control><Shift>n");
  set_accels (gtk_app, "app.preferences", "<Control>comma");
  set_accels (gtk_app, "win.join", "<Control>n");
  set_accels (gtk_app, "win.leave-room", "<Control>w");
  set_accels (gtk_app, "win.next-room", "<Control>Page_Down");
  set_accels (gtk_app, "win.previous-room", "<Control>Page_Up");
  set_accels (gtk_app, "win.copy-invite", "<Control><Shift>i");
  set_accels (gtk_app, "win.next-unread-room", "<Alt><Shift>Down");
  set_accels (gtk_app, "room.scroll-to-end", "<Control>End");
  for (int i = 1; i <= 9; i++)
    {
      g_autofree char *action = g_strdup_printf ("win.select-room(%d)", i);
      g_autofree char *accel = g_strdup_printf ("<Alt>%d", i);

      set_accels (gtk_app, action, accel);
    }
}

static void
gc_application_dispose (GObject *object)
{
  GcApplication *self = GC_APPLICATION (object);

  if (self->host != NULL)
    g_signal_handlers_disconnect_by_data (self->host, self);
  g_clear_object (&self->host);
  g_clear_object (&self->open_rooms);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (gc_application_parent_class)->dispose (object);
}

static void
gc_application_class_init (GcApplicationClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GApplicationClass *app_class = G_APPLICATION_CLASS (klass);

  object_class->dispose = gc_application_dispose;
  app_class->activate = gc_application_activate;
  app_class->open = gc_application_open;
  app_class->command_line = gc_application_command_line;
  app_class->handle_local_options = gc_application_handle_local_options;
  app_class->startup = gc_application_startup;
}

static void
gc_application_init (GcApplication *self)
{
  const GOptionEntry entries[] = {
    { "server", 's', 0, G_OPTION_ARG_STRING, NULL,
      _("Server address (default: the last one, else ws://localhost:8081)"), _("URL") },
    { "name", 'n', 0, G_OPTION_ARG_STRING, NULL,
      _("Your name in the room (default: the last one, else your account’s name)"), _("NAME") },
    { "room", 'r', 0, G_OPTION_ARG_STRING, NULL,
      _("Join this room at once, without the join dialog"), _("CODE") },
    { "host", 0, G_OPTION_FLAG_OPTIONAL_ARG, G_OPTION_ARG_CALLBACK, host_option_cb,
      _("Host the room on this computer, on PORT or the next free one (default: 8081)"), _("PORT") },
    { "version", 0, 0, G_OPTION_ARG_NONE, NULL, _("Print the version and exit"), NULL },
    { NULL }
  };

  g_application_add_main_option_entries (G_APPLICATION (self), entries);
  g_application_set_option_context_parameter_string (G_APPLICATION (self), _("[gochat://HOST:PORT/ROOM…]"));
  g_application_set_option_context_summary (G_APPLICATION (self),
                                            _("Chat in GoChat rooms. An invite link joins its room."));
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
