/* gc-test-a11y.c: finding widgets as an assistive technology does, by accessible role and name
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "gc-test-a11y.h"

/* Roles whose name comes from what they show (WAI-ARIA "name from
 * content"; GTK 4.8 makes a button labelled-by its child label). */
static gboolean
named_from_content (GtkAccessibleRole role)
{
  switch (role)
    {
    case GTK_ACCESSIBLE_ROLE_LABEL:
    case GTK_ACCESSIBLE_ROLE_BUTTON:
    case GTK_ACCESSIBLE_ROLE_CHECKBOX:
    case GTK_ACCESSIBLE_ROLE_RADIO:
    case GTK_ACCESSIBLE_ROLE_LINK:
    case GTK_ACCESSIBLE_ROLE_TAB:
    case GTK_ACCESSIBLE_ROLE_MENU_ITEM:
    case GTK_ACCESSIBLE_ROLE_MENU_ITEM_CHECKBOX:
    case GTK_ACCESSIBLE_ROLE_MENU_ITEM_RADIO:
    case GTK_ACCESSIBLE_ROLE_CELL:
    case GTK_ACCESSIBLE_ROLE_ROW:
    case GTK_ACCESSIBLE_ROLE_LIST_ITEM:
    case GTK_ACCESSIBLE_ROLE_HEADING:
    case GTK_ACCESSIBLE_ROLE_TOOLTIP:
      return TRUE;
    default:
      return FALSE;
    }
}

/* The visible labels under @widget, in order, joined by spaces. */
static void
append_shown_text (GtkWidget *widget,
                   GString   *text)
{
  const char *own = NULL;

  if (!gtk_widget_get_visible (widget))
    return;

  if (GTK_IS_LABEL (widget))
    own = gtk_label_get_text (GTK_LABEL (widget));
  else if (GTK_IS_INSCRIPTION (widget))
    own = gtk_inscription_get_text (GTK_INSCRIPTION (widget));

  if (own != NULL)
    {
      if (*own != '\0')
        {
          if (text->len > 0)
            g_string_append_c (text, ' ');
          g_string_append (text, own);
        }
      return;
    }

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    append_shown_text (child, text);
}

char *
gc_test_a11y_get_text (GtkWidget *widget)
{
  g_autoptr(GString) text = g_string_new (NULL);

  g_return_val_if_fail (GTK_IS_WIDGET (widget), NULL);

  if (GTK_IS_EDITABLE (widget))
    return g_strdup (gtk_editable_get_text (GTK_EDITABLE (widget)));

  if (GTK_IS_TEXT_VIEW (widget))
    {
      GtkTextBuffer *buffer = gtk_text_view_get_buffer (GTK_TEXT_VIEW (widget));
      GtkTextIter start, end;

      gtk_text_buffer_get_bounds (buffer, &start, &end);
      return gtk_text_buffer_get_text (buffer, &start, &end, FALSE);
    }

  if (GTK_IS_LABEL (widget))
    return g_strdup (gtk_label_get_text (GTK_LABEL (widget)));

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    append_shown_text (child, text);
  return g_string_free (g_steal_pointer (&text), FALSE);
}

/* The name when the app gave none: labelling labels, a window's title,
 * or the content (transfer full; %NULL if it has none of these). */
static char *
derived_name (GtkWidget *widget)
{
  GList *labels = gtk_widget_list_mnemonic_labels (widget);

  if (labels != NULL)
    {
      g_autoptr(GString) name = g_string_new (NULL);

      for (GList *l = labels; l != NULL; l = l->next)
        {
          if (name->len > 0)
            g_string_append_c (name, ' ');
          g_string_append (name, gtk_label_get_text (l->data));
        }
      g_list_free (labels);
      return g_string_free (g_steal_pointer (&name), FALSE);
    }

  if (GTK_IS_WINDOW (widget))
    return g_strdup (gtk_window_get_title (GTK_WINDOW (widget)));

  if (named_from_content (gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (widget))))
    return gc_test_a11y_get_text (widget);

  return NULL;
}

/* Whether GTK set @widget's label property to its own text with the
 * mnemonic underline in it ("_Join"): a screen reader speaks the text. */
