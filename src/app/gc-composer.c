/* gc-composer.c: a room's compose box: text, Send, byte counter, name completion, commands
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>
#include <string.h>

#include "gc-compose-command.h"
#include "gc-composer.h"

struct _GcComposer
{
  GtkWidget      parent_instance;

  GcChatSession *session;
  gboolean       can_send;

  /* Tab completion: the names that fit the word before the cursor, and
   * where the current one stands in the compose buffer (in characters). */
  GPtrArray     *completion_names;
  guint          completion_index;
  int            completion_start;
  int            completion_end;
  gboolean       completion_at_start;
  gboolean       completing;

  GtkWidget     *box;
  GtkTextView   *compose_view;
  GtkButton     *send_button;
  GtkLabel      *counter_label;
};

G_DEFINE_FINAL_TYPE (GcComposer, gc_composer, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_CAN_SEND,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static char *
compose_text (GcComposer *self)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->compose_view);
  GtkTextIter start, end;

  gtk_text_buffer_get_bounds (buffer, &start, &end);
  return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
}

static void
update_compose_state (GcComposer *self)
{
  g_autofree char *text = compose_text (self);
  g_autofree char *counter = NULL;
  g_autoptr(GcComposeCommand) command = gc_compose_command_parse (text, NULL);
  guint limit = gc_chat_session_get_limits (self->session)->max_text_bytes;
  gsize bytes = 0;
  gboolean joined = gc_chat_session_get_state (self->session) != GC_CHAT_SESSION_STATE_CLOSED;
  gboolean can_send;

  if (command != NULL && gc_compose_command_is_message (command))
    bytes = strlen (command->argument);

  /* Translators: bytes typed / bytes the server takes, under the Send button. */
  counter = g_strdup_printf (_("%u / %u"), (guint) MIN (bytes, G_MAXUINT), limit);
  gtk_label_set_text (self->counter_label, counter);
  if (bytes > limit)
    {
      gtk_widget_add_css_class (GTK_WIDGET (self->counter_label), "error");
      gtk_widget_remove_css_class (GTK_WIDGET (self->counter_label), "dim-label");
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->counter_label),
                                   _("Too long for this server: shorten the message to send it"));
    }
  else
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->counter_label), "error");
      gtk_widget_add_css_class (GTK_WIDGET (self->counter_label), "dim-label");
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->counter_label),
                                   _("Bytes used of the server’s limit"));
    }

  /* A command that does not parse can be sent: that explains it. */
  can_send = joined && (command == NULL || command->kind != GC_COMPOSE_COMMAND_EMPTY) && bytes <= limit;
  if (self->can_send != can_send)
    {
      self->can_send = can_send;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_CAN_SEND]);
    }
}

static void
clear_completion (GcComposer *self)
{
  g_clear_pointer (&self->completion_names, g_ptr_array_unref);
}

static void
compose_changed_cb (GtkTextBuffer *buffer,
                    GcComposer    *self)
{
  g_autofree char *text = NULL;
  g_autoptr(GcComposeCommand) command = NULL;

  /* Nothing to say before the composer has its room. */
  if (self->session == NULL)
    return;

  text = compose_text (self);
  command = gc_compose_command_parse (text, NULL);

  if (!self->completing)
    clear_completion (self);

  update_compose_state (self);

  gc_chat_session_set_typing (self->session,
                              command != NULL && gc_compose_command_is_message (command)
                              && gc_chat_session_text_has_content (command->argument));
}

