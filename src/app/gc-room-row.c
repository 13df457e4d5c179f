/* gc-room-row.c: a room in the window's sidebar (gc-room-row.ui), with unread count and mention marker
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>

#include "gc-room-row.h"

/* Counts above this show as "999+". */
#define MAX_SHOWN_COUNT 999

struct _GcRoomRow
{
  GtkWidget      parent_instance;

  GcRoomView    *view;

  GtkWidget     *text_box;
  GtkLabel      *title_label;
  GtkLabel      *subtitle_label;
  GtkWidget     *hosted_icon;
  GtkWidget     *offline_icon;
  GtkLabel      *mention_badge;
  GtkLabel      *unread_badge;
  GtkWidget     *menu;          /* made on first use */
};

enum {
  PROP_0,
  PROP_VIEW,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

G_DEFINE_FINAL_TYPE (GcRoomRow, gc_room_row, GTK_TYPE_WIDGET)

static void
set_class (GtkWidget  *widget,
           const char *css_class,
           gboolean    set)
{
  if (set)
    gtk_widget_add_css_class (widget, css_class);
  else
    gtk_widget_remove_css_class (widget, css_class);
}

static void
update (GcRoomRow *self)
{
  GcChatSession *session = gc_room_view_get_session (self->view);
  GcChatSessionState state = gc_chat_session_get_state (session);
  guint unread = gc_room_view_get_unread (self->view);
  guint mentions = gc_room_view_get_mentions (self->view);
  gboolean hosted = gc_room_view_get_hosted (self->view);
  gboolean offline = state != GC_CHAT_SESSION_STATE_CONNECTED;
  g_autofree char *title = g_strdup_printf ("#%s", gc_chat_session_get_room (session));
  g_autofree char *subtitle = NULL;
  g_autofree char *count = NULL;
  g_autoptr(GUri) uri = g_uri_parse (gc_chat_session_get_server_url (session), G_URI_FLAGS_NONE, NULL);
  g_autoptr(GString) description = g_string_new (title);

  if (hosted)
    subtitle = g_strdup_printf (_("%s · this computer"), gc_chat_session_get_user_name (session));
  else
    /* Translators: your name in the room · the server's host name. */
    subtitle = g_strdup_printf (_("%s · %s"), gc_chat_session_get_user_name (session),
                                uri != NULL && g_uri_get_host (uri) != NULL
                                ? g_uri_get_host (uri) : gc_chat_session_get_server_url (session));

  if (unread > MAX_SHOWN_COUNT)
    count = g_strdup_printf ("%u+", MAX_SHOWN_COUNT);
  else
    count = g_strdup_printf ("%u", unread);

  gtk_label_set_text (self->title_label, title);
  gtk_label_set_text (self->subtitle_label, subtitle);
  gtk_label_set_text (self->unread_badge, unread > 0 ? count : "");
  gtk_widget_set_visible (GTK_WIDGET (self->unread_badge), unread > 0);
  gtk_widget_set_visible (GTK_WIDGET (self->mention_badge), mentions > 0);
  gtk_widget_set_visible (self->hosted_icon, hosted);
  gtk_widget_set_visible (self->offline_icon, offline);
  set_class (GTK_WIDGET (self), "unread", unread > 0);
  set_class (GTK_WIDGET (self), "mentioned", mentions > 0);

  /* What a screen reader says for the row: the badges are pictures. */
  g_string_append_printf (description, ", %s", subtitle);
  if (unread > 0)
    {
      g_string_append (description, ", ");
      g_string_append_printf (description,
                              g_dngettext (GETTEXT_PACKAGE, "%u unread message",
                                           "%u unread messages", unread),
                              unread);
    }
  if (mentions > 0)
    {
      g_string_append (description, ", ");
      g_string_append (description, _("mentions you"));
    }
  if (offline)
    {
      g_string_append (description, ", ");
      g_string_append (description, _("not connected"));
    }
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, description->str,
                                  -1);
  /* The list item around the row is what takes the focus, so it is what
   * a screen reader announces: it gets the same name (GTK 4.8 has no
   * gtk_list_item_set_accessible_label()). */
  if (gtk_widget_get_parent (GTK_WIDGET (self)) != NULL)
    gtk_accessible_update_property (GTK_ACCESSIBLE (gtk_widget_get_parent (GTK_WIDGET (self))),
                                    GTK_ACCESSIBLE_PROPERTY_LABEL, description->str,
                                    -1);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), gc_chat_session_get_server_url (session));
}

