/* gc-message-row.c: the widget that shows one GcMessageItem in the list
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>

#include "gc-message-row.h"
#include "gc-text-markup.h"

struct _GcMessageRow
{
  GtkWidget      parent_instance;

  GcMessageItem *item;
  const char    *color_class;
  gboolean       compact;

  GtkWidget     *divider;
  GtkWidget     *box;
  GtkWidget     *header_box;
  GtkLabel      *time_label;
  GtkLabel      *sender_label;
  GtkLabel      *text_label;
  GtkWidget     *failure_box;
  GtkLabel      *error_label;
  GtkWidget     *retry_button;
};

G_DEFINE_FINAL_TYPE (GcMessageRow, gc_message_row, GTK_TYPE_WIDGET)

static const char * const color_classes[GC_SENDER_COLOR_COUNT] = {
  "sender-color-0", "sender-color-1", "sender-color-2", "sender-color-3",
  "sender-color-4", "sender-color-5", "sender-color-6", "sender-color-7",
  "sender-color-8", "sender-color-9", "sender-color-10", "sender-color-11",
};

const char *
gc_sender_color_class (const char *user_id)
{
  g_return_val_if_fail (user_id != NULL, NULL);

  /* g_str_hash is djb2: stable across runs and platforms. */
  return color_classes[g_str_hash (user_id) % GC_SENDER_COLOR_COUNT];
}

static void
update_time (GcMessageRow *self)
{
  g_autoptr(GDateTime) time = NULL;
  g_autofree char *short_text = NULL;
  g_autofree char *long_text = NULL;
  gint64 ts = gc_message_item_get_ts (self->item);

  time = g_date_time_new_from_unix_local (ts / 1000);
  if (time == NULL)
    {
      gtk_label_set_text (self->time_label, "");
      return;
    }
  short_text = g_date_time_format (time, "%H:%M");
  long_text = g_date_time_format (time, "%c");
  gtk_label_set_text (self->time_label, short_text);
  gtk_widget_set_tooltip_text (GTK_WIDGET (self->time_label), long_text);
}

/* What assistive technology says for the row: who said what, then when
 * and how it stands. */
static void
update_accessible (GcMessageRow *self)
{
  GcMessageItem *item = self->item;
  g_autofree char *label = NULL;
  g_autofree char *description = NULL;
  const char *time = gtk_label_get_text (self->time_label);
  const char *name = gc_message_item_get_sender_name (item);

  switch (gc_message_item_get_kind (item))
    {
    case GC_MESSAGE_ITEM_SYSTEM:
      label = g_strdup (gc_message_item_get_text (item));
      break;
    case GC_MESSAGE_ITEM_EMOTE:
      label = g_strdup_printf ("%s %s", name != NULL ? name : "", gc_message_item_get_text (item));
      break;
    case GC_MESSAGE_ITEM_TEXT:
    default:
      /* Translators: a message as a screen reader reads it: sender, then text. */
      label = g_strdup_printf (_("%s: %s"), name != NULL ? name : "", gc_message_item_get_text (item));
      break;
    }

  switch (gc_message_item_get_state (item))
    {
    case GC_MESSAGE_ITEM_PENDING:
    case GC_MESSAGE_ITEM_QUEUED:
      /* Translators: a message's time, and that it is still being sent. */
      description = g_strdup_printf (_("%s, sending"), time);
      break;
    case GC_MESSAGE_ITEM_FAILED:
      /* Translators: a message's time, and why it was not sent. */
      description = g_strdup_printf (_("%s, not sent: %s"), time, gc_message_item_get_error (item));
      break;
    case GC_MESSAGE_ITEM_DELIVERED:
    default:
      description = gc_message_item_get_mention (item)
                    /* Translators: a message's time, and that it names you. */
                    ? g_strdup_printf (_("%s, mentions you"), time)
                    : g_strdup (time);
      break;
    }

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  GTK_ACCESSIBLE_PROPERTY_DESCRIPTION, description,
                                  -1);
}

static void
update_state (GcMessageRow *self)
{
  GcMessageItemState state = gc_message_item_get_state (self->item);
  GtkWidget *widget = GTK_WIDGET (self);

  if (state == GC_MESSAGE_ITEM_PENDING || state == GC_MESSAGE_ITEM_QUEUED)
    gtk_widget_add_css_class (widget, "pending");
  else
    gtk_widget_remove_css_class (widget, "pending");
  /* Waiting for the rate limit or the connection, not yet sent. */
  if (state == GC_MESSAGE_ITEM_QUEUED)
    gtk_widget_add_css_class (widget, "queued");
  else
    gtk_widget_remove_css_class (widget, "queued");

  if (state == GC_MESSAGE_ITEM_FAILED)
    {
      const char *client_id = gc_message_item_get_client_id (self->item);

      gtk_widget_add_css_class (widget, "failed");
      gtk_label_set_text (self->error_label, gc_message_item_get_error (self->item));
      /* Target first: the action takes a string and must never see none. */
      gtk_actionable_set_action_target (GTK_ACTIONABLE (self->retry_button), "s",
                                        client_id != NULL ? client_id : "");
      gtk_actionable_set_action_name (GTK_ACTIONABLE (self->retry_button), "room.retry-message");
      gtk_widget_set_visible (self->failure_box, TRUE);
    }
  else
    {
      gtk_widget_remove_css_class (widget, "failed");
      gtk_widget_set_visible (self->failure_box, FALSE);
    }

  gtk_widget_set_tooltip_text (GTK_WIDGET (self->text_label),
                               state == GC_MESSAGE_ITEM_PENDING || state == GC_MESSAGE_ITEM_QUEUED
                               ? _("Sending…") : NULL);
  update_accessible (self);
}

