/* gc-redis-rooms-scripts.h: the Lua scripts of gc-redis-rooms.c
 *
 * Keys of room R (one hash tag, so a cluster would keep them together):
 *   gc:{R}:seq      the room's sequence; created from TIME in µs, so ids
 *                   stay above those of an earlier room of that code
 *   gc:{R}:members  name key → record (user id, name, node, join seq)
 *   gc:{R}:tokens   name key → SHA-256 of the resume token
 *   gc:{R}:history  stream of messages, one entry per batch: its id is
 *                   C-0, C the messages ever added to it counting this
 *                   entry's (so a trim by MINID keeps exactly the entries
 *                   that hold the newest messages), its fields h and b,
 *                   the batch's head "B" SEQ " " TS and body as
 *                   published, and n, how many (a welcome takes exactly
 *                   --history messages)
 *   gc:{R}:events   stream of every other change (for gap repair), ids
 *                   SEQ-0
 *   gc:{R}:nodes    node → how many of the room's members it serves
 *   gc:{R}:hcount   messages ever added to the history stream (its ids)
 * and the channel gc:{R}:ch. Per node:
 *   gc:nodes              sorted set, node → lease expiry (ms)
 *   gc:node:N:rooms       the rooms where node N serves members
 *   gc:expiring           sorted set, room → earliest resume deadline of
 *                         members whose node died
 * Scripts touch only keys named in KEYS, except the lease and sweep ones,
 * which walk rooms, and the message script takes the keys of several
 * rooms: Redis Cluster is not supported (hiredis 0.14 has no cluster
 * client either).
 *
 * What a room's channel carries is one or more records, each as
 * LENGTH:RECORD, or a batch of messages as two messages: its head
 * "B" SEQ " " TS, then its body; together they are the batch record
 * SEQ TS "messages" BODY (see GC_REDIS_ROOMS_LUA_MESSAGES).
 * Records are fields as LENGTH:BYTES, concatenated: SEQ, TS, TYPE, then
 * the type's fields. A member is USER_ID NAME NODE JOIN_SEQ EXPIRES_MS
 * (0 while its node lives; else when it leaves unless resumed). Numbers
 * leave Lua through string.format('%.0f'), or '%d' (a C long, exact for
 * ids and cheaper) in the message script: tostring() would write
 * 1.7e+15.
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#define GC_REDIS_ROOMS_LUA_COMMON \
  "local function num(n) return string.format('%.0f', n) end\n" \
  "local function enc(...)\n" \
  "  local out = {}\n" \
  "  for i = 1, select('#', ...) do\n" \
  "    local v = tostring((select(i, ...)))\n" \
  "    out[#out + 1] = #v .. ':' .. v\n" \
  "  end\n" \
  "  return table.concat(out)\n" \
  "end\n" \
  "local function dec(s)\n" \
  "  local out, i = {}, 1\n" \
  "  while i <= #s do\n" \
  "    local c = string.find(s, ':', i, true)\n" \
  "    local n = tonumber(string.sub(s, i, c - 1))\n" \
  "    out[#out + 1] = string.sub(s, c + 1, c + n)\n" \
  "    i = c + 1 + n\n" \
  "  end\n" \
  "  return out\n" \
  "end\n" \
  "local function next_seq()\n" \
  "  if redis.call('EXISTS', KEYS[1]) == 0 then\n" \
  "    local t = redis.call('TIME')\n" \
  "    redis.call('SET', KEYS[1], num(tonumber(t[1]) * 1000000 + tonumber(t[2])))\n" \
  "  end\n" \
  "  return redis.call('INCR', KEYS[1])\n" \
  "end\n" \
  "local function now_ms()\n" \
  "  local t = redis.call('TIME')\n" \
  "  return num(tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000))\n" \
  "end\n" \
  "local function node_rooms(node) return 'gc:node:' .. node .. ':rooms' end\n" \
  "local function node_add(nodes_key, node, code)\n" \
  "  if redis.call('HINCRBY', nodes_key, node, 1) == 1 then redis.call('SADD', node_rooms(node), code) end\n" \
  "end\n" \
  "local function node_remove(nodes_key, node, code)\n" \
  "  if redis.call('HINCRBY', nodes_key, node, -1) <= 0 then\n" \
  "    redis.call('HDEL', nodes_key, node)\n" \
  "    redis.call('SREM', node_rooms(node), code)\n" \
  "  end\n" \
  "end\n" \
  "local function cur_seq()\n" \
  "  return redis.call('GET', KEYS[1]) or '0'\n" \
  "end\n" \
  /* The member of @key if its user id is @id, else nil. */ \
  "local function member(key, id)\n" \
  "  local m = redis.call('HGET', KEYS[2], key)\n" \
  "  if not m then return nil end\n" \
  "  local f = dec(m)\n" \
  "  if f[1] ~= id then return nil end\n" \
  "  return f\n" \
  "end\n" \
  /* What a welcome needs: every member, and the history entries that \
   * hold the newest `count` messages after since, oldest first, each as \
   * its head and body (false for a field it lacks: the pairs keep \
   * their places). An entry holds one call's messages (n of them, \
   * with consecutive seqs from its id's); the node takes exactly the \
   * newest `count` after since from them. The message script trims the \
   * stream by messages, not entries. */ \
  "local function welcome(since, count)\n" \
  "  local history, newest = {}, {}\n" \
  "  local want, after = tonumber(count), tonumber(since)\n" \
  "  if want > 0 then\n" \
  "    local got = 0\n" \
  "    for _, e in ipairs(redis.call('XREVRANGE', KEYS[4], '+', '-', 'COUNT', count)) do\n" \
  "      local n = tonumber(e[2][6]) or 1\n" \
  "      if (tonumber(string.match(e[2][2], '^B(%d+)')) or 0) + n - 1 <= after then break end\n" \
  "      newest[#newest + 1] = e[2]\n" \
  "      got = got + n\n" \
  "      if got >= want then break end\n" \
  "    end\n" \
  "  end\n" \
  "  for i = #newest, 1, -1 do\n" \
  "    history[#history + 1] = newest[i][2] or false\n" \
  "    history[#history + 1] = newest[i][4] or false\n" \
  "  end\n" \
  "  local keys, members = {}, {}\n" \
  "  local all = redis.call('HGETALL', KEYS[2])\n" \
  "  for i = 1, #all, 2 do keys[#keys + 1] = all[i]; members[#members + 1] = all[i + 1] end\n" \
  "  return keys, members, history\n" \
  "end\n" \
  /* Records a change other than a message and publishes it. */ \
  "local function emit_event(channel, max_events, rec, seq)\n" \
  "  redis.call('XADD', KEYS[5], 'MAXLEN', '~', max_events, num(seq) .. '-0', 'r', rec)\n" \
  "  redis.call('PUBLISH', channel, #rec .. ':' .. rec)\n" \
  "end\n"

