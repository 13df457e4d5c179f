/* gc-prefix-stream.h: a stream that first gives back bytes already read
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define GC_TYPE_PREFIX_INPUT_STREAM (gc_prefix_input_stream_get_type ())
G_DECLARE_FINAL_TYPE (GcPrefixInputStream, gc_prefix_input_stream, GC, PREFIX_INPUT_STREAM,
                      GInputStream)

#define GC_TYPE_PREFIX_IO_STREAM (gc_prefix_io_stream_get_type ())
G_DECLARE_FINAL_TYPE (GcPrefixIOStream, gc_prefix_io_stream, GC, PREFIX_IO_STREAM, GIOStream)

/* A stream over @base (whose input must be pollable) whose input first
 * gives @prefix, the bytes already read from @base, then reads @base.
 * Its "base-io-stream" is @base, so that the socket underneath can be
 * found. Closing it closes @base. */
GIOStream *gc_prefix_io_stream_new (GIOStream *base,
                                    GBytes    *prefix);

G_END_DECLS
