/* gc-handshake-private.h: one accepted connection until its request is taken
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gc-admission-private.h"
#include "gc-peer-private.h"

G_BEGIN_DECLS

/* Where a handshake is. Admission keeps one queue per stage that a
 * client can hold (see gc-admission.c). */
typedef enum {
  GC_HANDSHAKE_HELLO,        /* TLS: waiting for the whole ClientHello */
  GC_HANDSHAKE_TLS_WAITING,  /* its ClientHello is in; no TLS place yet */
  GC_HANDSHAKE_TLS_RUNNING,  /* in glib-networking's handshake thread */
  GC_HANDSHAKE_HEAD,         /* reading the request head */
  GC_HANDSHAKE_REQUEST,      /* libsoup has its request: never evicted */
  GC_HANDSHAKE_REFUSED,      /* answered by us; waiting for the client to close */
  GC_HANDSHAKE_FINISHED,
} GcHandshakeStage;


/* A plain socket waiting for its client is watched by admission's epoll
 * set (one-shot), not by a GSource of its own: attaching and destroying
 * a GSource wakes the main context twice, three eventfd writes a wait. */
typedef enum {
  GC_HANDSHAKE_WATCH_NONE,    /* not in the set */
  GC_HANDSHAKE_WATCH_ARMED,   /* in it, waiting */
  GC_HANDSHAKE_WATCH_FIRED,   /* in it, disarmed, until re-armed or taken out */
} GcHandshakeWatch;

struct _GcHandshake {
  GcAdmission      *admission;       /* NULL once finished */
  GcHandshakeStage  stage;
  GSocket          *socket;
  GTlsConnection   *tls;             /* while the TLS handshake runs */
  GIOStream        *base;            /* TLS after it, or a socket connection:
                                      * read for the head, then given to libsoup */
  GSource          *io_source;       /* waiting for the client */
  GSourceFunc       io_func;         /* what io_source (or the watch) calls */
  GcHandshakeWatch  watch;           /* in admission's epoll set */
  GByteArray       *head;            /* the request head read from base so far */
  gsize             seen;            /* bytes seen in this stage */
  GIOStream        *stream;          /* given to libsoup; watched by a weak ref */
  GSocketAddress   *local_address;   /* nullable until libsoup needs it */
  guint16           local_port;
  GSocketAddress   *remote_address;  /* carries the handshake as qdata */
  GcPeer           *peer;
  char             *address;         /* printable peer address */
  GCancellable     *cancellable;
  GList             link;            /* in admission->handshakes */
  GList             peer_link;       /* in peer->handshakes */
  GList             stage_link;      /* in the queue of its stage, if any */
  gint64            accepted_us;
  gint64            deadline_us;
  gint64            progress_us;     /* when it last moved on or sent bytes */
  gint64            tls_started_us;
  guint             ref_count;
};

/* Marks a remote address object with its handshake. */
GQuark       gc_handshake_quark       (void);

GcHandshake *gc_handshake_new         (GcAdmission    *admission,
                                       GSocket        *socket,
                                       GSocketAddress *local_address,
                                       guint16         local_port,
                                       GSocketAddress *remote_address,
                                       GcPeer         *peer,
                                       const char     *address,
                                       gint64          deadline_us);
/* Starts reading: the ClientHello with @tls, else the request head. */
void         gc_handshake_start       (GcHandshake    *hs,
                                       gboolean        tls);
/* Its TLS handshake may run now. */
void         gc_handshake_start_tls   (GcHandshake    *hs,
                                       GTlsCertificate *certificate);
/* Closes a handshake that took too long or must make room: libsoup (or
 * the TLS handshake) sees the connection end and lets go of it. */
void         gc_handshake_abandon     (GcHandshake    *hs);

/* Admission's side, used by handshakes. */
GMainContext *gc_admission_get_context   (GcAdmission     *self);
SoupServer   *gc_admission_get_soup      (GcAdmission     *self);
/* @hs moves to @stage (queues, timers, counts). */
void          gc_admission_set_stage     (GcAdmission     *self,
                                          GcHandshake     *hs,
                                          GcHandshakeStage stage);
/* Calls hs->io_func (and again while it returns G_SOURCE_CONTINUE) when
 * hs->socket is readable; %FALSE if admission has no epoll set (the
 * caller then uses a GSource). */
gboolean      gc_admission_watch         (GcAdmission     *self,
                                          GcHandshake     *hs);
/* Takes hs->socket out of the epoll set (armed or fired). */
void          gc_admission_unwatch       (GcAdmission     *self,
                                          GcHandshake     *hs);
/* Bytes from the client arrived: @hs is not stale. */
void          gc_admission_progress      (GcAdmission     *self,
                                          GcHandshake     *hs);
/* @hs is done: forget it. */
void          gc_admission_forget        (GcAdmission     *self,
                                          GcHandshake     *hs);
/* Offers a complete request head to the request function, if any. */
gboolean      gc_admission_take_request  (GcAdmission     *self,
                                          GcHandshake     *hs,
                                          GIOStream       *stream,
                                          const char      *data,
                                          gsize            head_len,
                                          gsize            len);
/* We refused a request head ourselves (counted as bad_request). */
void          gc_admission_count_refused (GcAdmission     *self);

G_END_DECLS
