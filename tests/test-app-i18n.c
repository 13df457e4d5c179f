/* test-app-i18n.c: the app starts in the user's language
 *
 * Run with LANGUAGE set to one of po/LINGUAS (meson runs it for de and
 * fr, with LANG=C.UTF-8, which gettext honours LANGUAGE under) and
 * GOCHAT_LOCALEDIR at the build's po folder: the app starts as `gochat`
 * does, through g_application_run(), and its join dialog, window and the
 * messages its code writes are in that language.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <string.h>

#include "gc-application.h"
#include "gc-join-dialog.h"
#include "gc-test-a11y.h"

typedef struct {
  const char *language;
  const char *dialog_title;
  const char *join_label;
  const char *host_label;
  const char *name_field;
  const char *room_field;
  const char *empty_room;
  const char *name_hint;
  const char *room_hint;
  const char *members;
} Expected;

/* What the translations say (po/de.po, po/fr.po). */
static const Expected expected_strings[] = {
  { "de", "Einem Raum beitreten", "_Beitreten", "Den Raum auf diesem Computer _hosten", "Name", "Raum",
    "In keinem Raum", "Geben Sie den Namen ein, den andere sehen.",
    "Ein Raumcode besteht nur aus den Buchstaben A–Z, Ziffern, _ und -.", "2 Mitglieder" },
  { "fr", "Rejoindre un salon", "_Rejoindre", "_Héberger le salon sur cet ordinateur", "Nom", "Salon",
    "Dans aucun salon", "Saisissez le nom que les autres verront.",
    "Un code de salon ne contient que les lettres A à Z, des chiffres, _ et -.", "2 membres" },
};

typedef struct {
  const Expected *expected;
  gboolean        checked;
} Check;

/* @label as a screen reader speaks it: without the mnemonic's underline. */
static char *
spoken (const char *label)
{
  g_auto(GStrv) parts = g_strsplit (label, "_", -1);

  return g_strjoinv ("", parts);
}

/* The hint under the dialog's field @field (what describes it). */
static const char *
hint_text (GcJoinDialog *dialog,
           const char   *field)
{
  GtkWidget *entry = gc_test_a11y_get (GTK_WIDGET (dialog), GTK_ACCESSIBLE_ROLE_TEXT_BOX, field);

  return gtk_label_get_text (GTK_LABEL (gc_test_a11y_get_description (entry)));
}

static gboolean
check_dialog_cb (gpointer user_data)
{
  GcJoinDialog *dialog = user_data;
  Check *check = g_object_get_data (G_OBJECT (dialog), "gc-test-check");
  const Expected *expected = check->expected;
  GtkWindow *window = gtk_window_get_transient_for (GTK_WINDOW (dialog));
  GtkWidget *root = GTK_WIDGET (dialog);
  g_autofree char *join_label = spoken (expected->join_label);
  g_autofree char *host_label = spoken (expected->host_label);
  g_autofree char *members = NULL;

  /* From the .ui files, as a screen reader finds them. */
  g_assert_cmpstr (gtk_window_get_title (GTK_WINDOW (dialog)), ==, expected->dialog_title);
  g_assert_nonnull (gc_test_a11y_find_showing (root, GTK_ACCESSIBLE_ROLE_BUTTON, join_label));
  g_assert_nonnull (gc_test_a11y_find_showing (root, GTK_ACCESSIBLE_ROLE_CHECKBOX, host_label));
  /* The window behind the dialog: no room yet. */
  g_assert_nonnull (gc_test_a11y_find_showing (GTK_WIDGET (window), GTK_ACCESSIBLE_ROLE_LABEL,
                                               expected->empty_room));

  /* From the C code, as the user types. */
  gtk_editable_set_text (GTK_EDITABLE (gc_test_a11y_get (root, GTK_ACCESSIBLE_ROLE_TEXT_BOX,
                                                         expected->name_field)), "");
  g_assert_cmpstr (hint_text (dialog, expected->name_field), ==, expected->name_hint);
  gtk_editable_set_text (GTK_EDITABLE (gc_test_a11y_get (root, GTK_ACCESSIBLE_ROLE_TEXT_BOX,
                                                         expected->room_field)), "no room!");
  g_assert_cmpstr (hint_text (dialog, expected->room_field), ==, expected->room_hint);

  /* Plurals. */
  members = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u member", "%u members", 2), 2);
  g_assert_cmpstr (members, ==, expected->members);

  check->checked = TRUE;
  gc_application_quit_now (GC_APPLICATION (gtk_window_get_application (window)));
  return G_SOURCE_REMOVE;
}

static void
window_added_cb (GtkApplication *app,
                 GtkWindow      *window,
                 Check          *check)
{
  if (!GC_IS_JOIN_DIALOG (window))
    return;
  g_object_set_data (G_OBJECT (window), "gc-test-check", check);
  g_idle_add_full (G_PRIORITY_LOW, check_dialog_cb, window, NULL);
}

static void
test_translated_start (void)
{
  const char *language = g_getenv ("LANGUAGE");
  g_autoptr(GcApplication) app = NULL;
  char *arguments[] = { (char *) "gochat", NULL };
  Check check = { NULL, FALSE };
  int status;

  for (guint i = 0; i < G_N_ELEMENTS (expected_strings); i++)
    if (g_strcmp0 (language, expected_strings[i].language) == 0)
      check.expected = &expected_strings[i];
  if (check.expected == NULL)
    g_error ("LANGUAGE=%s: run this test with LANGUAGE=de or LANGUAGE=fr", language);

  app = gc_application_new (G_APPLICATION_HANDLES_COMMAND_LINE | G_APPLICATION_HANDLES_OPEN |
                            G_APPLICATION_NON_UNIQUE);
  g_signal_connect (app, "window-added", G_CALLBACK (window_added_cb), &check);
  status = g_application_run (G_APPLICATION (app), 1, arguments);

  g_assert_cmpint (status, ==, 0);
  g_assert_true (check.checked);
}

int
main (int   argc,
      char *argv[])
{
  /* As main() of gochat does: the locale from the environment. */
  gc_application_init_i18n ();
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/i18n/translated-start", test_translated_start);

  return g_test_run ();
}
