/*
 * harness.h - the shared main() of the CUnit unit tests: each test file
 * defines register_tests(); the harness runs them and prints the counts
 * line `TESTS: <passed> <failed>` that tests/run-all.sh adds up.
 */
#ifndef OVL_TEST_HARNESS_H
#define OVL_TEST_HARNESS_H

#include <CUnit/CUnit.h>

void register_tests(void);

/* Adds a suite with the given NULL-terminated tests, or aborts the run. */
void harness_add_suite(const char *name, const CU_TestInfo *tests);

#endif
