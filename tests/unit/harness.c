/*
 * harness.c - main() for every CUnit test program (see harness.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <CUnit/Basic.h>

#include "harness.h"

void harness_add_suite(const char *name, const CU_TestInfo *tests)
{
	CU_pSuite suite = CU_add_suite(name, NULL, NULL);

	if (!suite) {
		fprintf(stderr, "cannot add suite %s: %s\n", name, CU_get_error_msg());
		exit(2);
	}
	for (; tests->pName; tests++) {
		if (!CU_add_test(suite, tests->pName, tests->pTestFunc)) {
			fprintf(stderr, "cannot add test %s: %s\n", tests->pName,
				CU_get_error_msg());
			exit(2);
		}
	}
}

int main(void)
{
	unsigned int run, failed;

	if (CU_initialize_registry() != CUE_SUCCESS)
		return 2;
	register_tests();
	CU_basic_set_mode(CU_BRM_VERBOSE);
	CU_basic_run_tests();
	run = CU_get_number_of_tests_run();
	failed = CU_get_number_of_tests_failed();
	CU_cleanup_registry();
	printf("\nTESTS: %u %u\n", run - failed, failed);
	return failed || run == 0 ? 1 : 0;
}
