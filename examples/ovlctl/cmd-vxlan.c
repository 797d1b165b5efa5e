/* cmd-vxlan.c - (being written) */
#include "ovlctl.h"
