/* gc-member-list.c: the members of the room, beside the messages
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>

#include "gc-room-member.h"
#include "gc-member-list.h"
#include "gc-message-row.h"

struct _GcMemberList
{
  GtkWidget                 parent_instance;

  GListModel               *model;

  GtkWidget                *box;
  GtkLabel                 *title_label;
  GtkListView              *list_view;
  GtkSignalListItemFactory *factory;
};

G_DEFINE_FINAL_TYPE (GcMemberList, gc_member_list, GTK_TYPE_WIDGET)

/* A row's parts, kept on the row box between setup and teardown. */
typedef struct {
  GtkWidget  *dot;
  GtkWidget  *name;
  GtkWidget  *you;
  GtkWidget  *typing;
  const char *color_class;
  GBinding   *name_binding;
  GBinding   *typing_binding;
} MemberRow;

static void
update_title (GcMemberList *self)
{
  guint n = self->model != NULL ? g_list_model_get_n_items (self->model) : 0;
  g_autofree char *title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u member", "%u members", n), n);

  gtk_label_set_text (self->title_label, title);
}

static void
items_changed_cb (GListModel   *model,
                  guint         position,
                  guint         removed,
                  guint         added,
                  GcMemberList *self)
{
  update_title (self);
}

static void
setup_cb (GtkSignalListItemFactory *factory,
          GtkListItem              *list_item,
          GcMemberList             *self)
{
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  MemberRow *row = g_new0 (MemberRow, 1);

  row->dot = gtk_label_new ("●");
  row->name = gtk_label_new (NULL);
  gtk_label_set_xalign (GTK_LABEL (row->name), 0);
  gtk_label_set_ellipsize (GTK_LABEL (row->name), PANGO_ELLIPSIZE_END);
  gtk_widget_set_hexpand (row->name, TRUE);
  row->you = gtk_label_new (_("(you)"));
  gtk_widget_add_css_class (row->you, "dim-label");
  row->typing = gtk_label_new (_("typing…"));
  gtk_widget_add_css_class (row->typing, "dim-label");
  gtk_widget_add_css_class (row->typing, "typing");

  gtk_box_append (GTK_BOX (box), row->dot);
  gtk_box_append (GTK_BOX (box), row->name);
  gtk_box_append (GTK_BOX (box), row->typing);
  gtk_box_append (GTK_BOX (box), row->you);
  gtk_widget_add_css_class (box, "member-row");
  /* The row takes the focus (its list item cannot: nothing here is
   * selectable), so Tab reaches the members with a focus ring. */
  gtk_widget_set_focusable (box, TRUE);

  g_object_set_data_full (G_OBJECT (box), "gc-member-row", row, g_free);
  gtk_list_item_set_child (list_item, box);
  gtk_list_item_set_activatable (list_item, FALSE);
  gtk_list_item_set_selectable (list_item, FALSE);
}

static void
bind_cb (GtkSignalListItemFactory *factory,
         GtkListItem              *list_item,
         GcMemberList             *self)
{
  GtkWidget *box = gtk_list_item_get_child (list_item);
  MemberRow *row = g_object_get_data (G_OBJECT (box), "gc-member-row");
  GcRoomMember *member = gtk_list_item_get_item (list_item);
  gboolean own = gc_room_member_get_own (member);

  row->color_class = gc_sender_color_class (gc_room_member_get_color_key (member));
  gtk_widget_add_css_class (row->dot, row->color_class);
  gtk_widget_set_visible (row->you, own);
  if (own)
    gtk_widget_add_css_class (box, "own");
  else
    gtk_widget_remove_css_class (box, "own");

  row->name_binding = g_object_bind_property (member, "name", row->name, "label",
                                              G_BINDING_SYNC_CREATE);
  row->typing_binding = g_object_bind_property (member, "typing", row->typing, "visible",
                                                G_BINDING_SYNC_CREATE);
}

static void
unbind_cb (GtkSignalListItemFactory *factory,
           GtkListItem              *list_item,
           GcMemberList             *self)
{
  GtkWidget *box = gtk_list_item_get_child (list_item);
  MemberRow *row = g_object_get_data (G_OBJECT (box), "gc-member-row");

  if (row->color_class != NULL)
    gtk_widget_remove_css_class (row->dot, row->color_class);
  row->color_class = NULL;
  g_clear_pointer (&row->name_binding, g_binding_unbind);
  g_clear_pointer (&row->typing_binding, g_binding_unbind);
}

GtkWidget *
gc_member_list_new (void)
{
  return g_object_new (GC_TYPE_MEMBER_LIST, NULL);
}

void
gc_member_list_set_model (GcMemberList *self,
                          GListModel   *model)
{
  g_autoptr(GtkNoSelection) selection = NULL;

  g_return_if_fail (GC_IS_MEMBER_LIST (self));
  g_return_if_fail (model == NULL || G_IS_LIST_MODEL (model));

  if (self->model == model)
    return;

  if (self->model != NULL)
    g_signal_handlers_disconnect_by_func (self->model, items_changed_cb, self);
  g_set_object (&self->model, model);
  if (model != NULL)
    {
      g_signal_connect (model, "items-changed", G_CALLBACK (items_changed_cb), self);
      selection = gtk_no_selection_new (g_object_ref (model));
    }

  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (selection));
  update_title (self);
}

GListModel *
gc_member_list_get_model (GcMemberList *self)
{
  g_return_val_if_fail (GC_IS_MEMBER_LIST (self), NULL);
  return self->model;
}

static void
gc_member_list_dispose (GObject *object)
{
  GcMemberList *self = GC_MEMBER_LIST (object);

  if (self->list_view != NULL)
    gc_member_list_set_model (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), GC_TYPE_MEMBER_LIST);

  G_OBJECT_CLASS (gc_member_list_parent_class)->dispose (object);
}

static void
gc_member_list_class_init (GcMemberListClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = gc_member_list_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gochat/GoChat/gc-member-list.ui");
  gtk_widget_class_bind_template_child (widget_class, GcMemberList, box);
  gtk_widget_class_bind_template_child (widget_class, GcMemberList, title_label);
  gtk_widget_class_bind_template_child (widget_class, GcMemberList, list_view);
  gtk_widget_class_bind_template_child (widget_class, GcMemberList, factory);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "memberlist");
}

static void
gc_member_list_init (GcMemberList *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect (self->factory, "setup", G_CALLBACK (setup_cb), self);
  g_signal_connect (self->factory, "bind", G_CALLBACK (bind_cb), self);
  g_signal_connect (self->factory, "unbind", G_CALLBACK (unbind_cb), self);
  update_title (self);
}
