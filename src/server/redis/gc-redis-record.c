/* gc-redis-record.c: the records a room's scripts write and publish
 *
 * Records are fields as LENGTH:BYTES, concatenated (see
 * gc-redis-rooms-scripts.h): SEQ, TS, TYPE, then the type's fields.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-redis-rooms-private.h"

#include "gc-protocol.h"

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
gc_redis_record_put_length (char  *p,
                            gsize  length)
{
  char digits[24], *d = digits + sizeof digits;

  do
    *--d = (char) ('0' + length % 10);
  while ((length /= 10) > 0);
  memcpy (p, d, digits + sizeof digits - d);
  p += digits + sizeof digits - d;
  *p++ = ':';
  return p;
}

char *
gc_redis_record_put (char       *p,
                     const char *value,
                     gsize       length)
{
  p = gc_redis_record_put_length (p, length);
  memcpy (p, value, length);
  return p + length;
}

/* Splits LENGTH:BYTES fields in place (NULs replace the separators, so
 * each field is a C string; @lengths, when not NULL, gets each field's
 * length, which a field holding NUL needs). Returns the number of
 * fields, or -1. */
static int
record_split (char   *record,
              gsize   length,
              char  **fields,
              gsize  *lengths,
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
      if (lengths != NULL)
        lengths[n] = field_length;
      fields[n++] = p;
      p = colon + 1 + field_length;
    }
  return n;
}

int
gc_redis_record_split (char   *record,
                       gsize   length,
                       char  **fields,
                       int     max_fields)
{
  return record_split (record, length, fields, NULL, max_fields);
}

/* Fills @event's fields from @f (@n fields: TYPE, then the type's). */
static gboolean
event_set_fields (GcRedisRoomEvent  *event,
                  char             **f,
                  const gsize       *lengths,
                  int                n)
{
  if (n < 2)
    return FALSE;
  event->user_id = f[1];

  if (strcmp (f[0], "message") == 0 && n == 7)
    {
      event->type = GC_REDIS_ROOM_EVENT_MESSAGE;
      event->name = f[2];
      event->kind = f[3];
      event->text = f[4];
      event->client_id = strcmp (f[6], "1") == 0 ? f[5] : NULL;
    }
  else if (strcmp (f[0], "message") == 0 && n == 4)
    {
      /* The batch script's, with the event's JSON after "ts" as its
       * sender's node built it. */
      if (!gc_event_message_tail_is_readable (f[3], lengths[3]))
        return FALSE;
      event->type = GC_REDIS_ROOM_EVENT_MESSAGE;
      event->name = f[2];
      event->json_tail = f[3];
      event->json_tail_len = lengths[3];
    }
  else if (strcmp (f[0], "join") == 0 && n == 5)
    {
      event->type = GC_REDIS_ROOM_EVENT_JOIN;
      event->name = f[2];
      event->name_key = f[3];
      event->node = f[4];
    }
  else if (strcmp (f[0], "leave") == 0 && n == 5)
    {
      event->type = GC_REDIS_ROOM_EVENT_LEAVE;
      event->name = f[2];
      event->name_key = f[3];
      event->reason = f[4];
    }
  else if (strcmp (f[0], "rename") == 0 && n == 6)
    {
      event->type = GC_REDIS_ROOM_EVENT_RENAME;
      event->name = f[2];
      event->old_name = f[3];
      event->name_key = f[4];
      event->old_key = f[5];
    }
  else if (strcmp (f[0], "resume") == 0 && n == 6)
    {
      event->type = GC_REDIS_ROOM_EVENT_RESUME;
      event->name = f[2];
      event->name_key = f[3];
      event->node = f[4];
      event->old_node = f[5];
    }
  else if (strcmp (f[0], "typing") == 0 && n == 4)
    {
      event->type = GC_REDIS_ROOM_EVENT_TYPING;
      event->name = f[2];
      event->active = strcmp (f[3], "1") == 0;
    }
  else
    return FALSE;
  return TRUE;
}

/* A new event holding a copy of @data (@length bytes), in one
 * allocation: a node makes one per event it delivers. */
static GcRedisRoomEvent *
event_new (const char *data,
           gsize       length)
{
  GcRedisRoomEvent *event = g_malloc0 (sizeof (GcRedisRoomEvent) + length + 1);

  event->record = (char *) (event + 1);
  memcpy (event->record, data, length);
  event->record[length] = '\0';
  return event;
}

GcRedisRoomEvent *
gc_redis_event_parse (const char *data,
                      gsize       length)
{
  g_autoptr(GcRedisRoomEvent) event = event_new (data, length);
  char *f[12];
  gsize lengths[12];
  int n;

  n = record_split (event->record, length, f, lengths, G_N_ELEMENTS (f));
  if (n < 4)
    return NULL;
  event->seq = field_to_uint (f[0]);
  event->ts_ms = (gint64) field_to_uint (f[1]);
  if (!event_set_fields (event, f + 2, lengths + 2, n - 2) || event->seq == 0)
    return NULL;
  return g_steal_pointer (&event);
}


/* A whole number field (at most 19 digits, nothing else). */
static gboolean
field_next_uint (const char **p,
                 const char  *end,
                 guint64     *value)
{
  const char *field;
  gsize length;

  return gc_redis_field_next (p, end, &field, &length) &&
         parse_digits (field, field + length, value) == field + length;
}

