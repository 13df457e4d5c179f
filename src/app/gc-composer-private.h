/* gc-composer-private.h: GcComposer's parts, for GcRoomView's test accessor
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gc-composer.h"

G_BEGIN_DECLS

void gc_composer_get_parts (GcComposer   *self,
                            GtkTextView **text_view,
                            GtkLabel    **counter_label,
                            GtkButton   **send_button);

G_END_DECLS
