/* gc-room-view.c: one room in the window: banners, messages, typing, members (compose: GcComposer)
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>
#include <string.h>

#include "gc-composer.h"
#include "gc-member-list.h"
#include "gc-message-row.h"
#include "gc-room-view.h"
#include "gc-scroll-follower.h"
#include "gc-session-text.h"


struct _GcRoomView
{
  GtkWidget                 parent_instance;

  GcChatSession            *session;
  gboolean                  active;
  gboolean                  was_active;
  guint                     unread;
  guint                     mentions;
  gboolean                  hosted;

  /* Follow new lines only while the user is at the bottom. */
  guint                     clear_unread_id;
  GcScrollFollower         *follower;
  guint                     unseen;
  /* The first line that came while the person was not looking (in
   * another room, or reading further up): the divider goes above it. */
  GcMessageItem            *divider_item;

  GtkWidget                *box;
  GtkRevealer              *banner_revealer;
  GtkLabel                 *banner_label;
  GtkButton                *reconnect_button;
  GtkRevealer              *host_revealer;
  GtkLabel                 *host_title_label;
  GtkLabel                 *host_addresses_label;
  AdwFlap                  *flap;
  GtkScrolledWindow        *message_scroller;
  GtkListView              *message_list;
  GtkSignalListItemFactory *message_factory;
  GtkLabel                 *empty_label;
  GtkButton                *new_messages_button;
  GtkLabel                 *typing_label;
  GcComposer               *composer;
  GcMemberList             *member_list;
};

G_DEFINE_FINAL_TYPE (GcRoomView, gc_room_view, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_SESSION,
  PROP_ACTIVE,
  PROP_UNREAD,
  PROP_MENTIONS,
  PROP_HOSTED,
  PROP_SHOW_MEMBERS,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

/* ------------------------------------------------------------------ */
/* Scrolling                                                            */
/* ------------------------------------------------------------------ */

static void
update_new_messages_button (GcRoomView *self)
{
  g_autofree char *label = NULL;

  if (self->unseen == 0)
    {
      gtk_widget_set_visible (GTK_WIDGET (self->new_messages_button), FALSE);
      return;
    }

  label = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u new message ↓", "%u new messages ↓",
                                        self->unseen),
                           self->unseen);
  gtk_button_set_label (self->new_messages_button, label);
  gtk_widget_set_visible (GTK_WIDGET (self->new_messages_button), TRUE);
}

/* The lines counted as unread have been shown: the sidebar's badges go. */
static void
clear_unread (GcRoomView *self)
{
  g_object_freeze_notify (G_OBJECT (self));
  if (self->unread > 0)
    {
      self->unread = 0;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNREAD]);
    }
  if (self->mentions > 0)
    {
      self->mentions = 0;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MENTIONS]);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

static gboolean
following (GcRoomView *self)
{
  return self->follower == NULL || gc_scroll_follower_get_following (self->follower);
}

static gboolean
clear_unread_idle_cb (gpointer user_data)
{
  GcRoomView *self = GC_ROOM_VIEW (user_data);

  self->clear_unread_id = 0;
  if (self->active && following (self))
    clear_unread (self);
  return G_SOURCE_REMOVE;
}

static void
scroll_to_bottom (GcRoomView *self)
{
  self->unseen = 0;
  update_new_messages_button (self);
  gc_scroll_follower_scroll_to_end (self->follower);
}

/* The person came down to the end, or went up to read. */
static void
following_cb (GcRoomView *self)
{
  if (!following (self))
    return;
  if (self->unseen > 0)
    {
      self->unseen = 0;
      update_new_messages_button (self);
    }
  /* Not here: this can run inside the list's allocation, and the badges
   * resize the sidebar. */
  if (self->active && (self->unread > 0 || self->mentions > 0) && self->clear_unread_id == 0)
    self->clear_unread_id = g_idle_add (clear_unread_idle_cb, self);
}

static void
flap_reveal_cb (GcRoomView *self)
{
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SHOW_MEMBERS]);
}

