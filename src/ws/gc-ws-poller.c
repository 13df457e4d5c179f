/* being written */
#include "config.h"
#include "gc-ws-poller.h"
