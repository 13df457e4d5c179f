/* gc-test-cluster.h: several gochat-server nodes sharing rooms through a
 * redis-server of the test's own (--redis, issue 13)
 *
 * A g_test_add fixture: the setup starts redis-server (gc-test-redis.h)
 * and the nodes, as processes, with short test settings (lease 1 s,
 * resume window 2 s, history 50, a rate limit a burst test stays under).
 * Without redis-server installed it starts nothing, and the test calls
 * gc_test_cluster_skip() first:
 *
 *   static void
 *   test_x (GcTestCluster *cluster, gconstpointer data)
 *   {
 *     if (gc_test_cluster_skip (cluster))
 *       return;
 *     alice = gc_test_client_join (gc_test_cluster_port (cluster, 0), "r", "Alice");
 *     …
 *   }
 *   gc_test_add_cluster ("/x", NULL, test_x);
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "gc-test-redis.h"
#include "gc-test-server.h"

G_BEGIN_DECLS

#define GC_TEST_CLUSTER_MAX_NODES 4

typedef struct {
  GcTestRedis         *redis;
  GcTestServerProcess *nodes[GC_TEST_CLUSTER_MAX_NODES];
  guint                n_nodes;
} GcTestCluster;

/* What a fixture starts (NULL: the defaults). */
typedef struct {
  guint               n_nodes;     /* 0: 2 */
  const char * const *redis_args;  /* more redis-server "--name value" arguments */
  const char * const *node_args;   /* more gochat-server arguments, after the defaults */
} GcTestClusterOptions;

void                 gc_test_cluster_setup      (GcTestCluster *cluster,
                                                 gconstpointer  options);
void                 gc_test_cluster_teardown   (GcTestCluster *cluster,
                                                 gconstpointer  options);
/* TRUE (and the test skipped) when redis-server is not installed. */
gboolean             gc_test_cluster_skip       (GcTestCluster *cluster);
guint16              gc_test_cluster_port       (GcTestCluster *cluster,
                                                 guint          node);
/* The value of the /metrics sample @name (no labels) of @node; fails the
 * test if it has none. */
guint64              gc_test_cluster_get_metric (GcTestCluster *cluster,
                                                 guint          node,
                                                 const char    *name);
/* SIGSTOP and SIGCONT @node. A node still stopped is continued by the
 * teardown, and by a failed assertion's abort (so that it then ends with
 * the test, as every node does). */
void                 gc_test_cluster_stop_node     (GcTestCluster *cluster,
                                                    guint          node);
void                 gc_test_cluster_continue_node (GcTestCluster *cluster,
                                                    guint          node);
/* One more node on the cluster's Redis, with the defaults and @args
 * (NULL-terminated, may be NULL); the caller frees it. */
GcTestServerProcess *gc_test_cluster_start_node (GcTestCluster      *cluster,
                                                 const char * const *args);

#define gc_test_add_cluster(path, options, test)                              \
  g_test_add ((path), GcTestCluster, (gconstpointer) (options),               \
              gc_test_cluster_setup, (test), gc_test_cluster_teardown)

G_END_DECLS