static void
new_messages_clicked_cb (GcRoomView *self)
{
  scroll_to_bottom (self);
}

/* Moves the divider to @item (or removes it), on the rows built now; rows
 * built later look at divider_item when bound. */
static void
set_divider_item (GcRoomView    *self,
                  GcMessageItem *item)
{
  if (self->divider_item == item)
    return;
  g_set_object (&self->divider_item, item);

  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->message_list));
       child != NULL; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *row = gtk_widget_get_first_child (child);

      if (GC_IS_MESSAGE_ROW (row))
        gc_message_row_set_unread_divider (GC_MESSAGE_ROW (row),
                                           item != NULL &&
                                           gc_message_row_get_item (GC_MESSAGE_ROW (row)) == item);
    }
}

static void
messages_changed_cb (GListModel *model,
                     guint       position,
                     guint       removed,
                     guint       added,
                     GcRoomView *self)
{
  gtk_widget_set_visible (GTK_WIDGET (self->empty_label), g_list_model_get_n_items (model) == 0);

  if (added == 0)
    return;

  /* What others said while the person looks elsewhere or reads further
   * up: the divider marks where it starts; further up, it is counted. */
  for (guint i = position; i < position + added; i++)
    {
      g_autoptr(GcMessageItem) item = g_list_model_get_item (model, i);

      if (gc_message_item_get_kind (item) == GC_MESSAGE_ITEM_SYSTEM)
        continue;
      if (gc_message_item_get_own (item))
        {
          /* Saying something means having caught up. */
          set_divider_item (self, NULL);
          continue;
        }
      if ((self->active && following (self)) || !self->was_active)
        continue;
      if (self->divider_item == NULL && position + added == g_list_model_get_n_items (model))
        set_divider_item (self, item);
      if (!following (self))
        self->unseen++;
    }

  if (following (self))
    gc_scroll_follower_follow (self->follower);
  else
    update_new_messages_button (self);
}

/* ------------------------------------------------------------------ */
/* Message rows                                                         */
/* ------------------------------------------------------------------ */

/* Narrow, the members fold over the messages (the flap folds): rows then
 * put the name and time above the text, which gets the width. */
static gboolean
compact (GcRoomView *self)
{
  return adw_flap_get_folded (self->flap);
}

static void
flap_folded_cb (GcRoomView *self)
{
  for (GtkWidget *child = gtk_widget_get_first_child (GTK_WIDGET (self->message_list));
       child != NULL; child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *row = gtk_widget_get_first_child (child);

      if (GC_IS_MESSAGE_ROW (row))
        gc_message_row_set_compact (GC_MESSAGE_ROW (row), compact (self));
    }
}

static void
message_setup_cb (GtkSignalListItemFactory *factory,
                  GtkListItem              *list_item,
                  GcRoomView               *self)
{
  GtkWidget *row = gc_message_row_new ();

  gc_message_row_set_compact (GC_MESSAGE_ROW (row), compact (self));
  gtk_list_item_set_child (list_item, row);
  gtk_list_item_set_activatable (list_item, FALSE);
  gtk_list_item_set_selectable (list_item, FALSE);
}

static void
message_bind_cb (GtkSignalListItemFactory *factory,
                 GtkListItem              *list_item,
                 GcRoomView               *self)
{
  GcMessageRow *row = GC_MESSAGE_ROW (gtk_list_item_get_child (list_item));
  gpointer item = gtk_list_item_get_item (list_item);

  gc_message_row_set_item (row, item);
  gc_message_row_set_unread_divider (row, item != NULL && item == (gpointer) self->divider_item);
}

static void
message_unbind_cb (GtkSignalListItemFactory *factory,
                   GtkListItem              *list_item,
                   GcRoomView               *self)
{
  gc_message_row_set_item (GC_MESSAGE_ROW (gtk_list_item_get_child (list_item)), NULL);
}

/* ------------------------------------------------------------------ */
/* Actions                                                              */
/* ------------------------------------------------------------------ */

