/* gc-room-code.h: friendly random room codes from the OS CSPRNG
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* A new room code like "quiet-otter-golden-maple-042": four friendly
 * words and a number, from the operating system's CSPRNG, with
 * gc_room_code_entropy_bits() (about 42) bits of entropy. Valid as is
 * (lower case ASCII letters, digits and -). */
char   *gc_room_code_random       (void);
double  gc_room_code_entropy_bits (void);

G_END_DECLS
