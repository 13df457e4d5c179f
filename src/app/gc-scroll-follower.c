/* gc-scroll-follower.c: keeps a list view's newest item in view while the person follows the end
 *
 * GTK 4.8's list view only estimates the heights of rows it has not
 * built, so "upper − page size" is a guess: setting the adjustment there
 * while rows are arriving anchors the list to whichever row the guess
 * lands on (often the oldest), while the scrollbar claims the end and
 * cannot go further. So the newest item is first brought in with the
 * list's own "list.scroll-to-item" (the list builds and measures its row
 * and derives the adjustment from it); once that row has been laid out
 * (after the next frame), the adjustment is set to its end, which makes
 * the list anchor the newest row's end to the view's end: rows taller
 * than the view, and views that shrink, then keep their end in view.
 * Whenever the list's size changes afterwards (rows measured late, the
 * view resized), this runs again, until nothing moves.
 *
 * It runs in an idle just ahead of GTK's frame (not in a tick callback,
 * which would force frame after frame: a flood of lines then spent its
 * time redrawing).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "gc-scroll-follower.h"

/* How close to the end counts as "at the end", in pixels. */
#define END_SLACK 8.0
#define FOLLOW_PRIORITY (GDK_PRIORITY_REDRAW - 10)
/* Bringing in a new end rebinds the list's rows (GtkListView keeps about
 * 200 around its anchor); in a flood that replaces them all each time, so
 * the end moves at most this often. A line after a quiet moment shows at
 * once. */
#define FOLLOW_FLOOD_INTERVAL_MS 250

struct _GcScrollFollower
{
  GObject            parent_instance;

  GtkListView       *list;
  GtkAdjustment     *adjustment;
  gboolean           following;
  gboolean           anchoring;      /* our own moves are not the person's */
  gboolean           layout_moving;  /* nor those that come with layout */
  guint              follow_id;
  gulong             after_paint_id;
  GdkFrameClock     *after_paint_clock;
  guint              anchored_n;
  gint64             anchored_at;
  gboolean           end_anchored;
  double             end_upper;
  double             end_page;
};

G_DEFINE_FINAL_TYPE (GcScrollFollower, gc_scroll_follower, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_FOLLOWING,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static gboolean
is_at_end (GcScrollFollower *self)
{
  GtkAdjustment *adj = self->adjustment;

  return gtk_adjustment_get_value (adj) + gtk_adjustment_get_page_size (adj)
         >= gtk_adjustment_get_upper (adj) - END_SLACK;
}

static guint
n_items (GcScrollFollower *self)
{
  GtkSelectionModel *model = gtk_list_view_get_model (self->list);

  return model != NULL ? g_list_model_get_n_items (G_LIST_MODEL (model)) : 0;
}

static void
set_following (GcScrollFollower *self,
               gboolean          following)
{
  if (self->following == following)
    return;
  self->following = following;
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_FOLLOWING]);
}

static void
clear_after_paint (GcScrollFollower *self)
{
  /* (A clock disposed with its surface has dropped its handlers.) */
  if (self->after_paint_id != 0 &&
      g_signal_handler_is_connected (self->after_paint_clock, self->after_paint_id))
    g_signal_handler_disconnect (self->after_paint_clock, self->after_paint_id);
  self->after_paint_id = 0;
  g_clear_object (&self->after_paint_clock);
}

static void
after_paint_cb (GdkFrameClock    *frame_clock,
                GcScrollFollower *self)
{
  clear_after_paint (self);
  gc_scroll_follower_follow (self);
}

static gboolean
follow_idle_cb (gpointer user_data)
{
  GcScrollFollower *self = GC_SCROLL_FOLLOWER (user_data);
  GtkAdjustment *adj = self->adjustment;
  double upper = gtk_adjustment_get_upper (adj);
  double page = gtk_adjustment_get_page_size (adj);
  guint n = n_items (self);

  self->follow_id = 0;
  /* What the list did on its own since is done. */
  self->layout_moving = FALSE;
  if (!self->following || n == 0 || !gtk_widget_get_mapped (GTK_WIDGET (self->list)))
    return G_SOURCE_REMOVE;

  if (self->anchored_n != n)
    {
      gint64 now = g_get_monotonic_time ();
      gint64 wait_ms = (self->anchored_at + FOLLOW_FLOOD_INTERVAL_MS * 1000 - now) / 1000;

      if (wait_ms > 0)
        {
          self->follow_id = g_timeout_add_full (FOLLOW_PRIORITY, wait_ms, follow_idle_cb, self, NULL);
          return G_SOURCE_REMOVE;
        }
      self->anchored_at = now;
    }

  self->anchoring = TRUE;
  if (self->anchored_n != n)
    {
      GdkFrameClock *frame_clock = gtk_widget_get_frame_clock (GTK_WIDGET (self->list));

      gtk_widget_activate_action (GTK_WIDGET (self->list), "list.scroll-to-item", "u", n - 1);
      self->anchored_n = n;
      self->end_anchored = FALSE;
      /* Its end, once it is laid out. */
      if (frame_clock != NULL && self->after_paint_id == 0)
        {
          /* Held: the surface, and its clock, may go first. */
          self->after_paint_clock = g_object_ref (frame_clock);
          self->after_paint_id = g_signal_connect (frame_clock, "after-paint",
                                                   G_CALLBACK (after_paint_cb), self);
        }
    }
  else if (!self->end_anchored || upper != self->end_upper || page != self->end_page ||
           !is_at_end (self))
    {
      /* The list re-anchors only on a change of value: set it twice. */
      gtk_adjustment_set_value (adj, upper - page - 1);
      gtk_adjustment_set_value (adj, upper - page);
      self->end_anchored = TRUE;
      self->end_upper = upper;
      self->end_page = page;
    }
  self->anchoring = FALSE;

  return G_SOURCE_REMOVE;
}