/* The composer sends or runs the command; the view follows the new line
 * unless the composer says the room is gone (/leave). */
static void
send_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  GcRoomView *self = GC_ROOM_VIEW (widget);

  if (gc_composer_send (self->composer))
    scroll_to_bottom (self);
}

static void
can_send_cb (GcRoomView *self)
{
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "room.send",
                                 gc_composer_get_can_send (self->composer));
}

static void
retry_message_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  GcRoomView *self = GC_ROOM_VIEW (widget);

  gc_chat_session_retry_message (self->session, g_variant_get_string (parameter, NULL));
}

/* Ctrl+End: down to the newest line, following it again. */
static void
scroll_to_end_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  scroll_to_bottom (GC_ROOM_VIEW (widget));
}

static void
reconnect_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  GcRoomView *self = GC_ROOM_VIEW (widget);

  gc_chat_session_reconnect_now (self->session);
}

/* ------------------------------------------------------------------ */
/* Session                                                              */
/* ------------------------------------------------------------------ */

static void
update_banner (GcRoomView *self)
{
  g_autofree char *text = NULL;
  GcChatSessionState state = gc_chat_session_get_state (self->session);

  switch (state)
    {
    case GC_CHAT_SESSION_STATE_WAITING:
      if (gc_chat_session_get_server_restarting (self->session))
        {
          text = gc_session_text_restarting_banner (gc_chat_session_get_retry_seconds (self->session));
          break;
        }
      text = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                           "Connection lost — reconnecting in %u s",
                                           "Connection lost — reconnecting in %u s",
                                           gc_chat_session_get_retry_seconds (self->session)),
                              gc_chat_session_get_retry_seconds (self->session));
      break;
    case GC_CHAT_SESSION_STATE_RECONNECTING:
      if (gc_chat_session_get_server_restarting (self->session))
        text = gc_session_text_restarting_banner (0);
      else
        text = g_strdup (_("Connection lost — reconnecting…"));
      break;
    case GC_CHAT_SESSION_STATE_FAILED:
    case GC_CHAT_SESSION_STATE_HOST_STOPPED:
      text = g_strdup (gc_chat_session_get_failure (self->session));
      break;
    case GC_CHAT_SESSION_STATE_NEW:
    case GC_CHAT_SESSION_STATE_JOINING:
    case GC_CHAT_SESSION_STATE_CONNECTED:
    case GC_CHAT_SESSION_STATE_CLOSED:
    default:
      break;
    }

  if (text != NULL)
    gtk_label_set_text (self->banner_label, text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->banner_label),
                               text != NULL ? gc_chat_session_get_failure (self->session) : NULL);
  gtk_widget_set_sensitive (GTK_WIDGET (self->reconnect_button),
                            state != GC_CHAT_SESSION_STATE_RECONNECTING);
  gtk_revealer_set_reveal_child (self->banner_revealer, text != NULL);
}

static void
update_typing (GcRoomView *self)
{
  g_auto(GStrv) names = gc_chat_session_dup_typing_names (self->session);
  g_autofree char *text = NULL;
  guint n = g_strv_length (names);

  if (n == 0)
    text = g_strdup ("");
  else if (n == 1)
    text = g_strdup_printf (_("%s is typing…"), names[0]);
  else if (n == 2)
    text = g_strdup_printf (_("%s and %s are typing…"), names[0], names[1]);
  else if (n == 3)
    text = g_strdup_printf (_("%s, %s and %s are typing…"), names[0], names[1], names[2]);
  else
    text = g_strdup (_("Several people are typing…"));

  gtk_label_set_text (self->typing_label, text);
}

static void
session_state_cb (GcChatSession *session,
                  GParamSpec    *pspec,
                  GcRoomView    *self)
{
  update_banner (self);
}

static void
session_typing_cb (GcChatSession *session,
                   GcRoomView    *self)
{
  update_typing (self);
}

