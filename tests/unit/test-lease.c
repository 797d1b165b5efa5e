/* test-lease.c - (being written) */
#include "harness.h"
void register_tests(void) {}