/* KEYS: seq members tokens history events
 * ARGV: channel name key user_id token_hash node max_members max_events since code history */
/* room_full before name_taken (docs/protocol.md §3.7, steps 11-12). */
#define GC_REDIS_ROOMS_LUA_JOIN GC_REDIS_ROOMS_LUA_COMMON \
  "local max = tonumber(ARGV[7])\n" \
  "if max > 0 and redis.call('HLEN', KEYS[2]) >= max then\n" \
  "  return {'full', cur_seq()}\n" \
  "end\n" \
  "if redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then\n" \
  "  return {'taken', cur_seq(), redis.call('HKEYS', KEYS[2])}\n" \
  "end\n" \
  "local seq = next_seq()\n" \
  "local ts = now_ms()\n" \
  "redis.call('HSET', KEYS[2], ARGV[3], enc(ARGV[4], ARGV[2], ARGV[6], num(seq), '0'))\n" \
  "redis.call('HSET', KEYS[3], ARGV[3], ARGV[5])\n" \
  "node_add(KEYS[6], ARGV[6], ARGV[10])\n" \
  "emit_event(ARGV[1], ARGV[8], enc(num(seq), ts, 'join', ARGV[4], ARGV[2], ARGV[3], ARGV[6]), seq)\n" \
  "local keys, members, history = welcome(ARGV[9], ARGV[11])\n" \
  "return {'ok', num(seq), ts, keys, members, history}\n"