gboolean
gc_composer_send (GcComposer *self)
{
  GtkWidget *widget = GTK_WIDGET (self);
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GcComposeCommand) command = NULL;
  gboolean done = FALSE;

  g_return_val_if_fail (GC_IS_COMPOSER (self), FALSE);
  g_return_val_if_fail (self->session != NULL, FALSE);

  text = compose_text (self);
  command = gc_compose_command_parse (text, &error);
  if (command != NULL)
    switch (command->kind)
      {
      case GC_COMPOSE_COMMAND_EMPTY:
        return FALSE;

      case GC_COMPOSE_COMMAND_TEXT:
      case GC_COMPOSE_COMMAND_EMOTE:
        done = gc_chat_session_send_message (self->session, command->argument,
                                             command->kind == GC_COMPOSE_COMMAND_EMOTE
                                             ? GC_MESSAGE_KIND_EMOTE : GC_MESSAGE_KIND_TEXT,
                                             &error) != NULL;
        break;

      case GC_COMPOSE_COMMAND_NICK:
        done = gc_chat_session_rename (self->session, command->argument, &error);
        break;

      case GC_COMPOSE_COMMAND_JOIN:
        /* The window joins it on this room's server. */
        done = gtk_widget_activate_action (widget, "win.join-room", "s", command->argument);
        break;

      case GC_COMPOSE_COMMAND_LEAVE:
        /* The view goes away with the room: nothing more to do here. */
        gtk_widget_activate_action (widget, "win.leave-room", NULL);
        return FALSE;

      case GC_COMPOSE_COMMAND_HELP:
      default:
        {
          g_autofree char *help = gc_compose_command_help_text ();

          gc_chat_session_add_notice (self->session, help);
          done = TRUE;
        }
        break;
      }

  /* On failure keep the text, so nothing typed is lost, and explain in
   * the room. */
  if (error != NULL)
    {
      g_autofree char *line = command != NULL && command->kind == GC_COMPOSE_COMMAND_NICK
                              ? g_strdup_printf (_("Could not change your name: %s"), error->message)
                              : g_strdup (error->message);

      gc_chat_session_add_notice (self->session, line);
    }

  if (done)
    {
      gtk_text_buffer_set_text (gtk_text_view_get_buffer (self->compose_view), "", 0);
      gc_chat_session_set_typing (self->session, FALSE);
    }
  return TRUE;
}

/* The others' names that start like @prefix (ignoring case), in the
 * members list's order. */
static GPtrArray *
matching_names (GcComposer *self,
                const char *prefix)
{
  GListModel *members = gc_chat_session_get_members (self->session);
  g_autofree char *prefix_key = gc_protocol_user_name_key (prefix);
  GPtrArray *names = g_ptr_array_new_with_free_func (g_free);
  guint n = g_list_model_get_n_items (members);

  for (guint i = 0; i < n; i++)
    {
      g_autoptr(GcRoomMember) member = g_list_model_get_item (members, i);
      g_autofree char *key = NULL;

      if (gc_room_member_get_own (member))
        continue;
      key = gc_protocol_user_name_key (gc_room_member_get_name (member));
      if (g_str_has_prefix (key, prefix_key))
        g_ptr_array_add (names, g_strdup (gc_room_member_get_name (member)));
    }
  return names;
}

/* Tab: completes the word before the cursor to a member's name; Tab again
 * (Shift+Tab backwards) goes through the other names that fit. Returns
 * FALSE when there is nothing to complete, so Tab moves the focus on. */
static gboolean
complete_name (GcComposer *self,
               gboolean    backwards)
{
  GtkTextBuffer *buffer = gtk_text_view_get_buffer (self->compose_view);
  GtkTextIter cursor, start, end;
  g_autofree char *inserted = NULL;
  const char *name;

  gtk_text_buffer_get_iter_at_mark (buffer, &cursor, gtk_text_buffer_get_insert (buffer));

  if (self->completion_names != NULL && gtk_text_iter_get_offset (&cursor) == self->completion_end)
    {
      guint n = self->completion_names->len;

      self->completion_index = backwards ? (self->completion_index + n - 1) % n
                                         : (self->completion_index + 1) % n;
    }
  else
    {
      g_autofree char *word = NULL;
      g_autoptr(GPtrArray) names = NULL;
      const char *prefix;
      GtkTextIter word_start = cursor;

      clear_completion (self);
      while (gtk_text_iter_backward_char (&word_start))
        if (g_unichar_isspace (gtk_text_iter_get_char (&word_start)))
          {
            gtk_text_iter_forward_char (&word_start);
            break;
          }

      word = gtk_text_buffer_get_text (buffer, &word_start, &cursor, FALSE);
      /* "@al" completes to "@alice": the @ stays. */
      prefix = word[0] == '@' ? word + 1 : word;
      if (*prefix == '\0')
        return FALSE;

      names = matching_names (self, prefix);
      if (names->len == 0)
        return FALSE;

      self->completion_names = g_steal_pointer (&names);
      self->completion_index = backwards ? self->completion_names->len - 1 : 0;
      self->completion_start = gtk_text_iter_get_offset (&word_start) + (prefix != word ? 1 : 0);
      self->completion_at_start = gtk_text_iter_get_offset (&word_start) == 0;
      self->completion_end = gtk_text_iter_get_offset (&cursor);
    }

  /* At the start of a message the name addresses someone: "alice: ". */
  name = g_ptr_array_index (self->completion_names, self->completion_index);
  inserted = g_strconcat (name, self->completion_at_start ? ": " : " ", NULL);

  self->completing = TRUE;
  gtk_text_buffer_begin_user_action (buffer);
  gtk_text_buffer_get_iter_at_offset (buffer, &start, self->completion_start);
  gtk_text_buffer_get_iter_at_offset (buffer, &end, self->completion_end);
  gtk_text_buffer_delete (buffer, &start, &end);
  gtk_text_buffer_insert (buffer, &start, inserted, -1);
  gtk_text_buffer_place_cursor (buffer, &start);
  gtk_text_buffer_end_user_action (buffer);
  self->completing = FALSE;

  self->completion_end = gtk_text_iter_get_offset (&start);
  return TRUE;
}