static void
changed_cb (GObject    *object,
            GParamSpec *pspec,
            GcRoomRow  *self)
{
  update (self);
}

static void
disconnect_view (GcRoomRow *self)
{
  if (self->view == NULL)
    return;
  g_signal_handlers_disconnect_by_data (self->view, self);
  g_signal_handlers_disconnect_by_data (gc_room_view_get_session (self->view), self);
  g_clear_object (&self->view);
}

/* The room's menu (a right click, a long press, Shift+F10 or the Menu
 * key in the sidebar): what can be done to this room without showing it.
 * At @x, @y in the row, or below it with a negative @x. */
static void
popup_menu (GcRoomRow *self,
            double     x,
            double     y)
{
  GcChatSession *session;
  g_autoptr(GMenu) menu = NULL;
  g_autoptr(GMenuItem) leave = NULL;
  GdkRectangle at = { 0, 0, gtk_widget_get_width (GTK_WIDGET (self)), gtk_widget_get_height (GTK_WIDGET (self)) };

  if (self->view == NULL)
    return;

  session = gc_room_view_get_session (self->view);
  menu = g_menu_new ();
  leave = g_menu_item_new (_("_Leave Room"), NULL);
  g_menu_item_set_action_and_target (leave, "win.leave-open-room", "(ss)",
                                     gc_chat_session_get_server_url (session),
                                     gc_chat_session_get_room (session));
  g_menu_append_item (menu, leave);

  /* An open menu follows its row without a size_allocate here: GTK's
   * layout managers (the row's GtkBoxLayout) present popover children on
   * every allocation, which is what GtkMenuButton's size_allocate does by
   * hand, and a popover follows its parent's moves by itself. Tested by
   * /app/sidebar/menu-follows-row. */
  if (self->menu == NULL)
    {
      self->menu = gtk_popover_menu_new_from_model (NULL);
      gtk_widget_set_parent (self->menu, GTK_WIDGET (self));
      gtk_popover_set_has_arrow (GTK_POPOVER (self->menu), FALSE);
      gtk_widget_set_halign (self->menu, GTK_ALIGN_START);
    }
  gtk_popover_menu_set_menu_model (GTK_POPOVER_MENU (self->menu), G_MENU_MODEL (menu));
  if (x >= 0)
    at = (GdkRectangle) { (int) x, (int) y, 1, 1 };
  gtk_popover_set_pointing_to (GTK_POPOVER (self->menu), &at);
  gtk_popover_popup (GTK_POPOVER (self->menu));
}

static void
menu_popup_action (GtkWidget  *widget,
                   const char *action_name,
                   GVariant   *parameter)
{
  popup_menu (GC_ROOM_ROW (widget), -1, -1);
}

static void
secondary_click_cb (GtkGestureClick *gesture,
                    int              n_press,
                    double           x,
                    double           y,
                    GcRoomRow       *self)
{
  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
  popup_menu (self, x, y);
}

static void
long_press_cb (GtkGestureLongPress *gesture,
               double               x,
               double               y,
               GcRoomRow           *self)
{
  gtk_gesture_set_state (GTK_GESTURE (gesture), GTK_EVENT_SEQUENCE_CLAIMED);
  popup_menu (self, x, y);
}

static void
gc_room_row_dispose (GObject *object)
{
  GcRoomRow *self = GC_ROOM_ROW (object);

  g_clear_pointer (&self->menu, gtk_widget_unparent);
  disconnect_view (self);
  gtk_widget_dispose_template (GTK_WIDGET (self), GC_TYPE_ROOM_ROW);

  G_OBJECT_CLASS (gc_room_row_parent_class)->dispose (object);
}

