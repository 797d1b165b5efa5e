/* cmd-lease.c - (being written) */
#include "ovlctl.h"