/* KEYS: seq members tokens history events nodes hcount
 * ARGV: channel key user_id reason max_events code */
#define GC_REDIS_ROOMS_LUA_LEAVE GC_REDIS_ROOMS_LUA_COMMON \
  "local key = ARGV[2]\n" \
  "local m = member(key, ARGV[3])\n" \
  /* Renamed after the node sent this (a member that leaves right after \
   * its rename, before the node applied it): found by its user id, \
   * rarely, else it stayed under its new name for good. */ \
  "if not m then\n" \
  "  local idf = #ARGV[3] .. ':' .. ARGV[3]\n" \
  "  local all = redis.call('HGETALL', KEYS[2])\n" \
  "  for i = 1, #all, 2 do\n" \
  "    if string.sub(all[i + 1], 1, #idf) == idf then\n" \
  "      key = all[i]\n" \
  "      m = member(key, ARGV[3])\n" \
  "      break\n" \
  "    end\n" \
  "  end\n" \
  "  if not m then return {'gone', cur_seq()} end\n" \
  "end\n" \
  "local seq = next_seq()\n" \
  "local ts = now_ms()\n" \
  "redis.call('HDEL', KEYS[2], key)\n" \
  "redis.call('HDEL', KEYS[3], key)\n" \
  "node_remove(KEYS[6], m[3], ARGV[6])\n" \
  "local rec = enc(num(seq), ts, 'leave', ARGV[3], m[2], key, ARGV[4])\n" \
  "if redis.call('HLEN', KEYS[2]) == 0 then\n" \
  /* The last member: the room is gone everywhere, and a room of that \
   * code created later has a new sequence ('deleted' says so). */ \
  "  redis.call('PUBLISH', ARGV[1], #rec .. ':' .. rec)\n" \
  "  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6], KEYS[7])\n" \
  "  redis.call('ZREM', 'gc:expiring', ARGV[6])\n" \
  "  return {'ok', num(seq), ts, 'deleted'}\n" \
  "else\n" \
  "  emit_event(ARGV[1], ARGV[5], rec, seq)\n" \
  "end\n" \
  "return {'ok', num(seq), ts}\n"

/* KEYS: for each room, seq members history hcount
 * ARGV: keep rooms, then for each room: channel n senders, the senders'
 * keys, their prefixes (as many), body
 * The hot path (issue 13): one call per node per flush, for every room
 * with messages to send (the cost of a call, EVALSHA, KEYS and ARGV,
 * TIME, the answer, is paid once), and Lua makes no big string (every
 * Lua string is hashed whole, and number formatting goes through
 * printf: those were most of the script's cost). keep is the messages
 * the history stream keeps at least (0 for no stream). A room's body is
 * n items, LEN:ITEM each, ITEM a message record without SEQ and TS
 * (TYPE, then USER_ID NAME KIND TEXT CLIENT_ID HAS_CLIENT_ID, or USER_ID
 * NAME JSON: the event's JSON after its ts, built by the sender's node
 * for all); prefix is the sender's ID and NAME fields as the node knows
 * them, for each distinct sender. A room's batch goes out as two
 * consecutive PUBLISHes, its head "B" SEQ " " TS then its body (a
 * script's PUBLISHes reach every subscriber together, in order), and
 * into the history stream as one entry with the same two parts; its
 * items have seqs SEQ, SEQ + 1, ... and the time TS. If a sender is not
 * in the room, or its name in Redis is another (a rename ran before
 * it), its messages are dropped in the same call, in the room's order.
 * One TIME per call, one HMGET per room. Answers TS, then for
 * each room the first message's seq (0 if none went out) and one status
 * letter per message, o (out) or g (gone: its sender is not in the room
 * under that name); the messages that went out have consecutive seqs, in
 * order. A room whose part failed (its keys hold what Redis cannot use)
 * answers the error's text and an e per message: only its messages
 * fail. A sender that exists means the room and its sequence do. */
