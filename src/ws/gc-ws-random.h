/* gc-ws-random.h: random bytes from the operating system's CSPRNG
 *
 * One wrapper so that masking keys and session tokens have a single,
 * portable source (getrandom on Linux, arc4random_buf on the BSDs and
 * macOS, BCryptGenRandom on Windows).
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <glib.h>

G_BEGIN_DECLS

void gc_ws_random_bytes (guint8 *buffer,
                         gsize   len);

G_END_DECLS
