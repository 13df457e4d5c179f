/* gc-bench-proc.c: another process's CPU time and memory, from /proc
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>
#include <unistd.h>

#include <gio/gio.h>

#include "gc-bench-proc.h"

/* Fields of /proc/PID/stat after the ")" that closes the command name:
 * the third field (state) is the first of them, utime is the 14th. */
#define STAT_UTIME_TOKEN (14 - 3)
#define STAT_STIME_TOKEN (15 - 3)

static gboolean
parse_stat (const char  *contents,
            double      *cpu_seconds,
            GError     **error)
{
  /* The command name may hold spaces and parentheses: its end is the
   * last ")". */
  const char *rest = strrchr (contents, ')');
  g_auto(GStrv) tokens = NULL;
  guint64 utime;
  guint64 stime;
  long ticks = sysconf (_SC_CLK_TCK);

  if (rest == NULL)
    goto invalid;

  tokens = g_strsplit (rest + 1, " ", STAT_STIME_TOKEN + 3);
  if (g_strv_length (tokens) < STAT_STIME_TOKEN + 2 ||
      !g_ascii_string_to_unsigned (tokens[STAT_UTIME_TOKEN + 1], 10, 0, G_MAXUINT64, &utime, NULL) ||
      !g_ascii_string_to_unsigned (tokens[STAT_STIME_TOKEN + 1], 10, 0, G_MAXUINT64, &stime, NULL))
    goto invalid;

  *cpu_seconds = (double) (utime + stime) / (double) (ticks > 0 ? ticks : 100);
  return TRUE;

invalid:
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "unexpected contents in /proc/PID/stat");
  return FALSE;
}

/* The value in kB of a "Key:   N kB" line of /proc/PID/status. */
static gboolean
status_field_kb (const char *contents,
                 const char *key,
                 guint64    *out_kb)
{
  gsize key_len = strlen (key);

  for (const char *line = contents; line != NULL && *line != '\0'; )
    {
      if (strncmp (line, key, key_len) == 0 && line[key_len] == ':')
        {
          const char *value = line + key_len + 1;
          char *end;

          while (*value == ' ' || *value == '\t')
            value++;
          *out_kb = g_ascii_strtoull (value, &end, 10);
          return end != value;
        }
      line = strchr (line, '\n');
      if (line != NULL)
        line++;
    }

  return FALSE;
}

/* Sums the run time of every live thread (the first field of each
 * task's schedstat, in ns) and notes which threads they were. Leaves
 * n_threads 0 where schedstat is missing (a kernel without it). */
static void
sample_threads (int                pid,
                GcBenchProcSample *sample)
{
  g_autofree char *task_path = g_strdup_printf ("/proc/%d/task", pid);
  g_autoptr(GDir) dir = g_dir_open (task_path, 0, NULL);
  const char *task;

  sample->run_ns = 0;
  sample->n_threads = 0;
  sample->thread_sum = 0;
  sample->thread_xor = 0;

  while (dir != NULL && (task = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *path = g_build_filename (task_path, task, "schedstat", NULL);
      g_autofree char *contents = NULL;
      guint64 tid = g_ascii_strtoull (task, NULL, 10);
      char *end;
      guint64 run_ns;

      if (!g_file_get_contents (path, &contents, NULL, NULL))
        {
          /* Gone meanwhile, or no schedstat: no precise figure. */
          sample->n_threads = 0;
          return;
        }
      run_ns = g_ascii_strtoull (contents, &end, 10);
      if (end == contents)
        {
          sample->n_threads = 0;
          return;
        }

      sample->run_ns += run_ns;
      sample->n_threads++;
      sample->thread_sum += tid;
      sample->thread_xor ^= tid * G_GUINT64_CONSTANT (0x9E3779B97F4A7C15);
    }
}

double
gc_bench_proc_cpu_between (const GcBenchProcSample *before,
                           const GcBenchProcSample *after)
{
  g_return_val_if_fail (before != NULL && after != NULL, 0);

  if (before->n_threads > 0 && before->n_threads == after->n_threads &&
      before->thread_sum == after->thread_sum && before->thread_xor == after->thread_xor &&
      after->run_ns >= before->run_ns)
    return (double) (after->run_ns - before->run_ns) / 1e9;

  return after->cpu_seconds - before->cpu_seconds;
}

gboolean
gc_bench_proc_sample (int                 pid,
                      GcBenchProcSample  *sample,
                      GError            **error)
{
  g_autofree char *stat_path = g_strdup_printf ("/proc/%d/stat", pid);
  g_autofree char *status_path = g_strdup_printf ("/proc/%d/status", pid);
  g_autofree char *stat = NULL;
  g_autofree char *status = NULL;

  g_return_val_if_fail (pid > 0, FALSE);
  g_return_val_if_fail (sample != NULL, FALSE);

  if (!g_file_get_contents (stat_path, &stat, NULL, error) ||
      !g_file_get_contents (status_path, &status, NULL, error))
    return FALSE;

  if (!parse_stat (stat, &sample->cpu_seconds, error))
    return FALSE;
  sample_threads (pid, sample);

  if (!status_field_kb (status, "VmRSS", &sample->rss_kb) ||
      !status_field_kb (status, "VmHWM", &sample->peak_rss_kb))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "no VmRSS or VmHWM in %s", status_path);
      return FALSE;
    }

  return TRUE;
}
