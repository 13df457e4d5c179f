/* gc-open-rooms.h: the rooms the app has open, as a list model, remembered across starts
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

#include "gc-chat-session.h"

G_BEGIN_DECLS

/**
 * GcSavedRoom:
 * @server_url: the server, as gc_chat_session_normalize_server_url() gives it
 * @user_name: the name we had there
 * @room_code: the canonical room code
 *
 * A room that was open when the app last ran (the `open-rooms` setting).
 */
typedef struct {
  char *server_url;
  char *user_name;
  char *room_code;
} GcSavedRoom;

void gc_saved_room_free (GcSavedRoom *room);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcSavedRoom, gc_saved_room_free)

#define GC_TYPE_OPEN_ROOMS (gc_open_rooms_get_type ())
G_DECLARE_FINAL_TYPE (GcOpenRooms, gc_open_rooms, GC, OPEN_ROOMS, GObject)

/* A GListModel of GcChatSession, in the order they were opened; rooms
 * restored from the settings first, in their saved order. */
GcOpenRooms   *gc_open_rooms_new           (void);

/* Appends @session (once). With @remember it is saved for the next start
 * (not for a room hosted on this computer: the host ends with the app). */
void           gc_open_rooms_add           (GcOpenRooms    *self,
                                            GcChatSession  *session,
                                            gboolean        remember);
/* Returns whether it was there. */
gboolean       gc_open_rooms_remove        (GcOpenRooms    *self,
                                            GcChatSession  *session);
gboolean       gc_open_rooms_find          (GcOpenRooms    *self,
                                            GcChatSession  *session,
                                            guint          *position);
/* The open room for @server_url (any form the join dialog takes, e.g.
 * "localhost:8081/") and @room_code (any case), or %NULL (transfer none). */
GcChatSession *gc_open_rooms_lookup        (GcOpenRooms    *self,
                                            const char     *server_url,
                                            const char     *room_code);

/* Every open room WAITING to reconnect tries now: what the window does
 * when it gets the focus (the person is back; the network may be too).
 * Rooms in other states are left alone. */
void           gc_open_rooms_reconnect_waiting (GcOpenRooms *self);

/* Persistence: reads the rooms saved in @settings' `open-rooms` (see
 * gc_open_rooms_dup_saved()) and from now on writes the remembered open
 * rooms there whenever they change (added, removed, renamed). Saved rooms
 * not open yet stay saved until they are added or forgotten, so a start
 * that ends before every room is back loses none. */
void           gc_open_rooms_bind_settings (GcOpenRooms    *self,
                                            GSettings      *settings);
/* (element-type GcSavedRoom) (transfer full): the saved rooms that are
 * not open, oldest first: what to join on start. */
GPtrArray     *gc_open_rooms_dup_saved     (GcOpenRooms    *self);
/* Drops a saved room that will not come back (say its join was refused
 * for good). */
void           gc_open_rooms_forget_saved  (GcOpenRooms    *self,
                                            const char     *server_url,
                                            const char     *room_code);

G_END_DECLS
