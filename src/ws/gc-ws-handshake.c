/* being written */
#include "config.h"
#include "gc-ws-handshake.h"
