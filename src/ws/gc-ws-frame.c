/* being written */
#include "config.h"
#include "gc-ws-frame.h"
