/* gc-redis-record.c: the records a room's scripts write and publish
 *
 * Records are fields as LENGTH:BYTES, concatenated (see
 * gc-redis-rooms-scripts.h): SEQ, TS, TYPE, then the type's fields.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-redis-rooms-private.h"

#include <string.h>

void
gc_redis_room_event_free (GcRedisRoomEvent *event)
{
  if (event == NULL)
    return;
  /* The record's copy is in the same block (gc_redis_event_parse()). */
  g_free (event);
}

/* Decimal digits from @p up to @end (at most 19, so no overflow): the
 * first byte after them, or NULL if there are none. A node parses a few
 * of these per event it delivers; g_ascii_strtoull() (a locale's strtoull)
 * and printf were a tenth of a --redis node's instructions. */
static const char *
parse_digits (const char *p,
              const char *end,
              guint64    *value)
{
  const char *start = p;
  guint64 v = 0;

  while (p < end && *p >= '0' && *p <= '9' && p - start < 19)
    v = v * 10 + (guint64) (*p++ - '0');
  if (p == start)
    return NULL;
  *value = v;
  return p;
}

/* A field that is a whole number (0 if it is not). */
static guint64
field_to_uint (const char *field)
{
  guint64 value = 0;
  const char *end = field + strlen (field);

  return parse_digits (field, end, &value) == end ? value : 0;
}

char *
gc_redis_record_put (char       *p,
                     const char *value,
                     gsize       length)
{
  char digits[24], *d = digits + sizeof digits;
  gsize n = length;

  do
    *--d = (char) ('0' + n % 10);
  while ((n /= 10) > 0);
  memcpy (p, d, digits + sizeof digits - d);
  p += digits + sizeof digits - d;
  *p++ = ':';
  memcpy (p, value, length);
  return p + length;
}

/* Splits LENGTH:BYTES fields in place (NULs replace the separators, so
 * each field is a C string). Returns the number of fields, or -1. */
int
gc_redis_record_split (char   *record,
                       gsize   length,
                       char  **fields,
                       int     max_fields)
{
  char *p = record, *end = record + length;
  int n = 0;

  while (p < end)
    {
      guint64 field_length = 0;
      char *colon = (char *) parse_digits (p, end, &field_length);

      if (colon == NULL || colon == end || *colon != ':' || n == max_fields ||
          field_length > (guint64) (end - colon - 1))
        return -1;
      /* The byte after a field is the next field's first length digit:
       * move the field one byte back over its colon to end it with NUL. */
      memmove (p, colon + 1, field_length);
      p[field_length] = '\0';
      fields[n++] = p;
      p = colon + 1 + field_length;
    }
  return n;
}

GcRedisRoomEvent *
gc_redis_event_parse (const char *data,
                      gsize       length)
{
  /* One allocation for the event and its record's copy: a node parses
   * one per event it delivers. */
  g_autoptr(GcRedisRoomEvent) event = g_malloc0 (sizeof (GcRedisRoomEvent) + length + 1);
  char *f[12];
  int n;

  event->record = (char *) (event + 1);
  memcpy (event->record, data, length);
  event->record[length] = '\0';
  n = gc_redis_record_split (event->record, length, f, G_N_ELEMENTS (f));
  if (n < 4)
    return NULL;
  event->seq = field_to_uint (f[0]);
  event->ts_ms = (gint64) field_to_uint (f[1]);
  event->user_id = f[3];

  if (strcmp (f[2], "join") == 0 && n == 7)
    {
      event->type = GC_REDIS_ROOM_EVENT_JOIN;
      event->name = f[4];
      event->name_key = f[5];
      event->node = f[6];
    }
  else if (strcmp (f[2], "leave") == 0 && n == 7)
    {
      event->type = GC_REDIS_ROOM_EVENT_LEAVE;
      event->name = f[4];
      event->name_key = f[5];
      event->reason = f[6];
    }
  else if (strcmp (f[2], "message") == 0 && n == 9)
    {
      event->type = GC_REDIS_ROOM_EVENT_MESSAGE;
      event->name = f[4];
      event->kind = f[5];
      event->text = f[6];
      event->client_id = strcmp (f[8], "1") == 0 ? f[7] : NULL;
    }
  else if (strcmp (f[2], "rename") == 0 && n == 8)
    {
      event->type = GC_REDIS_ROOM_EVENT_RENAME;
      event->name = f[4];
      event->old_name = f[5];
      event->name_key = f[6];
      event->old_key = f[7];
    }
  else if (strcmp (f[2], "resume") == 0 && n == 8)
    {
      event->type = GC_REDIS_ROOM_EVENT_RESUME;
      event->name = f[4];
      event->name_key = f[5];
      event->node = f[6];
      event->old_node = f[7];
    }
  else if (strcmp (f[2], "typing") == 0 && n == 6)
    {
      event->type = GC_REDIS_ROOM_EVENT_TYPING;
      event->name = f[4];
      event->active = strcmp (f[5], "1") == 0;
    }
  else
    return NULL;
  if (event->seq == 0)
    return NULL;
  return g_steal_pointer (&event);
}

void
gc_redis_member_free (gpointer data)
{
  GcRedisRoomMember *member = data;

  g_free (member->user_id);
  g_free (member->name);
  g_free (member->name_key);
  g_free (member->node);
  g_free (member);
}

int
gc_redis_member_compare (gconstpointer a,
                gconstpointer b)
{
  const GcRedisRoomMember *ma = *(GcRedisRoomMember **) a;
  const GcRedisRoomMember *mb = *(GcRedisRoomMember **) b;

  return ma->joined_seq < mb->joined_seq ? -1 : ma->joined_seq > mb->joined_seq;
}

/* --- rooms --------------------------------------------------------------- */

/* The next record of a payload of LENGTH:RECORD items (a channel's
 * message, a history entry), moving @cursor past it; NULL if it is
 * unreadable. */
GcRedisRoomEvent *
gc_redis_payload_next (const char **cursor,
                       const char  *end)
{
  guint64 record_length = 0;
  const char *colon = parse_digits (*cursor, end, &record_length);

  if (colon == NULL || colon == end || *colon != ':' ||
      record_length > (guint64) (end - colon - 1))
    return NULL;
  *cursor = colon + 1 + record_length;
  return gc_redis_event_parse (colon + 1, record_length);
}
