/* gc-redis-rooms-scripts.h: the Lua scripts of gc-redis-rooms.c
 *
 * Keys of room R (one hash tag, so a cluster would keep them together):
 *   gc:{R}:seq      the room's sequence; created from TIME in µs, so ids
 *                   stay above those of an earlier room of that code
 *   gc:{R}:members  name key → record (user id, name, node, join seq)
 *   gc:{R}:tokens   name key → SHA-256 of the resume token
 *   gc:{R}:history  stream of message records (exactly --history)
 *   gc:{R}:events   stream of every other change (for gap repair)
 * and the channel gc:{R}:ch. Stream entry ids are SEQ-0.
 *
 * Records are fields as LENGTH:BYTES, concatenated: SEQ, TS, TYPE, then
 * the type's fields. Numbers leave Lua through string.format('%.0f'):
 * tostring() would write 1.7e+15.
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
  /* Records a change other than a message and publishes it. */ \
  "local function emit_event(channel, max_events, rec, seq)\n" \
  "  redis.call('XADD', KEYS[5], 'MAXLEN', '~', max_events, num(seq) .. '-0', 'r', rec)\n" \
  "  redis.call('PUBLISH', channel, rec)\n" \
  "end\n"

/* KEYS: seq members tokens history events
 * ARGV: channel name key user_id token_hash node max_members max_events since */
#define GC_REDIS_ROOMS_LUA_JOIN GC_REDIS_ROOMS_LUA_COMMON \
  "if redis.call('HEXISTS', KEYS[2], ARGV[3]) == 1 then\n" \
  "  return {'taken', cur_seq(), redis.call('HKEYS', KEYS[2])}\n" \
  "end\n" \
  "local max = tonumber(ARGV[7])\n" \
  "if max > 0 and redis.call('HLEN', KEYS[2]) >= max then\n" \
  "  return {'full', cur_seq()}\n" \
  "end\n" \
  "local seq = next_seq()\n" \
  "local ts = now_ms()\n" \
  "redis.call('HSET', KEYS[2], ARGV[3], enc(ARGV[4], ARGV[2], ARGV[6], num(seq)))\n" \
  "redis.call('HSET', KEYS[3], ARGV[3], ARGV[5])\n" \
  "emit_event(ARGV[1], ARGV[8], enc(num(seq), ts, 'join', ARGV[4], ARGV[2], ARGV[3], ARGV[6]), seq)\n" \
  "local start = '-'\n" \
  "if ARGV[9] ~= '0' then start = '(' .. ARGV[9] .. '-0' end\n" \
  "local history = {}\n" \
  "for i, e in ipairs(redis.call('XRANGE', KEYS[4], start, '+')) do history[i] = e[2][2] end\n" \
  "local keys, members = {}, {}\n" \
  "local all = redis.call('HGETALL', KEYS[2])\n" \
  "for i = 1, #all, 2 do keys[#keys + 1] = all[i]; members[#members + 1] = all[i + 1] end\n" \
  "return {'ok', num(seq), ts, keys, members, history}\n"

/* KEYS: seq members tokens history events
 * ARGV: channel key user_id reason max_events */
#define GC_REDIS_ROOMS_LUA_LEAVE GC_REDIS_ROOMS_LUA_COMMON \
  "local m = member(ARGV[2], ARGV[3])\n" \
  "if not m then return {'gone', cur_seq()} end\n" \
  "local seq = next_seq()\n" \
  "local ts = now_ms()\n" \
  "redis.call('HDEL', KEYS[2], ARGV[2])\n" \
  "redis.call('HDEL', KEYS[3], ARGV[2])\n" \
  "local rec = enc(num(seq), ts, 'leave', ARGV[3], m[2], ARGV[2], ARGV[4])\n" \
  "if redis.call('HLEN', KEYS[2]) == 0 then\n" \
  /* The last member: the room is gone everywhere. */ \
  "  redis.call('PUBLISH', ARGV[1], rec)\n" \
  "  redis.call('DEL', KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5])\n" \
  "else\n" \
  "  emit_event(ARGV[1], ARGV[5], rec, seq)\n" \
  "end\n" \
  "return {'ok', num(seq), ts}\n"

/* KEYS: seq members tokens history events
 * ARGV: channel key user_id kind text client_id has_client_id history */
#define GC_REDIS_ROOMS_LUA_MESSAGE GC_REDIS_ROOMS_LUA_COMMON \
  "local m = member(ARGV[2], ARGV[3])\n" \
  "if not m then return {'gone', cur_seq()} end\n" \
  "local seq = next_seq()\n" \
  "local ts = now_ms()\n" \
  "local rec = enc(num(seq), ts, 'message', ARGV[3], m[2], ARGV[4], ARGV[5], ARGV[6], ARGV[7])\n" \
  /* Messages are repaired from the history stream: with no history, a \
   * gap that holds one cannot be repaired (and is not silent). */ \
  "if ARGV[8] ~= '0' then\n" \
  "  redis.call('XADD', KEYS[4], 'MAXLEN', ARGV[8], num(seq) .. '-0', 'r', rec)\n" \
  "end\n" \
  "redis.call('PUBLISH', ARGV[1], rec)\n" \
  "return {'ok', num(seq), ts}\n"

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
  "redis.call('HSET', KEYS[2], ARGV[3], enc(m[1], ARGV[4], m[3], m[4]))\n" \
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
 * Everything after @last: the current sequence and both streams' records. */
#define GC_REDIS_ROOMS_LUA_REPAIR GC_REDIS_ROOMS_LUA_COMMON \
  "local start = '(' .. ARGV[1] .. '-0'\n" \
  "local out = {}\n" \
  "for _, e in ipairs(redis.call('XRANGE', KEYS[4], start, '+')) do out[#out + 1] = e[2][2] end\n" \
  "for _, e in ipairs(redis.call('XRANGE', KEYS[5], start, '+')) do out[#out + 1] = e[2][2] end\n" \
  "return {'ok', cur_seq(), out}\n"