static void
item_notify_cb (GcMessageItem *item,
                GParamSpec    *pspec,
                GcMessageRow  *self)
{
  if (g_str_equal (pspec->name, "ts"))
    {
      update_time (self);
      update_accessible (self);
    }
  else
    update_state (self);
}

/* A system line's "•" marks the column of names; above the text (compact)
 * it would stand alone: only the time is there. */
static void
update_bullet (GcMessageRow *self)
{
  gboolean system = self->item != NULL &&
                    gc_message_item_get_kind (self->item) == GC_MESSAGE_ITEM_SYSTEM;

  gtk_widget_set_visible (GTK_WIDGET (self->sender_label), !(self->compact && system));
}

static void
set_kind_classes (GcMessageRow      *self,
                  GcMessageItemKind  kind)
{
  GtkWidget *widget = GTK_WIDGET (self);

  gtk_widget_remove_css_class (widget, "system");
  gtk_widget_remove_css_class (widget, "emote");
  gtk_widget_remove_css_class (widget, "own");
  gtk_widget_remove_css_class (widget, "mention");
  gtk_widget_remove_css_class (widget, "pending");
  gtk_widget_remove_css_class (widget, "failed");

  if (kind == GC_MESSAGE_ITEM_SYSTEM)
    gtk_widget_add_css_class (widget, "system");
  else if (kind == GC_MESSAGE_ITEM_EMOTE)
    gtk_widget_add_css_class (widget, "emote");
}

void
gc_message_row_set_item (GcMessageRow  *self,
                         GcMessageItem *item)
{
  GcMessageItemKind kind;
  const char *sender_id;
  g_autofree char *markup = NULL;

  g_return_if_fail (GC_IS_MESSAGE_ROW (self));
  g_return_if_fail (item == NULL || GC_IS_MESSAGE_ITEM (item));

  if (self->item == item)
    return;

  if (self->item != NULL)
    g_signal_handlers_disconnect_by_func (self->item, item_notify_cb, self);
  g_set_object (&self->item, item);

  if (self->color_class != NULL)
    {
      gtk_widget_remove_css_class (GTK_WIDGET (self->sender_label), self->color_class);
      self->color_class = NULL;
    }

  if (item == NULL)
    {
      gtk_label_set_text (self->time_label, "");
      gtk_label_set_text (self->sender_label, "");
      gtk_label_set_text (self->text_label, "");
      gtk_widget_set_visible (self->failure_box, FALSE);
      gtk_accessible_reset_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_LABEL);
      gtk_accessible_reset_property (GTK_ACCESSIBLE (self), GTK_ACCESSIBLE_PROPERTY_DESCRIPTION);
      return;
    }

  kind = gc_message_item_get_kind (item);
  set_kind_classes (self, kind);
  if (gc_message_item_get_own (item))
    gtk_widget_add_css_class (GTK_WIDGET (self), "own");
  if (gc_message_item_get_mention (item))
    gtk_widget_add_css_class (GTK_WIDGET (self), "mention");

  sender_id = gc_message_item_get_sender_id (item);
  if (kind != GC_MESSAGE_ITEM_SYSTEM && sender_id != NULL)
    {
      self->color_class = gc_sender_color_class (gc_message_item_get_color_key (item));
      gtk_widget_add_css_class (GTK_WIDGET (self->sender_label), self->color_class);
    }

  /* Names and system lines are plain text; only the chat text goes
   * through markup, built so that none of it is read as markup. */
  if (kind == GC_MESSAGE_ITEM_SYSTEM)
    {
      gtk_label_set_text (self->sender_label, "•");
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->sender_label), NULL);
      gtk_label_set_use_markup (self->text_label, FALSE);
      gtk_label_set_text (self->text_label, gc_message_item_get_text (item));
    }
  else
    {
      const char *name = gc_message_item_get_sender_name (item);

      gtk_label_set_text (self->sender_label, name != NULL ? name : "");
      gtk_widget_set_tooltip_text (GTK_WIDGET (self->sender_label), name);
      markup = gc_text_to_markup (gc_message_item_get_text (item));
      gtk_label_set_markup (self->text_label, markup);
    }

  update_time (self);
  update_bullet (self);
  update_state (self);
  g_signal_connect (item, "notify", G_CALLBACK (item_notify_cb), self);
}

