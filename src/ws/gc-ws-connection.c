/* being written */
#include "config.h"
#include "gc-ws-connection.h"