static gboolean
label_is_own_text (GtkWidget *widget)
{
  const char *raw = NULL;
  g_autofree char *mismatch = NULL;

  if (GTK_IS_BUTTON (widget))
    raw = gtk_button_get_label (GTK_BUTTON (widget));
  else if (GTK_IS_CHECK_BUTTON (widget))
    raw = gtk_check_button_get_label (GTK_CHECK_BUTTON (widget));
  else if (GTK_IS_LABEL (widget))
    raw = gtk_label_get_label (GTK_LABEL (widget));

  if (raw == NULL || strchr (raw, '_') == NULL)
    return FALSE;
  mismatch = gtk_test_accessible_check_property (GTK_ACCESSIBLE (widget),
                                                 GTK_ACCESSIBLE_PROPERTY_LABEL, raw);
  return mismatch == NULL;
}

gboolean
gc_test_a11y_has_name (GtkWidget  *widget,
                       const char *name)
{
  GtkAccessible *accessible = GTK_ACCESSIBLE (widget);
  g_autofree char *derived = NULL;

  g_return_val_if_fail (name != NULL, FALSE);

  if (gtk_test_accessible_has_property (accessible, GTK_ACCESSIBLE_PROPERTY_LABEL) &&
      !label_is_own_text (widget))
    {
      g_autofree char *mismatch = gtk_test_accessible_check_property (accessible,
                                                                      GTK_ACCESSIBLE_PROPERTY_LABEL,
                                                                      name);
      return mismatch == NULL;
    }

  derived = derived_name (widget);
  return g_strcmp0 (derived, name) == 0;
}

gboolean
gc_test_a11y_is_named (GtkWidget *widget)
{
  GtkAccessible *accessible = GTK_ACCESSIBLE (widget);
  g_autofree char *derived = NULL;

  if (gtk_test_accessible_has_property (accessible, GTK_ACCESSIBLE_PROPERTY_LABEL) &&
      !gc_test_a11y_has_name (widget, ""))
    return TRUE;
  /* (Not any labelled-by relation: GTK makes an icon button labelled by
   * its picture, which has no name. The labels that label a field are
   * in the derived name.) */
  derived = derived_name (widget);
  return derived != NULL && *derived != '\0';
}

static gboolean
matches (GtkWidget         *widget,
         GtkAccessibleRole  role,
         const char        *name)
{
  return gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (widget)) == role &&
         (name == NULL || gc_test_a11y_has_name (widget, name));
}

static void
collect (GtkWidget         *widget,
         GtkAccessibleRole  role,
         const char        *name,
         GPtrArray         *found,
         guint              max)
{
  if (found->len >= max)
    return;
  if (matches (widget, role, name))
    g_ptr_array_add (found, widget);

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    collect (child, role, name, found, max);
}

GtkWidget *
gc_test_a11y_find (GtkWidget         *root,
                   GtkAccessibleRole  role,
                   const char        *name)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new ();

  g_return_val_if_fail (GTK_IS_WIDGET (root), NULL);

  collect (root, role, name, found, 1);
  return found->len > 0 ? g_ptr_array_index (found, 0) : NULL;
}

static const char *
role_nick (GtkAccessibleRole role)
{
  GEnumClass *klass = g_type_class_ref (GTK_TYPE_ACCESSIBLE_ROLE);
  GEnumValue *value = g_enum_get_value (klass, role);

  g_type_class_unref (klass);  /* GTK keeps its enum classes */
  return value != NULL ? value->value_nick : "?";
}

GtkWidget *
gc_test_a11y_get_full (GtkWidget         *root,
                       GtkAccessibleRole  role,
                       const char        *name,
                       const char        *file,
                       int                line)
{
  g_autoptr(GPtrArray) found = g_ptr_array_new ();

  g_return_val_if_fail (GTK_IS_WIDGET (root), NULL);

  collect (root, role, name, found, 2);
  if (found->len != 1)
    {
      g_autofree char *message = g_strdup_printf ("%s:%d: %s %s “%s” under %s",
                                                  file, line,
                                                  found->len == 0 ? "no" : "more than one",
                                                  role_nick (role), name != NULL ? name : "(any name)",
                                                  G_OBJECT_TYPE_NAME (root));
      g_assertion_message (G_LOG_DOMAIN, file, line, G_STRFUNC, message);
    }
  return g_ptr_array_index (found, 0);
}

