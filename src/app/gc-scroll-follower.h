/* gc-scroll-follower.h: keeps a list view's newest item in view while the person follows the end
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define GC_TYPE_SCROLL_FOLLOWER (gc_scroll_follower_get_type ())
G_DECLARE_FINAL_TYPE (GcScrollFollower, gc_scroll_follower, GC, SCROLL_FOLLOWER, GObject)

/* Follows the end of @list inside @scroller (both must outlive it). The
 * "following" property says whether the person is at the end: it turns
 * off when they scroll away, on when they come back down. */
GcScrollFollower *gc_scroll_follower_new           (GtkListView       *list,
                                                    GtkScrolledWindow *scroller);
gboolean          gc_scroll_follower_get_following (GcScrollFollower  *self);
/* Down to the newest item, following it from now on. */
void              gc_scroll_follower_scroll_to_end (GcScrollFollower  *self);
/* The list changed (items added, shown again): keeps the end in view if
 * following. Safe inside an allocation: the work happens in an idle. */
void              gc_scroll_follower_follow        (GcScrollFollower  *self);

G_END_DECLS