#define GC_REDIS_ROOMS_LUA_MESSAGES \
  "local t = redis.call('TIME')\n" \
  /* Milliseconds without printf: the seconds, then the microseconds' \
   * first three of six digits. */ \
  "local ts = t[1] .. string.sub('00000' .. t[2], -6, -4)\n" \
  "local h = tonumber(ARGV[1])\n" \
  "local out = {ts}\n" \
  /* The room whose keys start at KEYS[k + 1], its arguments at ARGV[a]: \
   * answers its first seq and status. */ \
  "local function room(k, a)\n" \
  "  local channel, count, senders = ARGV[a], ARGV[a + 1], tonumber(ARGV[a + 2])\n" \
  "  local gone\n" \
  "  local members = redis.call('HMGET', KEYS[k + 2], unpack(ARGV, a + 3, a + 2 + senders))\n" \
  "  for i = 1, senders do\n" \
  "    local p = ARGV[a + 2 + senders + i]\n" \
  "    local m = members[i]\n" \
  /* m starts with p: a plain find makes no string (string.sub did, \
   * hashed). */ \
  "    if not m or string.find(m, p, 1, true) ~= 1 then\n" \
  "      gone = gone or {}\n" \
  "      gone[p] = true\n" \
  "    end\n" \
  "  end\n" \
  "  local body = ARGV[a + 3 + senders * 2]\n" \
  "  local n = tonumber(count)\n" \
  "  local status = string.rep('o', n)\n" \
  /* Rare: the items of the senders not in the room are dropped here, in \
   * the same call (sending them again later put them behind whatever \
   * the node had pipelined meanwhile: a leave, another batch). An item \
   * is 7:message, then the sender's ID and NAME fields (its prefix). */ \
  "  if gone then\n" \
  "    local kept, letters, pos = {}, {}, 1\n" \
  "    while pos <= #body do\n" \
  "      local c = string.find(body, ':', pos, true)\n" \
  "      local item, stop = c + 1, c + tonumber(string.sub(body, pos, c - 1))\n" \
  "      local f = item + 9\n" \
  "      c = string.find(body, ':', f, true)\n" \
  "      c = c + tonumber(string.sub(body, f, c - 1)) + 1\n" \
  "      local e = string.find(body, ':', c, true)\n" \
  "      if gone[string.sub(body, f, e + tonumber(string.sub(body, c, e - 1)))] then\n" \
  "        letters[#letters + 1] = 'g'\n" \
  "      else\n" \
  "        letters[#letters + 1] = 'o'\n" \
  "        kept[#kept + 1] = string.sub(body, pos, stop)\n" \
  "      end\n" \
  "      pos = stop + 1\n" \
  "    end\n" \
  "    status = table.concat(letters)\n" \
  "    body = table.concat(kept)\n" \
  "    n = #kept\n" \
  "    if n == 0 then return '0', status end\n" \
  "    count = string.format('%d', n)\n" \
  "  end\n" \
  /* The counters first: a room whose keys fail takes no seq it does \
   * not publish (the other nodes would see a gap they cannot repair); \
   * a seq that fails gives the history's count back (a trim would keep \
   * fewer messages than it counts). */ \
  "  local c = h > 0 and redis.call('INCRBY', KEYS[k + 4], count)\n" \
  "  local seq = redis.pcall('INCRBY', KEYS[k + 1], count)\n" \
  "  if type(seq) == 'table' then\n" \
  "    if c then redis.call('DECRBY', KEYS[k + 4], count) end\n" \
  "    error(seq)\n" \
  "  end\n" \
  /* %d formats a C long (Lua 5.1's LUA_INTFRM_T): exact for ids, and \
   * without %.0f's floating-point printf. */ \
  "  local first = string.format('%d', seq - n + 1)\n" \
  "  local head = 'B' .. first .. ' ' .. ts\n" \
  /* The history stream, trimmed in the same XADD each time it passes \
   * another keep messages (so it holds fewer than 2 * keep + 64; an \
   * exact trim on every XADD cost a third of it): its ids count \
   * messages, so the entries with ids above C - keep hold the newest \
   * keep messages and no more than one entry besides, and no entry \
   * (~2 KB each) comes into Lua to find them. */ \
  "  if h > 0 then\n" \
  "    local added\n" \
  "    if math.floor(c / h) ~= math.floor((c - n) / h) then\n" \
  "      added = redis.pcall('XADD', KEYS[k + 3], 'MINID', math.max(c - h + 1, 0), c, 'h', head, 'b', body, 'n', count)\n" \
  "    else\n" \
  "      added = redis.pcall('XADD', KEYS[k + 3], c, 'h', head, 'b', body, 'n', count)\n" \
  "    end\n" \
  /* A stream of an earlier version (ids SEQ-0, above C): started \
   * again rather than fail every room of the call. */ \
  "    if type(added) == 'table' and added.err then\n" \
  "      redis.call('DEL', KEYS[k + 3])\n" \
  "      redis.call('XADD', KEYS[k + 3], c, 'h', head, 'b', body, 'n', count)\n" \
  "    end\n" \
  "  end\n" \
  "  redis.call('PUBLISH', channel, head)\n" \
  "  redis.call('PUBLISH', channel, body)\n" \
  "  return first, status\n" \
  "end\n" \
  "local a = 3\n" \
  "for k = 0, tonumber(ARGV[2]) * 4 - 1, 4 do\n" \
  "  local next_a = a + 4 + tonumber(ARGV[a + 2]) * 2\n" \
  /* A room Redis cannot serve (its keys hold other types or values) \
   * fails alone: its answer is the error and an e per message, and the \
   * other rooms of the call go on (review s5 R3). */ \
  "  local ok, first, status = pcall(room, k, a)\n" \
  "  if not ok then\n" \
  "    first = type(first) == 'table' and first.err or tostring(first)\n" \
  "    status = string.rep('e', tonumber(ARGV[a + 1]))\n" \
  "  end\n" \
  "  out[#out + 1] = first\n" \
  "  out[#out + 1] = status\n" \
  "  a = next_a\n" \
  "end\n" \
  "return out\n"