static void
message_received_cb (GcChatSession *session,
                     GcMessageItem *item,
                     GcRoomView    *self)
{
  /* Shown at once if the person looks at the room's end. */
  if (self->active && following (self))
    return;

  self->unread++;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_UNREAD]);
  if (gc_message_item_get_mention (item))
    {
      self->mentions++;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_MENTIONS]);
    }
}

static void
set_session (GcRoomView    *self,
             GcChatSession *session)
{
  g_autoptr(GtkNoSelection) selection = NULL;
  GListModel *messages = gc_chat_session_get_messages (session);

  self->session = g_object_ref (session);
  selection = gtk_no_selection_new (g_object_ref (messages));
  g_signal_connect_object (messages, "items-changed", G_CALLBACK (messages_changed_cb), self, 0);
  g_signal_connect_object (session, "notify::state", G_CALLBACK (session_state_cb), self, 0);
  g_signal_connect_object (session, "notify::retry-seconds", G_CALLBACK (session_state_cb), self, 0);
  g_signal_connect_object (session, "notify::failure", G_CALLBACK (session_state_cb), self, 0);
  g_signal_connect_object (session, "typing-changed", G_CALLBACK (session_typing_cb), self, 0);
  g_signal_connect_object (session, "message-received", G_CALLBACK (message_received_cb), self, 0);

  gtk_list_view_set_model (self->message_list, GTK_SELECTION_MODEL (selection));
  gc_member_list_set_model (self->member_list, gc_chat_session_get_members (session));
  gtk_widget_set_visible (GTK_WIDGET (self->empty_label), g_list_model_get_n_items (messages) == 0);

  update_banner (self);
  update_typing (self);
  gc_composer_set_session (self->composer, session);
  can_send_cb (self);
  scroll_to_bottom (self);
}

/* ------------------------------------------------------------------ */
/* GObject                                                              */
/* ------------------------------------------------------------------ */

static void
gc_room_view_dispose (GObject *object)
{
  GcRoomView *self = GC_ROOM_VIEW (object);

  g_clear_object (&self->divider_item);
  g_clear_handle_id (&self->clear_unread_id, g_source_remove);
  if (self->follower != NULL)
    g_signal_handlers_disconnect_by_data (self->follower, self);
  g_clear_object (&self->follower);
  if (self->session != NULL)
    {
      /* The handlers go with the view (connect_object); the room goes
       * with the view, too. */
      gc_chat_session_leave (self->session);
      g_clear_object (&self->session);
    }
  gtk_widget_dispose_template (GTK_WIDGET (self), GC_TYPE_ROOM_VIEW);

  G_OBJECT_CLASS (gc_room_view_parent_class)->dispose (object);
}

