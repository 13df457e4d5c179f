/* gc-text-markup.h: user text as safe Pango markup, with http(s) links; mentions
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * gc_text_to_markup:
 * @text: chat text from anyone, valid UTF-8
 *
 * Every fragment of @text is escaped, so nothing in it is ever read as
 * markup; only http:// and https:// links become `<a href>` elements.
 * Control characters, which markup cannot carry, are shown as their
 * Unicode control pictures (␛ for ESC); TAB and line feeds stay.
 *
 * Returns: (transfer full): markup whose text is @text
 */
char *gc_text_to_markup (const char *text);

/**
 * gc_text_mentions:
 * @text: chat text, valid UTF-8
 * @name: a user name, valid UTF-8
 *
 * Whether @text mentions @name: as a whole word (not inside a longer
 * word), compared the way the protocol compares names (NFKC, case
 * folded), so “@Zoë,” and “ZOË” both mention “zoë”.
 */
gboolean gc_text_mentions (const char *text,
                           const char *name);

G_END_DECLS
