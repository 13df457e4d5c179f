/* gc-ws-random.c: random bytes from the operating system's CSPRNG
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#include "config.h"

#include <string.h>

#include "gc-ws-random.h"

#ifdef G_OS_WIN32
# include <windows.h>
# include <bcrypt.h>
#elif defined(HAVE_GETRANDOM)
# include <errno.h>
# include <sys/random.h>
#else
# include <stdlib.h>
#endif

#ifdef G_OS_UNIX
# include <pthread.h>
#endif

/* Every client frame needs a fresh 4-byte masking key; a pool of CSPRNG
 * output saves one system call per frame. Bytes leave the pool once and
 * are wiped behind them, and requests as big as half the pool bypass it. */
#define POOL_SIZE 256

G_LOCK_DEFINE_STATIC (pool);
static guint8 pool[POOL_SIZE];
static gsize pool_used = POOL_SIZE;

static void
os_random_fill (guint8 *buffer,
                gsize   len)
{
#ifdef G_OS_WIN32
  while (len > 0)
    {
      ULONG chunk = (ULONG) MIN (len, G_MAXULONG);
      NTSTATUS status;

      status = BCryptGenRandom (NULL, buffer, chunk, BCRYPT_USE_SYSTEM_PREFERRED_RNG);
      if (!BCRYPT_SUCCESS (status))
        g_error ("BCryptGenRandom failed: 0x%lx", (unsigned long) status);
      buffer += chunk;
      len -= chunk;
    }
#elif defined(HAVE_GETRANDOM)
  while (len > 0)
    {
      ssize_t got = getrandom (buffer, len, 0);

      if (got < 0)
        {
          int saved_errno = errno;

          if (saved_errno == EINTR)
            continue;
          /* No safe fallback: predictable keys and tokens are worse than
           * not running at all. */
          g_error ("getrandom failed: %s", g_strerror (saved_errno));
        }
      buffer += got;
      len -= got;
    }
#else
  /* macOS and the BSDs: a kernel-seeded CSPRNG that never fails. */
  arc4random_buf (buffer, len);
#endif
}

#ifdef G_OS_UNIX
/* A forked child has a copy of the pool: without this, parent and child
 * would hand out the same bytes. The lock is held across fork() so the
 * child never inherits it locked by a thread that no longer exists. */
static void
pool_atfork_prepare (void)
{
  G_LOCK (pool);
}

static void
pool_atfork_parent (void)
{
  G_UNLOCK (pool);
}

static void
pool_atfork_child (void)
{
  memset (pool, 0, sizeof pool);
  pool_used = POOL_SIZE;
  G_UNLOCK (pool);
}
#endif

static void
pool_init_once (void)
{
#ifdef G_OS_UNIX
  static gsize initialized = 0;

  if (g_once_init_enter (&initialized))
    {
      pthread_atfork (pool_atfork_prepare, pool_atfork_parent, pool_atfork_child);
      g_once_init_leave (&initialized, 1);
    }
#endif
}

void
gc_ws_random_bytes (guint8 *buffer,
                    gsize   len)
{
  g_return_if_fail (buffer != NULL || len == 0);

  if (len >= POOL_SIZE / 2)
    {
      os_random_fill (buffer, len);
      return;
    }

  pool_init_once ();

  G_LOCK (pool);
  while (len > 0)
    {
      gsize chunk;

      if (pool_used == POOL_SIZE)
        {
          os_random_fill (pool, POOL_SIZE);
          pool_used = 0;
        }

      chunk = MIN (len, POOL_SIZE - pool_used);
      memcpy (buffer, pool + pool_used, chunk);
      memset (pool + pool_used, 0, chunk);
      pool_used += chunk;
      buffer += chunk;
      len -= chunk;
    }
  G_UNLOCK (pool);
}
