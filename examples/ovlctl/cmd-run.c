/* cmd-run.c - (being written) */
#include "ovlctl.h"
