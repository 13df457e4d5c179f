/* ws-test-threads.h: the old name of tests/lib/gc-test-threads.h
 *
 * Kept only for the app tests until they move to tests/lib; new code
 * includes "gc-test-threads.h".
 *
 * SPDX-License-Identifier: GPL-3.0-or-later
 */

#pragma once

#include "lib/gc-test-threads.h"

#define ws_test_stop_idle_pool_threads gc_test_stop_idle_pool_threads
