/* gc-admission-private.h: accepted connections until their requests are taken
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>
#include <libsoup/soup.h>

#include "gc-server.h"

G_BEGIN_DECLS

/* One accepted TCP connection until it is upgraded or libsoup lets go of
 * it: its deadline, its address's join bucket, its TLS handshake. */
typedef struct _GcHandshake GcHandshake;

GcHandshake *gc_handshake_ref          (GcHandshake *hs);
void         gc_handshake_unref        (GcHandshake *hs);
/* The printable address of the client. */
const char  *gc_handshake_get_address  (GcHandshake *hs);
/* The connection's TCP socket (under TLS too). */
GSocket     *gc_handshake_get_socket   (GcHandshake *hs);
/* Whether @hs still counts as a handshake in progress (not finished,
 * not abandoned). */
gboolean     gc_handshake_is_pending   (GcHandshake *hs);
/* Takes a join from its address's bucket; if it is empty, FALSE and
 * @out_retry_after_us says when one is back. */
gboolean     gc_handshake_take_join    (GcHandshake *hs,
                                        gint64      *out_retry_after_us);
/* The handshake no longer counts: its connection was upgraded. */
void         gc_handshake_finish       (GcHandshake *hs);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcHandshake, gc_handshake_unref)

/* Admission: the handshakes in progress, their deadlines, the per-address
 * state (join buckets, handshake caps) and the scheduling of TLS
 * handshakes. It hands each connection to @soup once it may go on. */
#define GC_TYPE_ADMISSION (gc_admission_get_type ())
G_DECLARE_FINAL_TYPE (GcAdmission, gc_admission, GC, ADMISSION, GObject)

/* Called when a handshake finished and there is room for another
 * (accepting may resume). */
typedef void (*GcAdmissionRoomFunc) (gpointer user_data);

/* A complete request head passed gc_request_head_check(): the first
 * @head_len of the @len bytes at @data, read from @stream. %TRUE if the
 * function took the request (and finished or will finish @hs), %FALSE
 * to leave it to libsoup. */
typedef gboolean (*GcAdmissionRequestFunc) (GcHandshake *hs,
                                            GIOStream   *stream,
                                            const char  *data,
                                            gsize        head_len,
                                            gsize        len,
                                            gpointer     user_data);

/* @config must outlive the admission (it is the server's). */
GcAdmission *gc_admission_new                (const GcServerConfig *config,
                                              SoupServer           *soup,
                                              GcAdmissionRoomFunc   room_func,
                                              gpointer              user_data);
/* Sees every complete request head before libsoup (the direct path of
 * joins, gc-join.c). */
void         gc_admission_set_request_func   (GcAdmission           *self,
                                              GcAdmissionRequestFunc func,
                                              gpointer               user_data);
void         gc_admission_set_tls_certificate (GcAdmission         *self,
                                               GTlsCertificate     *certificate);
/* Takes @socket (just accepted on @local_port) into a handshake.
 * @local_address is its local address when the caller knows it (a
 * socket listening on one address, not all; %NULL: looked up if libsoup
 * gets the connection), @remote_address its peer's when accept() said
 * it (%NULL: looked up). */
void         gc_admission_accept             (GcAdmission          *self,
                                              GSocket              *socket,
                                              GSocketAddress       *local_address,
                                              guint16               local_port,
                                              GSocketAddress       *remote_address);
/* Whether another connection may be accepted, making room by closing
 * the oldest handshake if it may be; if not, @out_retry_ms says how soon
 * to ask again. */
gboolean     gc_admission_make_room          (GcAdmission          *self,
                                              guint                *out_retry_ms);
gboolean     gc_admission_is_full            (GcAdmission          *self);
guint        gc_admission_get_n_handshakes   (GcAdmission          *self);
/* Request heads we refused ourselves (gc-handshake.c). */
guint64      gc_admission_get_n_refused      (GcAdmission          *self);
/* The handshake that @msg arrived on, or %NULL if it was abandoned. */
GcHandshake *gc_admission_lookup             (SoupServerMessage    *msg);
/* Closes every handshake in progress (shutdown). */
void         gc_admission_abandon_all        (GcAdmission          *self);

G_END_DECLS
