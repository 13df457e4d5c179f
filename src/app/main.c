/* main.c: the gochat program
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n-lib.h>

#include "gc-application.h"

/* Without its schema GSettings would abort with a terse message; say how
 * to run the app instead. */
static gboolean
check_settings_schema (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source != NULL)
    schema = g_settings_schema_source_lookup (source, GC_APPLICATION_ID, TRUE);
  if (schema != NULL)
    return TRUE;

  g_printerr (_("gochat: the GSettings schema %s is not installed.\n"
                "From a build directory, run: meson devenv -C BUILDDIR gochat\n"
                "(or set GSETTINGS_SCHEMA_DIR=BUILDDIR/src/app).\n"),
              GC_APPLICATION_ID);
  return FALSE;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GcApplication) app = NULL;

  gboolean asks_only = FALSE;

  gc_application_init_i18n ();
  /* Help and the version need no settings. */
  for (int i = 1; i < argc; i++)
    if (g_str_has_prefix (argv[i], "--help") || g_str_equal (argv[i], "-h") ||
        g_str_equal (argv[i], "--version"))
      asks_only = TRUE;
  if (!asks_only && !check_settings_schema ())
    return 1;

  g_set_application_name ("GoChat");
  app = gc_application_new (G_APPLICATION_HANDLES_COMMAND_LINE | G_APPLICATION_HANDLES_OPEN);

  return g_application_run (G_APPLICATION (app), argc, argv);
}
