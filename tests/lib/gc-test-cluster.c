/* gc-test-cluster.c: several gochat-server nodes on one redis-server
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include "gc-test-cluster.h"
#include "gc-test-http.h"

#include <signal.h>
#include <string.h>

/* Nodes stopped by gc_test_cluster_stop_node() and not yet continued. A
 * failed assertion aborts the test before its teardown; the nodes' death
 * signal (SIGTERM, gc-test-server.c) would stay pending on a stopped node
 * and leave it behind for good, so the abort continues them first. Read
 * in a signal handler: plain pids, kill() only. */
static volatile pid_t stopped_pids[GC_TEST_CLUSTER_MAX_NODES * 2];

static void
continue_stopped_on_abort (int signum)
{
  for (guint i = 0; i < G_N_ELEMENTS (stopped_pids); i++)
    if (stopped_pids[i] > 0)
      kill (stopped_pids[i], SIGCONT);
  signal (signum, SIG_DFL);
  raise (signum);
}

void
gc_test_cluster_stop_node (GcTestCluster *cluster,
                           guint          node)
{
  static gsize handlers_set = 0;
  const char *id;
  pid_t pid;

  g_assert_cmpuint (node, <, cluster->n_nodes);
  id = g_subprocess_get_identifier (cluster->nodes[node]->process);
  g_assert_nonnull (id);
  pid = (pid_t) g_ascii_strtoll (id, NULL, 10);
  if (g_once_init_enter (&handlers_set))
    {
      /* g_assert() aborts; g_error() traps. */
      signal (SIGABRT, continue_stopped_on_abort);
      signal (SIGTRAP, continue_stopped_on_abort);
      g_once_init_leave (&handlers_set, 1);
    }
  for (guint i = 0; i < G_N_ELEMENTS (stopped_pids); i++)
    if (stopped_pids[i] == 0 || stopped_pids[i] == pid)
      {
        stopped_pids[i] = pid;
        break;
      }
  kill (pid, SIGSTOP);
}

void
gc_test_cluster_continue_node (GcTestCluster *cluster,
                               guint          node)
{
  g_assert_cmpuint (node, <, cluster->n_nodes);
  g_subprocess_send_signal (cluster->nodes[node]->process, SIGCONT);
  for (guint i = 0; i < G_N_ELEMENTS (stopped_pids); i++)
    {
      const char *id = g_subprocess_get_identifier (cluster->nodes[node]->process);

      if (id != NULL && stopped_pids[i] == (pid_t) g_ascii_strtoll (id, NULL, 10))
        stopped_pids[i] = 0;
    }
}

GcTestServerProcess *
gc_test_cluster_start_node (GcTestCluster      *cluster,
                            const char * const *args)
{
  static const char * const defaults[] = {
    "--redis-lease-ms", "1000",
    "--resume-seconds", "2",
    "--history", "50",
    "--rate-burst", "200",
    "--rate-per-second", "200",
  };
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();

  g_return_val_if_fail (cluster->redis != NULL, NULL);

  g_ptr_array_add (argv, (gpointer) "--redis");
  g_ptr_array_add (argv, (gpointer) gc_test_redis_get_url (cluster->redis));
  for (guint i = 0; i < G_N_ELEMENTS (defaults); i++)
    g_ptr_array_add (argv, (gpointer) defaults[i]);
  for (guint i = 0; args != NULL && args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  return gc_test_server_process_startv ((const char * const *) argv->pdata,
                                        GC_TEST_SERVER_PROCESS_DEFAULT);
}

void
gc_test_cluster_setup (GcTestCluster *cluster,
                       gconstpointer  data)
{
  const GcTestClusterOptions *options = data;

  cluster->n_nodes = options != NULL && options->n_nodes > 0 ? options->n_nodes : 2;
  g_assert_cmpuint (cluster->n_nodes, <=, GC_TEST_CLUSTER_MAX_NODES);
  cluster->redis = gc_test_redis_start_if_installed (options != NULL ? options->redis_args : NULL);
  for (guint i = 0; cluster->redis != NULL && i < cluster->n_nodes; i++)
    cluster->nodes[i] = gc_test_cluster_start_node (cluster,
                                                    options != NULL ? options->node_args : NULL);
}

void
gc_test_cluster_teardown (GcTestCluster *cluster,
                          gconstpointer  data)
{
  for (guint i = 0; i < G_N_ELEMENTS (cluster->nodes); i++)
    {
      /* A test that ended between gc_test_cluster_stop_node() and its
       * continue (a skip, a non-fatal failure) leaves no stopped node. */
      if (cluster->nodes[i] != NULL && !cluster->nodes[i]->exited)
        gc_test_cluster_continue_node (cluster, i);
      g_clear_pointer (&cluster->nodes[i], gc_test_server_process_free);
    }
  g_clear_pointer (&cluster->redis, gc_test_redis_free);
}

gboolean
gc_test_cluster_skip (GcTestCluster *cluster)
{
  return gc_test_redis_skip (cluster->redis);
}

guint16
gc_test_cluster_port (GcTestCluster *cluster,
                      guint          node)
{
  g_assert_cmpuint (node, <, cluster->n_nodes);
  g_assert_nonnull (cluster->nodes[node]);
  return cluster->nodes[node]->port;
}

guint64
gc_test_cluster_get_metric (GcTestCluster *cluster,
                            guint          node,
                            const char    *name)
{
  g_autoptr(GcTestHttpResponse) response =
    gc_test_http_get ("127.0.0.1", gc_test_cluster_port (cluster, node), NULL, "/metrics");
  g_autofree char *prefix = g_strdup_printf ("\n%s ", name);
  const char *line;

  g_assert_cmpuint (response->status, ==, 200);
  line = strstr (response->body_text, prefix);
  if (line == NULL)
    g_error ("node %u: no %s in /metrics", node, name);
  return g_ascii_strtoull (line + strlen (prefix), NULL, 10);
}
