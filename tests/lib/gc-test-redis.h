/* gc-test-redis.h: a redis-server of the test's own, in a temp dir
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

typedef struct _GcTestRedis GcTestRedis;

/* Path of redis-server, or NULL if it is not installed. */
const char  *gc_test_redis_server_path (void);

/* Starts redis-server on a unix socket in a new temporary directory, TCP
 * off, no persistence; waits (main loop, deadline) until it answers.
 * @extra_args: more "--name value" arguments, or NULL. */
GcTestRedis *gc_test_redis_start    (const char * const *extra_args);
/* For a fixture's setup: gc_test_redis_start(), or NULL when redis-server
 * is not installed; the test then calls gc_test_redis_skip() first. */
GcTestRedis *gc_test_redis_start_if_installed (const char * const *extra_args);
/* TRUE (and the test skipped) when @redis is NULL. */
gboolean     gc_test_redis_skip     (GcTestRedis *redis);
/* unix:///…/r.sock */
const char  *gc_test_redis_get_url  (GcTestRedis *redis);
const char  *gc_test_redis_get_socket (GcTestRedis *redis);
GPid         gc_test_redis_get_pid  (GcTestRedis *redis);
/* SIGKILL, and wait for the process to be gone. */
void         gc_test_redis_kill     (GcTestRedis *redis);
/* Starts it again on the same socket (after kill). */
void         gc_test_redis_restart  (GcTestRedis *redis);
/* One command through a blocking connection of its own (redis-cli-like,
 * for the test's side channel); returns the reply as text (integers in
 * decimal, arrays as their elements joined by spaces, errors as
 * "ERR …"). */
char        *gc_test_redis_run      (GcTestRedis *redis,
                                     const char  *first_arg,
                                     ...) G_GNUC_NULL_TERMINATED;
/* Kills the server, removes its directory. */
void         gc_test_redis_free     (GcTestRedis *redis);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (GcTestRedis, gc_test_redis_free)

G_END_DECLS
