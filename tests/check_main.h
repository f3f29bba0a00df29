/*
 * check_main.h — the one way a Check suite is run in cairn's tests.
 *
 * check_run() runs `suite` without forking (so sanitizers see one process) and returns the
 * process exit status: 0 when every test passed.
 */
#ifndef CAIRN_TESTS_CHECK_MAIN_H
#define CAIRN_TESTS_CHECK_MAIN_H

#include <check.h>
#include <stdlib.h>

static inline int check_run(Suite *suite)
{
	SRunner *runner = srunner_create(suite);
	srunner_set_fork_status(runner, CK_NOFORK);
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