static gboolean
compose_key_pressed_cb (GtkEventControllerKey *controller,
                        guint                  keyval,
                        guint                  keycode,
                        GdkModifierType        state,
                        GcComposer            *self)
{
  if (keyval == GDK_KEY_Tab || keyval == GDK_KEY_ISO_Left_Tab || keyval == GDK_KEY_KP_Tab)
    {
      /* Ctrl+Tab and the like move the focus, as everywhere. */
      if (state & (GDK_CONTROL_MASK | GDK_ALT_MASK))
        return FALSE;
      return complete_name (self, (state & GDK_SHIFT_MASK) != 0 || keyval == GDK_KEY_ISO_Left_Tab);
    }

  if (keyval != GDK_KEY_Return && keyval != GDK_KEY_KP_Enter && keyval != GDK_KEY_ISO_Enter)
    return FALSE;
  /* Shift+Enter (and Ctrl/Alt+Enter) are left to the text view: a new line. */
  if (state & (GDK_SHIFT_MASK | GDK_CONTROL_MASK | GDK_ALT_MASK))
    return FALSE;

  gtk_widget_activate_action (GTK_WIDGET (self), "room.send", NULL);
  return TRUE;
}

static void
session_changed_cb (GcChatSession *session,
                    GParamSpec    *pspec,
                    GcComposer    *self)
{
  update_compose_state (self);
}

static void
gc_composer_dispose (GObject *object)
{
  GcComposer *self = GC_COMPOSER (object);

  clear_completion (self);
  g_clear_object (&self->session);
  gtk_widget_dispose_template (GTK_WIDGET (self), GC_TYPE_COMPOSER);

  G_OBJECT_CLASS (gc_composer_parent_class)->dispose (object);
}

static void
gc_composer_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  GcComposer *self = GC_COMPOSER (object);

  switch (prop_id)
    {
    case PROP_CAN_SEND:
      g_value_set_boolean (value, self->can_send);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gc_composer_class_init (GcComposerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = gc_composer_dispose;
  object_class->get_property = gc_composer_get_property;

  /* Whether there is something to send and a room to send it to. */
  properties[PROP_CAN_SEND] =
    g_param_spec_boolean ("can-send", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gochat/GoChat/gc-composer.ui");
  gtk_widget_class_bind_template_child (widget_class, GcComposer, box);
  gtk_widget_class_bind_template_child (widget_class, GcComposer, compose_view);
  gtk_widget_class_bind_template_child (widget_class, GcComposer, send_button);
  gtk_widget_class_bind_template_child (widget_class, GcComposer, counter_label);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
gc_composer_init (GcComposer *self)
{
  GtkEventController *key_controller;

  gtk_widget_init_template (GTK_WIDGET (self));

  key_controller = gtk_event_controller_key_new ();
  gtk_event_controller_set_propagation_phase (key_controller, GTK_PHASE_CAPTURE);
  g_signal_connect (key_controller, "key-pressed", G_CALLBACK (compose_key_pressed_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self->compose_view), key_controller);
  g_signal_connect (gtk_text_view_get_buffer (self->compose_view), "changed",
                    G_CALLBACK (compose_changed_cb), self);
}

void
gc_composer_set_session (GcComposer    *self,
                         GcChatSession *session)
{
  g_return_if_fail (GC_IS_COMPOSER (self));
  g_return_if_fail (GC_IS_CHAT_SESSION (session));
  g_return_if_fail (self->session == NULL);

  self->session = g_object_ref (session);
  g_signal_connect_object (session, "notify::state", G_CALLBACK (session_changed_cb), self, 0);
  g_signal_connect_object (session, "notify::max-text-bytes", G_CALLBACK (session_changed_cb), self, 0);
  update_compose_state (self);
}

gboolean
gc_composer_get_can_send (GcComposer *self)
{
  g_return_val_if_fail (GC_IS_COMPOSER (self), FALSE);
  return self->can_send;
}

void
gc_composer_focus (GcComposer *self)
{
  g_return_if_fail (GC_IS_COMPOSER (self));
  gtk_widget_grab_focus (GTK_WIDGET (self->compose_view));
}