GPtrArray *
gc_test_a11y_find_all (GtkWidget         *root,
                       GtkAccessibleRole  role,
                       const char        *name)
{
  GPtrArray *found = g_ptr_array_new ();

  g_return_val_if_fail (GTK_IS_WIDGET (root), found);

  collect (root, role, name, found, G_MAXUINT);
  return found;
}

static GtkWidget *
find_showing (GtkWidget         *widget,
              GtkAccessibleRole  role,
              const char        *name)
{
  if (!gtk_widget_get_mapped (widget))
    return NULL;

  if (matches (widget, role, name))
    return widget;

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_showing (child, role, name);

      if (found != NULL)
        return found;
    }
  return NULL;
}

GtkWidget *
gc_test_a11y_find_showing (GtkWidget         *root,
                           GtkAccessibleRole  role,
                           const char        *name)
{
  g_return_val_if_fail (GTK_IS_WIDGET (root), NULL);

  return find_showing (root, role, name);
}

static GtkWidget *
find_description (GtkWidget *widget,
                  GtkWidget *candidate)
{
  /* GTK 4.8 compares a reference list with the NULL-terminated one given. */
  g_autofree char *mismatch = gtk_test_accessible_check_relation (GTK_ACCESSIBLE (widget),
                                                                  GTK_ACCESSIBLE_RELATION_DESCRIBED_BY,
                                                                  candidate, NULL);

  if (mismatch == NULL)
    return candidate;

  for (GtkWidget *child = gtk_widget_get_first_child (candidate); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    {
      GtkWidget *found = find_description (widget, child);

      if (found != NULL)
        return found;
    }
  return NULL;
}

GtkWidget *
gc_test_a11y_get_description_full (GtkWidget  *widget,
                                   const char *file,
                                   int         line)
{
  GtkWidget *found;

  g_return_val_if_fail (GTK_IS_WIDGET (widget), NULL);

  if (!gtk_test_accessible_has_relation (GTK_ACCESSIBLE (widget), GTK_ACCESSIBLE_RELATION_DESCRIBED_BY))
    found = NULL;
  else
    found = find_description (widget, GTK_WIDGET (gtk_widget_get_root (widget)));

  if (found == NULL)
    {
      g_autofree char *message = g_strdup_printf ("%s:%d: nothing describes the %s %s",
                                                  file, line,
                                                  role_nick (gtk_accessible_get_accessible_role (GTK_ACCESSIBLE (widget))),
                                                  G_OBJECT_TYPE_NAME (widget));
      g_assertion_message (G_LOG_DOMAIN, file, line, G_STRFUNC, message);
    }
  return found;
}

static void
dump (GtkWidget *widget,
      guint      depth,
      GString   *out)
{
  GtkAccessible *accessible = GTK_ACCESSIBLE (widget);
  g_autofree char *name = derived_name (widget);

  g_string_append_printf (out, "%*s%s %s%s", (int) depth * 2, "",
                          role_nick (gtk_accessible_get_accessible_role (accessible)),
                          G_OBJECT_TYPE_NAME (widget),
                          gtk_test_accessible_has_property (accessible, GTK_ACCESSIBLE_PROPERTY_LABEL)
                            ? " (label set)" : "");
  if (name != NULL)
    g_string_append_printf (out, " “%s”", name);
  g_string_append (out, gtk_widget_get_mapped (widget) ? "\n" : " [not shown]\n");

  for (GtkWidget *child = gtk_widget_get_first_child (widget); child != NULL;
       child = gtk_widget_get_next_sibling (child))
    dump (child, depth + 1, out);
}

void
gc_test_a11y_dump (GtkWidget *root)
{
  g_autoptr(GString) out = g_string_new (NULL);

  dump (root, 0, out);
  g_test_message ("%s", out->str);
}