/* KEYS: seq members tokens history events
 * ARGV: channel old_key new_key new_name user_id max_events */
#define GC_REDIS_ROOMS_LUA_RENAME GC_REDIS_ROOMS_LUA_COMMON \
  "local m = member(ARGV[2], ARGV[5])\n" \
  "if not m then return {'gone', cur_seq()} end\n" \
  "if ARGV[3] ~= ARGV[2] and redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then\n" \
  "  return {'taken', cur_seq(), redis.call('HKEYS', KEYS[2])}\n" \
  "end\n" \
  "local seq = next_seq()\n" \
  "local ts = now_ms()\n" \
  "local token = redis.call('HGET', KEYS[3], ARGV[2])\n" \
  "redis.call('HDEL', KEYS[2], ARGV[2])\n" \
  "redis.call('HDEL', KEYS[3], ARGV[2])\n" \
  "redis.call('HSET', KEYS[2], ARGV[3], enc(m[1], ARGV[4], m[3], m[4], m[5]))\n" \
  "if token then redis.call('HSET', KEYS[3], ARGV[3], token) end\n" \
  "emit_event(ARGV[1], ARGV[6], enc(num(seq), ts, 'rename', ARGV[5], ARGV[4], m[2], ARGV[3], ARGV[2]), seq)\n" \
  "return {'ok', num(seq), ts}\n"