static void
gc_room_view_get_property (GObject    *object,
                           guint       prop_id,
                           GValue     *value,
                           GParamSpec *pspec)
{
  GcRoomView *self = GC_ROOM_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      g_value_set_object (value, self->session);
      break;
    case PROP_ACTIVE:
      g_value_set_boolean (value, self->active);
      break;
    case PROP_UNREAD:
      g_value_set_uint (value, self->unread);
      break;
    case PROP_MENTIONS:
      g_value_set_uint (value, self->mentions);
      break;
    case PROP_HOSTED:
      g_value_set_boolean (value, self->hosted);
      break;
    case PROP_SHOW_MEMBERS:
      g_value_set_boolean (value, adw_flap_get_reveal_flap (self->flap));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gc_room_view_set_property (GObject      *object,
                           guint         prop_id,
                           const GValue *value,
                           GParamSpec   *pspec)
{
  GcRoomView *self = GC_ROOM_VIEW (object);

  switch (prop_id)
    {
    case PROP_SESSION:
      set_session (self, g_value_get_object (value));
      break;
    case PROP_ACTIVE:
      gc_room_view_set_active (self, g_value_get_boolean (value));
      break;
    case PROP_SHOW_MEMBERS:
      adw_flap_set_reveal_flap (self->flap, g_value_get_boolean (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

/* ------------------------------------------------------------------ */
/* Keyboard                                                             */
/* ------------------------------------------------------------------ */

/* The newest message on screen (the newest line, unless the person reads
 * further up), or %NULL: where Tab into the messages lands. Not the list's
 * own choice, its first line, which would scroll to the oldest. */
static GtkWidget *
newest_shown_row (GcRoomView *self)
{
  GtkWidget *scroller = GTK_WIDGET (self->message_scroller);
  GtkWidget *newest = NULL;
  float newest_y = 0;

  for (GtkWidget *item = gtk_widget_get_first_child (GTK_WIDGET (self->message_list));
       item != NULL; item = gtk_widget_get_next_sibling (item))
    {
      GtkWidget *row = gtk_widget_get_first_child (item);
      graphene_rect_t bounds;

      /* Not laid out yet (it just came): not on screen either. */
      if (!GC_IS_MESSAGE_ROW (row) || !gtk_widget_get_mapped (row) ||
          gtk_widget_get_height (row) == 0 ||
          !gtk_widget_compute_bounds (row, scroller, &bounds))
        continue;
      if (bounds.origin.y + bounds.size.height <= 0 ||
          bounds.origin.y >= gtk_widget_get_height (scroller))
        continue;
      if (newest == NULL || bounds.origin.y > newest_y)
        {
          newest = row;
          newest_y = bounds.origin.y;
        }
    }
  return newest;
}

/* Tab's stops in the room, in order: the banners' buttons, then where the
 * person writes (text, Send), then what they read (the messages, one
 * stop: the arrows move through them; the "new messages" button), then
 * the members (one stop too). Writing comes before reading although it is drawn below:
 * Tab from the compose box goes to Send and then to the messages, and
 * Shift+Tab comes back the same way. */
static gboolean
gc_room_view_focus (GtkWidget        *widget,
                    GtkDirectionType  direction)
{
  GcRoomView *self = GC_ROOM_VIEW (widget);
  GtkWidget *messages = GTK_WIDGET (self->message_list);
  GtkWidget *members = GTK_WIDGET (self->member_list);
  GtkWidget *stops[] = {
    GTK_WIDGET (self->banner_revealer),
    GTK_WIDGET (self->host_revealer),
    GTK_WIDGET (self->composer),
    messages,
    GTK_WIDGET (self->new_messages_button),
    members,
  };
  GtkWidget *focus = gtk_root_get_focus (gtk_widget_get_root (widget));
  int step, current = -1;

  if (direction != GTK_DIR_TAB_FORWARD && direction != GTK_DIR_TAB_BACKWARD)
    return GTK_WIDGET_CLASS (gc_room_view_parent_class)->focus (widget, direction);

  step = direction == GTK_DIR_TAB_FORWARD ? 1 : -1;
  for (int i = 0; i < (int) G_N_ELEMENTS (stops) && focus != NULL; i++)
    if (focus == stops[i] || gtk_widget_is_ancestor (focus, stops[i]))
      current = i;

  /* Within the stop first (the compose box's text, then Send); the
   * messages and the members are one stop each. */
  if (current >= 0 && stops[current] != messages && stops[current] != members &&
      gtk_widget_child_focus (stops[current], direction))
    return TRUE;
  /* Only a failed line's Retry comes between its line and the next stop,
   * and Shift+Tab from it goes back to the line. */
  if (current >= 0 && stops[current] == messages)
    {
      GtkWidget *row = gtk_widget_get_ancestor (focus, GC_TYPE_MESSAGE_ROW);

      if (row != NULL && step > 0 && focus == row &&
          gc_message_row_focus_retry (GC_MESSAGE_ROW (row)))
        return TRUE;
      if (row != NULL && step < 0 && focus != row && gtk_widget_grab_focus (row))
        return TRUE;
    }

  if (current < 0)
    current = step > 0 ? -1 : (int) G_N_ELEMENTS (stops);
  /* Members hidden (a narrow window), banners away: not mapped. */
  for (int i = current + step; i >= 0 && i < (int) G_N_ELEMENTS (stops); i += step)
    {
      if (!gtk_widget_get_mapped (stops[i]))
        continue;
      if (stops[i] == messages)
        {
          GtkWidget *row = newest_shown_row (self);

          if (row != NULL && gtk_widget_grab_focus (row))
            return TRUE;
        }
      else if (gtk_widget_child_focus (stops[i], direction))
        return TRUE;
    }
  return FALSE;
}

static void
gc_room_view_class_init (GcRoomViewClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = gc_room_view_dispose;
  object_class->get_property = gc_room_view_get_property;
  object_class->set_property = gc_room_view_set_property;
  widget_class->focus = gc_room_view_focus;

  properties[PROP_SESSION] =
    g_param_spec_object ("session", NULL, NULL, GC_TYPE_CHAT_SESSION,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ACTIVE] =
    g_param_spec_boolean ("active", NULL, NULL, FALSE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /* Messages from others not seen yet, and how many of them name us. */
  properties[PROP_UNREAD] =
    g_param_spec_uint ("unread", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_MENTIONS] =
    g_param_spec_uint ("mentions", NULL, NULL, 0, G_MAXUINT, 0,
                       G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_HOSTED] =
    g_param_spec_boolean ("hosted", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  properties[PROP_SHOW_MEMBERS] =
    g_param_spec_boolean ("show-members", NULL, NULL, TRUE,
                          G_PARAM_READWRITE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);

  g_object_class_install_properties (object_class, N_PROPS, properties);

  g_type_ensure (GC_TYPE_MEMBER_LIST);
  g_type_ensure (GC_TYPE_COMPOSER);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gochat/GoChat/gc-room-view.ui");
  gtk_widget_class_bind_template_child (widget_class, GcRoomView, box);
  gtk_widget_class_bind_template_child (widget_class, GcRoomView, banner_revealer);
  gtk_widget_class_bind_template_child (widget_class, GcRoomView, banner_label);
  gtk_widget_class_bind_template_child (widget_class, GcRoomView, reconnect_button);
  gtk_widget_class_bind_template_child (widget_class, GcRoomView, host_revealer);
  gtk_widget_class_bind_template_child (widget_class, GcRoomView, host_title_label);
  gtk_widget_class_bind_template_child (widget_class, GcRoomView, host_addresses_label);
  gtk_widget_class_bind_template_child (widget_class, GcRoomView, flap);
  gtk_widget_class_bind_template_child (widget_class, GcRoomView, message_scroller);
  gtk_widget_class_bind_template_child (widget_class, GcRoomView, message_list);
  gtk_widget_class_bind_template_child (widget_class, GcRoomView, message_factory);
  gtk_widget_class_bind_template_child (widget_class, GcRoomView, empty_label);
  gtk_widget_class_bind_template_child (widget_class, GcRoomView, new_messages_button);
  gtk_widget_class_bind_template_child (widget_class, GcRoomView, typing_label);
  gtk_widget_class_bind_template_child (widget_class, GcRoomView, composer);
  gtk_widget_class_bind_template_child (widget_class, GcRoomView, member_list);
  gtk_widget_class_bind_template_callback (widget_class, new_messages_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, flap_folded_cb);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "roomview");

  gtk_widget_class_install_action (widget_class, "room.send", NULL, send_action);
  gtk_widget_class_install_action (widget_class, "room.retry-message", "s", retry_message_action);
  gtk_widget_class_install_action (widget_class, "room.reconnect", NULL, reconnect_action);
  gtk_widget_class_install_action (widget_class, "room.scroll-to-end", NULL, scroll_to_end_action);
}

static void
gc_room_view_init (GcRoomView *self)
{
  g_autoptr(PangoAttrList) no_breaks = pango_attr_list_new ();

  gtk_widget_init_template (GTK_WIDGET (self));

  /* An address is never split across lines (the lines break only between
   * addresses), unless one alone is wider than the window. */
  pango_attr_list_insert (no_breaks, pango_attr_allow_breaks_new (FALSE));
  gtk_label_set_attributes (self->host_addresses_label, no_breaks);

  g_signal_connect (self->message_factory, "setup", G_CALLBACK (message_setup_cb), self);
  g_signal_connect (self->message_factory, "bind", G_CALLBACK (message_bind_cb), self);
  g_signal_connect (self->message_factory, "unbind", G_CALLBACK (message_unbind_cb), self);

  self->follower = gc_scroll_follower_new (self->message_list, self->message_scroller);
  g_signal_connect_swapped (self->follower, "notify::following", G_CALLBACK (following_cb), self);
  /* Folding hides the members on its own: say so to the header's button. */
  g_signal_connect_swapped (self->flap, "notify::reveal-flap", G_CALLBACK (flap_reveal_cb), self);
  g_signal_connect_swapped (self->composer, "notify::can-send", G_CALLBACK (can_send_cb), self);
}

/* ------------------------------------------------------------------ */
/* Public API                                                           */
/* ------------------------------------------------------------------ */

GtkWidget *
gc_room_view_new (GcChatSession *session)
{
  g_return_val_if_fail (GC_IS_CHAT_SESSION (session), NULL);

  return g_object_new (GC_TYPE_ROOM_VIEW, "session", session, NULL);
}

GcChatSession *
gc_room_view_get_session (GcRoomView *self)
{
  g_return_val_if_fail (GC_IS_ROOM_VIEW (self), NULL);
  return self->session;
}

void
gc_room_view_set_active (GcRoomView *self,
                         gboolean    active)
{
  g_return_if_fail (GC_IS_ROOM_VIEW (self));

  active = !!active;
  if (self->active == active)
    return;

  self->active = active;
  g_object_freeze_notify (G_OBJECT (self));
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ACTIVE]);
  if (active)
    {
      self->was_active = TRUE;
      /* Following the end, the view brings the newest lines in: they are
       * shown. Read further up, they wait for the person to get there. */
      if (following (self))
        {
          clear_unread (self);
          gc_scroll_follower_follow (self->follower);
        }
    }
  else
    {
      /* Lines from now on are new when the person comes back. */
      set_divider_item (self, NULL);
    }
  g_object_thaw_notify (G_OBJECT (self));
}

gboolean
gc_room_view_get_active (GcRoomView *self)
{
  g_return_val_if_fail (GC_IS_ROOM_VIEW (self), FALSE);
  return self->active;
}

guint
gc_room_view_get_unread (GcRoomView *self)
{
  g_return_val_if_fail (GC_IS_ROOM_VIEW (self), 0);
  return self->unread;
}

guint
gc_room_view_get_mentions (GcRoomView *self)
{
  g_return_val_if_fail (GC_IS_ROOM_VIEW (self), 0);
  return self->mentions;
}

void
gc_room_view_set_host_urls (GcRoomView         *self,
                            const char * const *urls)
{
  g_autofree char *joined = NULL;
  g_autofree char *title = NULL;
  gboolean hosted;

  g_return_if_fail (GC_IS_ROOM_VIEW (self));

  hosted = urls != NULL && urls[0] != NULL;
  if (hosted)
    {
      joined = g_strjoinv ("\n", (char **) urls);
      title = g_strdup_printf (_("You host this room on this computer. Others on your network "
                                 "can join room “%s” at:"),
                               gc_chat_session_get_room (self->session));
      gtk_label_set_text (self->host_title_label, title);
      gtk_label_set_text (self->host_addresses_label, joined);
    }
  gtk_revealer_set_reveal_child (self->host_revealer, hosted);

  if (self->hosted != hosted)
    {
      self->hosted = hosted;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_HOSTED]);
    }
}

gboolean
gc_room_view_get_hosted (GcRoomView *self)
{
  g_return_val_if_fail (GC_IS_ROOM_VIEW (self), FALSE);
  return self->hosted;
}

void
gc_room_view_focus_compose (GcRoomView *self)
{
  g_return_if_fail (GC_IS_ROOM_VIEW (self));
  gc_composer_focus (self->composer);
}
