/* main.c: the gochat program
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include <glib/gi18n.h>

#include "gc-application.h"

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GcApplication) app = NULL;

  g_set_application_name ("GoChat");
  app = gc_application_new (G_APPLICATION_HANDLES_COMMAND_LINE);

  return g_application_run (G_APPLICATION (app), argc, argv);
}
