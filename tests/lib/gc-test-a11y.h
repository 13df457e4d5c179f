/* gc-test-a11y.h: finding widgets as an assistive technology does, by accessible role and name
 *
 * The app tests read a window the way a screen reader user meets it: a
 * button is "the button called Send", the list is "the list called
 * Messages", a row is "the row called #one, ann · …", not a field of some
 * widget's private struct. So a widget may change type, move, or be
 * rebuilt from a template without breaking the tests, as long as what a
 * person perceives stays.
 *
 * In GTK 4.8 the accessible children of a widget are its widget children,
 * so the lookup walks the widget tree below a root (a window, a dialog or
 * any widget found before). Names need GTK's test AT context
 * (GTK_A11Y=test, as tests/meson.build sets for the app tests): without
 * it GTK keeps no accessible properties at all.
 *
 * A widget's accessible name is, as GTK 4.8 computes it for AT-SPI:
 *   - its `label` property, when the app set one;
 *   - else the text of the labels that label it (a GtkLabel's
 *     mnemonic-widget, which GTK makes a labelled-by relation);
 *   - else, for a window or dialog, its title;
 *   - else, for roles named from their content (label, button, check box,
 *     link, tab, menu item, cell, row, list item), the
 *     text shown inside it.
 *
 *   GtkWidget *send = gc_test_a11y_get (window, GTK_ACCESSIBLE_ROLE_BUTTON, "Send");
 *   GtkWidget *list = gc_test_a11y_get (window, GTK_ACCESSIBLE_ROLE_LIST, "Messages");
 *   g_autofree char *count = gc_test_a11y_get_text (gc_test_a11y_get (window,
 *                                                   GTK_ACCESSIBLE_ROLE_LABEL, "Message length"));
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

/* Whether @widget's accessible name is exactly @name. */
gboolean    gc_test_a11y_has_name      (GtkWidget          *widget,
                                        const char         *name);

/* Whether @widget has an accessible name at all: a non-empty label
 * property, or one derived as above. */
gboolean    gc_test_a11y_is_named      (GtkWidget          *widget);

/* The text a widget shows, as an AT reads it (transfer full): a label's
 * text, an entry's or text view's contents, otherwise the shown labels
 * inside it joined by spaces (a button's label, a row's columns). */
char       *gc_test_a11y_get_text      (GtkWidget          *widget);

/* The first widget under @root (itself included, depth first, in the
 * accessible tree's order) with @role and, unless @name is %NULL, the
 * accessible name @name; hidden widgets count (tests assert that they
 * are hidden). %NULL if there is none. */
GtkWidget  *gc_test_a11y_find          (GtkWidget          *root,
                                        GtkAccessibleRole   role,
                                        const char         *name);

/* The same, asserting there is one and only one. */
#define gc_test_a11y_get(root, role, name) \
  gc_test_a11y_get_full ((root), (role), (name), __FILE__, __LINE__)
GtkWidget  *gc_test_a11y_get_full      (GtkWidget          *root,
                                        GtkAccessibleRole   role,
                                        const char         *name,
                                        const char         *file,
                                        int                 line);

/* Every widget under @root with @role (and @name, unless %NULL), in
 * order (transfer container). */
GPtrArray  *gc_test_a11y_find_all      (GtkWidget          *root,
                                        GtkAccessibleRole   role,
                                        const char         *name);

/* The first widget under @root shown on screen (mapped) with @role and,
 * unless %NULL, the name @name; %NULL if none. */
GtkWidget  *gc_test_a11y_find_showing  (GtkWidget          *root,
                                        GtkAccessibleRole   role,
                                        const char         *name);

/* The one widget that describes @widget (its described-by relation, as a
 * hint describes an entry); asserts there is exactly one, in @widget's
 * window. */
#define gc_test_a11y_get_description(widget) \
  gc_test_a11y_get_description_full ((widget), __FILE__, __LINE__)
GtkWidget  *gc_test_a11y_get_description_full (GtkWidget   *widget,
                                               const char  *file,
                                               int          line);

/* Logs the tree under @root (role, type, name, shown), for writing and
 * debugging tests. */
void        gc_test_a11y_dump          (GtkWidget          *root);

G_END_DECLS