static void
gc_room_row_get_property (GObject    *object,
                          guint       prop_id,
                          GValue     *value,
                          GParamSpec *pspec)
{
  GcRoomRow *self = GC_ROOM_ROW (object);

  switch (prop_id)
    {
    case PROP_VIEW:
      g_value_set_object (value, self->view);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gc_room_row_set_property (GObject      *object,
                          guint         prop_id,
                          const GValue *value,
                          GParamSpec   *pspec)
{
  GcRoomRow *self = GC_ROOM_ROW (object);

  switch (prop_id)
    {
    case PROP_VIEW:
      gc_room_row_set_view (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gc_room_row_class_init (GcRoomRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = gc_room_row_dispose;
  object_class->get_property = gc_room_row_get_property;
  object_class->set_property = gc_room_row_set_property;

  properties[PROP_VIEW] =
    g_param_spec_object ("view", NULL, NULL, GC_TYPE_ROOM_VIEW,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gochat/GoChat/gc-room-row.ui");
  gtk_widget_class_bind_template_child (widget_class, GcRoomRow, text_box);
  gtk_widget_class_bind_template_child (widget_class, GcRoomRow, title_label);
  gtk_widget_class_bind_template_child (widget_class, GcRoomRow, subtitle_label);
  gtk_widget_class_bind_template_child (widget_class, GcRoomRow, hosted_icon);
  gtk_widget_class_bind_template_child (widget_class, GcRoomRow, offline_icon);
  gtk_widget_class_bind_template_child (widget_class, GcRoomRow, mention_badge);
  gtk_widget_class_bind_template_child (widget_class, GcRoomRow, unread_badge);
  gtk_widget_class_set_css_name (widget_class, "roomrow");
  gtk_widget_class_install_action (widget_class, "menu.popup", NULL, menu_popup_action);
  /* Named as a whole (its label), like a message row. */
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
gc_room_row_init (GcRoomRow *self)
{
  GtkGesture *click = gtk_gesture_click_new ();
  GtkGesture *long_press = gtk_gesture_long_press_new ();

  gtk_widget_init_template (GTK_WIDGET (self));

  gtk_gesture_single_set_button (GTK_GESTURE_SINGLE (click), GDK_BUTTON_SECONDARY);
  g_signal_connect (click, "pressed", G_CALLBACK (secondary_click_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (click));
  gtk_gesture_single_set_touch_only (GTK_GESTURE_SINGLE (long_press), TRUE);
  g_signal_connect (long_press, "pressed", G_CALLBACK (long_press_cb), self);
  gtk_widget_add_controller (GTK_WIDGET (self), GTK_EVENT_CONTROLLER (long_press));
}

GtkWidget *
gc_room_row_new (void)
{
  return g_object_new (GC_TYPE_ROOM_ROW, NULL);
}

void
gc_room_row_set_view (GcRoomRow  *self,
                      GcRoomView *view)
{
  GcChatSession *session;

  g_return_if_fail (GC_IS_ROOM_ROW (self));
  g_return_if_fail (view == NULL || GC_IS_ROOM_VIEW (view));

  if (self->view == view)
    return;

  disconnect_view (self);
  if (view == NULL)
    {
      /* Unbound: the list item may be reused for another room, and must
       * not be announced as this one meanwhile. */
      gtk_accessible_reset_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL);
      gtk_widget_set_tooltip_text (GTK_WIDGET (self), NULL);
      if (gtk_widget_get_parent (GTK_WIDGET (self)) != NULL)
        gtk_accessible_reset_property (GTK_ACCESSIBLE (gtk_widget_get_parent (GTK_WIDGET (self))),
                                       GTK_ACCESSIBLE_PROPERTY_LABEL);
    }
  else
    {
      self->view = g_object_ref (view);
      session = gc_room_view_get_session (view);
      g_signal_connect_object (view, "notify::unread", G_CALLBACK (changed_cb), self, 0);
      g_signal_connect_object (view, "notify::mentions", G_CALLBACK (changed_cb), self, 0);
      g_signal_connect_object (view, "notify::hosted", G_CALLBACK (changed_cb), self, 0);
      g_signal_connect_object (session, "notify::state", G_CALLBACK (changed_cb), self, 0);
      g_signal_connect_object (session, "notify::user-name", G_CALLBACK (changed_cb), self, 0);
      update (self);
    }
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_VIEW]);
}

GcRoomView *
gc_room_row_get_view (GcRoomRow *self)
{
  g_return_val_if_fail (GC_IS_ROOM_ROW (self), NULL);
  return self->view;
}