GcMessageItem *
gc_message_row_get_item (GcMessageRow *self)
{
  g_return_val_if_fail (GC_IS_MESSAGE_ROW (self), NULL);
  return self->item;
}

/* Wide, the time and the name are columns beside the text; compact (a
 * narrow window), they are one line above it, and the text gets the
 * width. The labels move between the two places. */
void
gc_message_row_set_compact (GcMessageRow *self,
                            gboolean      compact)
{
  GtkWidget *time = GTK_WIDGET (self->time_label);
  GtkWidget *sender = GTK_WIDGET (self->sender_label);

  g_return_if_fail (GC_IS_MESSAGE_ROW (self));

  compact = !!compact;
  if (self->compact == compact)
    return;
  self->compact = compact;

  g_object_ref (time);
  g_object_ref (sender);
  gtk_box_remove (GTK_BOX (gtk_widget_get_parent (time)), time);
  gtk_box_remove (GTK_BOX (gtk_widget_get_parent (sender)), sender);
  if (compact)
    {
      gtk_box_append (GTK_BOX (self->header_box), sender);
      gtk_box_append (GTK_BOX (self->header_box), time);
    }
  else
    {
      gtk_box_prepend (GTK_BOX (self->box), sender);
      gtk_box_prepend (GTK_BOX (self->box), time);
    }
  g_object_unref (time);
  g_object_unref (sender);

  /* A column of right-aligned names; above the text, the name as long
   * as it is (within reason), then the time. */
  gtk_label_set_xalign (self->sender_label, compact ? 0 : 1);
  gtk_label_set_width_chars (self->sender_label, compact ? -1 : 12);
  gtk_label_set_max_width_chars (self->sender_label, compact ? 24 : 12);
  gtk_widget_set_visible (self->header_box, compact);
  update_bullet (self);
}

gboolean
gc_message_row_get_compact (GcMessageRow *self)
{
  g_return_val_if_fail (GC_IS_MESSAGE_ROW (self), FALSE);
  return self->compact;
}

/* Puts the focus on a failed line's Retry, if it has one (Tab from the
 * line: the messages are one Tab stop, but Retry must be reachable). */
gboolean
gc_message_row_focus_retry (GcMessageRow *self)
{
  g_return_val_if_fail (GC_IS_MESSAGE_ROW (self), FALSE);

  return gtk_widget_is_visible (self->retry_button) &&
         gtk_widget_grab_focus (self->retry_button);
}

/* Marks this row as the first line not read yet (Polari's divider). */
void
gc_message_row_set_unread_divider (GcMessageRow *self,
                                   gboolean      divider)
{
  g_return_if_fail (GC_IS_MESSAGE_ROW (self));
  gtk_widget_set_visible (self->divider, divider);
}

GtkWidget *
gc_message_row_new (void)
{
  return g_object_new (GC_TYPE_MESSAGE_ROW, NULL);
}

static void
gc_message_row_dispose (GObject *object)
{
  GcMessageRow *self = GC_MESSAGE_ROW (object);

  gc_message_row_set_item (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), GC_TYPE_MESSAGE_ROW);

  G_OBJECT_CLASS (gc_message_row_parent_class)->dispose (object);
}

static void
gc_message_row_class_init (GcMessageRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = gc_message_row_dispose;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/gochat/GoChat/gc-message-row.ui");
  gtk_widget_class_bind_template_child (widget_class, GcMessageRow, divider);
  gtk_widget_class_bind_template_child (widget_class, GcMessageRow, box);
  gtk_widget_class_bind_template_child (widget_class, GcMessageRow, header_box);
  gtk_widget_class_bind_template_child (widget_class, GcMessageRow, time_label);
  gtk_widget_class_bind_template_child (widget_class, GcMessageRow, sender_label);
  gtk_widget_class_bind_template_child (widget_class, GcMessageRow, text_label);
  gtk_widget_class_bind_template_child (widget_class, GcMessageRow, failure_box);
  gtk_widget_class_bind_template_child (widget_class, GcMessageRow, error_label);
  gtk_widget_class_bind_template_child (widget_class, GcMessageRow, retry_button);
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BOX_LAYOUT);
  gtk_widget_class_set_css_name (widget_class, "messagerow");
  /* One unit for assistive technology, named by sender and text. */
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
gc_message_row_init (GcMessageRow *self)
{
  gtk_orientable_set_orientation (GTK_ORIENTABLE (gtk_widget_get_layout_manager (GTK_WIDGET (self))),
                                  GTK_ORIENTATION_VERTICAL);
  gtk_widget_init_template (GTK_WIDGET (self));
  /* The line itself takes the focus (its list item cannot: nothing in the
   * list is selectable), so Tab and the arrows land on lines a screen
   * reader then reads, with a focus ring, and never on a hidden Retry. */
  gtk_widget_set_focusable (GTK_WIDGET (self), TRUE);
}