/* KEYS: seq members tokens history events
 * ARGV: channel key user_id active max_events */
#define GC_REDIS_ROOMS_LUA_TYPING GC_REDIS_ROOMS_LUA_COMMON \
  "local m = member(ARGV[2], ARGV[3])\n" \
  "if not m then return {'gone', cur_seq()} end\n" \
  "local seq = next_seq()\n" \
  "local ts = now_ms()\n" \
  "emit_event(ARGV[1], ARGV[5], enc(num(seq), ts, 'typing', ARGV[3], m[2], ARGV[4]), seq)\n" \
  "return {'ok', num(seq), ts}\n"

/* KEYS: seq members tokens history events
 * ARGV: last (the last sequence applied)
 * Everything after @last: the current sequence, the events stream's
 * records and the history entries that may hold messages after it (the
 * one that starts at or before it, and those after; head and body
 * each, oldest first): read newest first, in pages, up to the first
 * that starts at or before it (history ids count messages, not seqs). */
#define GC_REDIS_ROOMS_LUA_REPAIR GC_REDIS_ROOMS_LUA_COMMON \
  "local start = '(' .. ARGV[1] .. '-0'\n" \
  "local last = tonumber(ARGV[1])\n" \
  "local events, history, newest, from = {}, {}, {}, '+'\n" \
  "while from do\n" \
  "  local es = redis.call('XREVRANGE', KEYS[4], from, '-', 'COUNT', 32)\n" \
  "  from = #es == 32 and '(' .. es[#es][1] or nil\n" \
  "  for _, e in ipairs(es) do\n" \
  "    newest[#newest + 1] = e[2]\n" \
  "    if (tonumber(string.match(e[2][2], '^B(%d+)')) or 0) <= last then from = nil; break end\n" \
  "  end\n" \
  "end\n" \
  "for i = #newest, 1, -1 do\n" \
  "  history[#history + 1] = newest[i][2] or false\n" \
  "  history[#history + 1] = newest[i][4] or false\n" \
  "end\n" \
  "for _, e in ipairs(redis.call('XRANGE', KEYS[5], start, '+')) do events[#events + 1] = e[2][2] end\n" \
  "return {'ok', cur_seq(), events, history}\n"

/* KEYS: seq members tokens history events nodes
 * ARGV: channel key token_hash node max_events since code history
 * Takes over a member (on another node, maybe a dead one) whose token's
 * SHA-256 is token_hash: no leave, no join; its old node closes the old
 * connection (4000) when it sees the resume. */
#define GC_REDIS_ROOMS_LUA_RESUME GC_REDIS_ROOMS_LUA_COMMON \
  "local m = redis.call('HGET', KEYS[2], ARGV[2])\n" \
  "if not m or redis.call('HGET', KEYS[3], ARGV[2]) ~= ARGV[3] then\n" \
  "  return {'invalid', cur_seq()}\n" \
  "end\n" \
  "local f = dec(m)\n" \
  "local seq = next_seq()\n" \
  "local ts = now_ms()\n" \
  "node_remove(KEYS[6], f[3], ARGV[7])\n" \
  "node_add(KEYS[6], ARGV[4], ARGV[7])\n" \
  "redis.call('HSET', KEYS[2], ARGV[2], enc(f[1], f[2], ARGV[4], f[4], '0'))\n" \
  "emit_event(ARGV[1], ARGV[5], enc(num(seq), ts, 'resume', f[1], f[2], ARGV[2], ARGV[4], f[3]), seq)\n" \
  "local keys, members, history = welcome(ARGV[6], ARGV[8])\n" \
  "return {'ok', num(seq), ts, keys, members, history, f[1]}\n"

/* KEYS: gc:nodes
 * ARGV: node lease_ms first
 * Renews a node's lease; a node whose lease ran out and was swept is
 * fenced: its members were handed over, it must drop them all. */
