/* being written */
#include "config.h"
#include "gc-ws-random.h"
