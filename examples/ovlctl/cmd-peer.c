/* cmd-peer.c - (being written) */
#include "ovlctl.h"