gboolean
gc_redis_batch_header (const char  *record,
                       gsize        length,
                       guint64     *seq,
                       gint64      *ts,
                       const char **body,
                       gsize       *body_length)
{
  const char *p = record, *end = record + length, *type;
  gsize type_length;
  guint64 first = 0, time = 0;

  if (!field_next_uint (&p, end, &first) || !field_next_uint (&p, end, &time) ||
      !gc_redis_field_next (&p, end, &type, &type_length) ||
      type_length != 8 || memcmp (type, "messages", 8) != 0 ||
      !gc_redis_field_next (&p, end, body, body_length) || p != end || first == 0)
    return FALSE;
  *seq = first;
  *ts = (gint64) time;
  return TRUE;
}

GcRedisRoomEvent *
gc_redis_batch_item_parse (const char *item,
                           gsize       length,
                           guint64     seq,
                           gint64      ts)
{
  GcRedisRoomEvent *event = event_new (item, length);
  char *f[8];
  gsize lengths[8];
  int n;

  n = record_split (event->record, length, f, lengths, G_N_ELEMENTS (f));
  event->seq = seq;
  event->ts_ms = ts;
  if (n < 0 || !event_set_fields (event, f, lengths, n) || event->type != GC_REDIS_ROOM_EVENT_MESSAGE)
    {
      gc_redis_room_event_free (event);
      return NULL;
    }
  return event;
}

gboolean
gc_redis_batch_item_read (const char       *item,
                          gsize             length,
                          GcRedisBatchItem *out)
{
  const char *p = item, *end = item + length, *type;
  gsize type_length;

  return gc_redis_field_next (&p, end, &type, &type_length) &&
         type_length == 7 && memcmp (type, "message", 7) == 0 &&
         gc_redis_field_next (&p, end, &out->user_id, &out->user_id_len) &&
         gc_redis_field_next (&p, end, &out->name, &out->name_len) &&
         gc_redis_field_next (&p, end, &out->json_tail, &out->json_tail_len) && p == end &&
         gc_event_message_tail_is_readable (out->json_tail, out->json_tail_len);
}

gboolean
gc_redis_batch_body_parse (guint64     seq,
                           gint64      ts,
                           const char *body,
                           gsize       body_length,
                           GPtrArray  *events)
{
  const char *p = body, *end = body + body_length;
  guint added = 0;

  while (p < end)
    {
      const char *item;
      gsize item_length;
      GcRedisRoomEvent *event;

      if (!gc_redis_field_next (&p, end, &item, &item_length) ||
          (event = gc_redis_batch_item_parse (item, item_length, seq + added, ts)) == NULL)
        goto fail;
      g_ptr_array_add (events, event);
      added++;
    }
  return TRUE;

fail:
  /* All or nothing: a part of a batch would look like a gap later. */
  g_ptr_array_remove_range (events, events->len - added, added);
  return FALSE;
}

/* A batch record: SEQ TS "messages" BODY, BODY items LENGTH:ITEM, each a
 * message record without SEQ and TS. */
static gboolean
batch_parse (const char *data,
             gsize       length,
             GPtrArray  *events)
{
  const char *body;
  gsize body_length;
  guint64 seq;
  gint64 ts;

  return gc_redis_batch_header (data, length, &seq, &ts, &body, &body_length) &&
         gc_redis_batch_body_parse (seq, ts, body, body_length, events);
}

gboolean
gc_redis_record_parse (const char *data,
                       gsize       length,
                       GPtrArray  *events)
{
  const char *p = data, *end = data + length, *field;
  gsize field_length;
  GcRedisRoomEvent *event;

  /* TYPE is the third field; "messages" makes a batch record. */
  if (gc_redis_field_next (&p, end, &field, &field_length) &&
      gc_redis_field_next (&p, end, &field, &field_length) &&
      gc_redis_field_next (&p, end, &field, &field_length) &&
      field_length == 8 && memcmp (field, "messages", 8) == 0)
    return batch_parse (data, length, events);
  event = gc_redis_event_parse (data, length);
  if (event == NULL)
    return FALSE;
  g_ptr_array_add (events, event);
  return TRUE;
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

gboolean
gc_redis_batch_head_parse (const char *head,
                           gsize       length,
                           guint64    *seq,
                           gint64     *ts)
{
  const char *p, *end = head + length;
  guint64 first = 0, time = 0;

  if (length < 4 || head[0] != 'B' || (p = parse_digits (head + 1, end, &first)) == NULL ||
      p == end || *p != ' ' || parse_digits (p + 1, end, &time) != end || first == 0)
    return FALSE;
  *seq = first;
  *ts = (gint64) time;
  return TRUE;
}

void
gc_redis_history_parse (const redisReply *history,
                        GPtrArray        *events)
{
  for (size_t i = 0; i + 1 < history->elements; i += 2)
    {
      const redisReply *head = history->element[i], *body = history->element[i + 1];
      guint64 seq;
      gint64 ts;

      /* An unreadable entry loses its own messages only (a welcome then
       * has fewer, a repair finds its gap), never the newer ones. */
      if (head->type != REDIS_REPLY_STRING || body->type != REDIS_REPLY_STRING ||
          !gc_redis_batch_head_parse (head->str, head->len, &seq, &ts))
        continue;
      gc_redis_batch_body_parse (seq, ts, body->str, body->len, events);
    }
}

/* --- rooms --------------------------------------------------------------- */

/* The events of the next record of a payload of LENGTH:RECORD items (a
 * channel's message, a history entry), appended to @events; moves
 * @cursor past it. FALSE if it is unreadable. */
gboolean
gc_redis_payload_next (const char **cursor,
                       const char  *end,
                       GPtrArray   *events)
{
  const char *record;
  gsize length;

  return gc_redis_field_next (cursor, end, &record, &length) &&
         gc_redis_record_parse (record, length, events);
}