void
gc_scroll_follower_follow (GcScrollFollower *self)
{
  g_return_if_fail (GC_IS_SCROLL_FOLLOWER (self));

  if (!self->following || self->follow_id != 0)
    return;
  self->follow_id = g_idle_add_full (FOLLOW_PRIORITY, follow_idle_cb, self, NULL);
}

void
gc_scroll_follower_scroll_to_end (GcScrollFollower *self)
{
  g_return_if_fail (GC_IS_SCROLL_FOLLOWER (self));

  set_following (self, TRUE);
  gc_scroll_follower_follow (self);
}

gboolean
gc_scroll_follower_get_following (GcScrollFollower *self)
{
  g_return_val_if_fail (GC_IS_SCROLL_FOLLOWER (self), FALSE);
  return self->following;
}

/* The person scrolled (or the list moved on its own): whether they are at
 * the end decides whether new items are followed. */
static void
value_changed_cb (GtkAdjustment    *adj,
                  GcScrollFollower *self)
{
  if (self->anchoring)
    return;
  if (self->layout_moving)
    {
      self->layout_moving = FALSE;
      return;
    }
  set_following (self, is_at_end (self));
}

/* The list grew, rows were measured or the view was resized. */
static void
changed_cb (GtkAdjustment    *adj,
            GcScrollFollower *self)
{
  /* The value may change with the layout, right after this in the same
   * configure: that is not the person scrolling away. If it does not,
   * the follow idle ends this. */
  if (self->following)
    self->layout_moving = TRUE;
  gc_scroll_follower_follow (self);
}

static void
list_map_cb (GcScrollFollower *self)
{
  gc_scroll_follower_follow (self);
}

static void
gc_scroll_follower_dispose (GObject *object)
{
  GcScrollFollower *self = GC_SCROLL_FOLLOWER (object);

  g_clear_handle_id (&self->follow_id, g_source_remove);
  clear_after_paint (self);
  if (self->adjustment != NULL)
    g_signal_handlers_disconnect_by_data (self->adjustment, self);
  g_clear_object (&self->adjustment);
  if (self->list != NULL)
    g_signal_handlers_disconnect_by_data (self->list, self);
  self->list = NULL;

  G_OBJECT_CLASS (gc_scroll_follower_parent_class)->dispose (object);
}

static void
gc_scroll_follower_get_property (GObject    *object,
                                 guint       prop_id,
                                 GValue     *value,
                                 GParamSpec *pspec)
{
  GcScrollFollower *self = GC_SCROLL_FOLLOWER (object);

  switch (prop_id)
    {
    case PROP_FOLLOWING:
      g_value_set_boolean (value, self->following);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
gc_scroll_follower_class_init (GcScrollFollowerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = gc_scroll_follower_dispose;
  object_class->get_property = gc_scroll_follower_get_property;

  properties[PROP_FOLLOWING] =
    g_param_spec_boolean ("following", NULL, NULL, TRUE,
                          G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
gc_scroll_follower_init (GcScrollFollower *self)
{
  self->following = TRUE;
}

GcScrollFollower *
gc_scroll_follower_new (GtkListView       *list,
                        GtkScrolledWindow *scroller)
{
  GcScrollFollower *self;

  g_return_val_if_fail (GTK_IS_LIST_VIEW (list), NULL);
  g_return_val_if_fail (GTK_IS_SCROLLED_WINDOW (scroller), NULL);

  self = g_object_new (GC_TYPE_SCROLL_FOLLOWER, NULL);
  self->list = list;
  self->adjustment = g_object_ref (gtk_scrolled_window_get_vadjustment (scroller));
  g_signal_connect (self->adjustment, "value-changed", G_CALLBACK (value_changed_cb), self);
  g_signal_connect (self->adjustment, "changed", G_CALLBACK (changed_cb), self);
  g_signal_connect_swapped (list, "map", G_CALLBACK (list_map_cb), self);
  return self;
}
