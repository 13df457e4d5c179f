/* gc-room-row.c: a room in the window's sidebar, with unread count and mention marker
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>

#include "gc-room-row.h"

/* Counts above this show as "999+". */
#define MAX_SHOWN_COUNT 999

struct _GcRoomRow
{
  GtkListBoxRow  parent_instance;

  GcRoomView    *view;

  GtkLabel      *title_label;
  GtkLabel      *subtitle_label;
  GtkWidget     *hosted_icon;
  GtkWidget     *offline_icon;
  GtkLabel      *mention_badge;
  GtkLabel      *unread_badge;
};

G_DEFINE_FINAL_TYPE (GcRoomRow, gc_room_row, GTK_TYPE_LIST_BOX_ROW)

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
  if (unread > 0)
    gtk_widget_add_css_class (GTK_WIDGET (self), "unread");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "unread");
  if (mentions > 0)
    gtk_widget_add_css_class (GTK_WIDGET (self), "mentioned");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self), "mentioned");

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
  gtk_widget_set_tooltip_text (GTK_WIDGET (self), gc_chat_session_get_server_url (session));
}

static void
changed_cb (GObject    *object,
            GParamSpec *pspec,
            GcRoomRow  *self)
{
  update (self);
}

static GtkLabel *
new_label (const char *css_class,
           float       xalign)
{
  GtkWidget *label = gtk_label_new (NULL);

  gtk_label_set_xalign (GTK_LABEL (label), xalign);
  gtk_label_set_ellipsize (GTK_LABEL (label), PANGO_ELLIPSIZE_END);
  gtk_widget_add_css_class (label, css_class);
  return GTK_LABEL (label);
}

static GtkWidget *
new_icon (const char *icon_name,
          const char *tooltip)
{
  GtkWidget *icon = g_object_new (GTK_TYPE_IMAGE,
                                  "icon-name", icon_name,
                                  "accessible-role", GTK_ACCESSIBLE_ROLE_PRESENTATION,
                                  NULL);

  gtk_widget_set_tooltip_text (icon, tooltip);
  gtk_widget_add_css_class (icon, "dim-label");
  return icon;
}

static void
gc_room_row_dispose (GObject *object)
{
  GcRoomRow *self = GC_ROOM_ROW (object);

  g_clear_object (&self->view);

  G_OBJECT_CLASS (gc_room_row_parent_class)->dispose (object);
}

static void
gc_room_row_class_init (GcRoomRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gc_room_row_dispose;
}

static void
gc_room_row_init (GcRoomRow *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *text = gtk_box_new (GTK_ORIENTATION_VERTICAL, 0);

  self->title_label = new_label ("room-title", 0);
  self->subtitle_label = new_label ("room-subtitle", 0);
  gtk_widget_add_css_class (GTK_WIDGET (self->subtitle_label), "dim-label");
  gtk_widget_set_hexpand (text, TRUE);
  gtk_box_append (GTK_BOX (text), GTK_WIDGET (self->title_label));
  gtk_box_append (GTK_BOX (text), GTK_WIDGET (self->subtitle_label));

  self->hosted_icon = new_icon ("network-server-symbolic", _("Hosted on this computer"));
  self->offline_icon = new_icon ("network-offline-symbolic", _("Not connected"));
  self->mention_badge = new_label ("mention-badge", 0.5);
  gtk_label_set_text (self->mention_badge, "@");
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->mention_badge), _("Someone mentioned you"));
  self->unread_badge = new_label ("unread-badge", 0.5);
  gtk_widget_add_css_class (GTK_WIDGET (self->unread_badge), "numeric");
  gtk_widget_set_valign (GTK_WIDGET (self->mention_badge), GTK_ALIGN_CENTER);
  gtk_widget_set_valign (GTK_WIDGET (self->unread_badge), GTK_ALIGN_CENTER);

  gtk_box_append (GTK_BOX (box), text);
  gtk_box_append (GTK_BOX (box), self->hosted_icon);
  gtk_box_append (GTK_BOX (box), self->offline_icon);
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->mention_badge));
  gtk_box_append (GTK_BOX (box), GTK_WIDGET (self->unread_badge));
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (self), box);
  gtk_widget_add_css_class (GTK_WIDGET (self), "room-row");
}

GtkWidget *
gc_room_row_new (GcRoomView *view)
{
  GcRoomRow *self;
  GcChatSession *session;

  g_return_val_if_fail (GC_IS_ROOM_VIEW (view), NULL);

  self = g_object_new (GC_TYPE_ROOM_ROW, NULL);
  self->view = g_object_ref (view);
  session = gc_room_view_get_session (view);

  g_signal_connect_object (view, "notify::unread", G_CALLBACK (changed_cb), self, 0);
  g_signal_connect_object (view, "notify::mentions", G_CALLBACK (changed_cb), self, 0);
  g_signal_connect_object (view, "notify::hosted", G_CALLBACK (changed_cb), self, 0);
  g_signal_connect_object (session, "notify::state", G_CALLBACK (changed_cb), self, 0);
  g_signal_connect_object (session, "notify::user-name", G_CALLBACK (changed_cb), self, 0);
  update (self);

  return GTK_WIDGET (self);
}

GcRoomView *
gc_room_row_get_view (GcRoomRow *self)
{
  g_return_val_if_fail (GC_IS_ROOM_ROW (self), NULL);
  return self->view;
}

const char *
gc_room_row_get_badge_text (GcRoomRow *self)
{
  g_return_val_if_fail (GC_IS_ROOM_ROW (self), NULL);
  return gtk_label_get_text (self->unread_badge);
}

gboolean
gc_room_row_get_mentioned (GcRoomRow *self)
{
  g_return_val_if_fail (GC_IS_ROOM_ROW (self), FALSE);
  return gtk_widget_get_visible (GTK_WIDGET (self->mention_badge));
}
