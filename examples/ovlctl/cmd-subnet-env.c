/* cmd-subnet-env.c - (being written) */
#include "ovlctl.h"
