/* cmd-config.c - (being written) */
#include "ovlctl.h"