#define GC_REDIS_ROOMS_LUA_RENEW \
  "local t = redis.call('TIME')\n" \
  "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n" \
  "if ARGV[3] ~= '1' and not redis.call('ZSCORE', KEYS[1], ARGV[1]) then\n" \
  "  return {'fenced', '0'}\n" \
  "end\n" \
  "redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])\n" \
  "return {'ok', tostring(redis.call('ZCARD', KEYS[1]))}\n"

/* KEYS: gc:nodes gc:expiring
 * ARGV: resume_ms max_events
 * Run by every node often; atomic, so whoever comes first does the work.
 * Members of nodes whose lease ran out wait for a resume for resume_ms;
 * those whose wait is over leave with reason timeout. */
#define GC_REDIS_ROOMS_LUA_SWEEP GC_REDIS_ROOMS_LUA_COMMON \
  "local t = redis.call('TIME')\n" \
  "local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)\n" \
  "local resume = tonumber(ARGV[1])\n" \
  "local dead = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', now)\n" \
  "for _, d in ipairs(dead) do\n" \
  "  redis.call('ZREM', KEYS[1], d)\n" \
  "  for _, code in ipairs(redis.call('SMEMBERS', node_rooms(d))) do\n" \
  "    local mk = 'gc:{' .. code .. '}:members'\n" \
  "    local all = redis.call('HGETALL', mk)\n" \
  "    local marked = false\n" \
  "    for i = 1, #all, 2 do\n" \
  "      local f = dec(all[i + 1])\n" \
  "      if f[3] == d and f[5] == '0' then\n" \
  "        redis.call('HSET', mk, all[i], enc(f[1], f[2], f[3], f[4], num(now + resume)))\n" \
  "        marked = true\n" \
  "      end\n" \
  "    end\n" \
  "    if marked then redis.call('ZADD', KEYS[2], 'NX', now + resume, code) end\n" \
  "  end\n" \
  "  redis.call('DEL', node_rooms(d))\n" \
  "end\n" \
  "local left = 0\n" \
  "for _, code in ipairs(redis.call('ZRANGEBYSCORE', KEYS[2], '-inf', now)) do\n" \
  "  local p = 'gc:{' .. code .. '}:'\n" \
  "  local mk = p .. 'members'\n" \
  "  local all = redis.call('HGETALL', mk)\n" \
  "  local next_expiry = nil\n" \
  "  for i = 1, #all, 2 do\n" \
  "    local f = dec(all[i + 1])\n" \
  "    local e = tonumber(f[5]) or 0\n" \
  "    if e > 0 and e <= now then\n" \
  "      redis.call('HDEL', mk, all[i])\n" \
  "      redis.call('HDEL', p .. 'tokens', all[i])\n" \
  "      node_remove(p .. 'nodes', f[3], code)\n" \
  "      local s = redis.call('INCR', p .. 'seq')\n" \
  "      local rec = enc(num(s), num(now), 'leave', f[1], f[2], all[i], 'timeout')\n" \
  "      if redis.call('HLEN', mk) == 0 then\n" \
  "        redis.call('PUBLISH', p .. 'ch', #rec .. ':' .. rec)\n" \
  "        redis.call('DEL', p .. 'seq', mk, p .. 'tokens', p .. 'history', p .. 'events', p .. 'nodes', p .. 'hcount')\n" \
  "      else\n" \
  "        redis.call('XADD', p .. 'events', 'MAXLEN', '~', ARGV[2], num(s) .. '-0', 'r', rec)\n" \
  "        redis.call('PUBLISH', p .. 'ch', #rec .. ':' .. rec)\n" \
  "      end\n" \
  "      left = left + 1\n" \
  "    elseif e > 0 and (not next_expiry or e < next_expiry) then\n" \
  "      next_expiry = e\n" \
  "    end\n" \
  "  end\n" \
  "  if next_expiry then redis.call('ZADD', KEYS[2], next_expiry, code)\n" \
  "  else redis.call('ZREM', KEYS[2], code) end\n" \
  "end\n" \
  "return {'ok', tostring(#dead), tostring(left)}\n"
