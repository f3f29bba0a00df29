/*
 * check_main.h — the one way a Check suite is run in cairn's tests.
 */
#ifndef CAIRN_TESTS_CHECK_MAIN_H
#define CAIRN_TESTS_CHECK_MAIN_H

#include <check.h>
#include <stdio.h>
#include <stdlib.h>

#include "base/mutation.h"

/*
 * check_run() runs `suite` without forking (so sanitizers see one process) and returns the
 * process exit status: 0 when every test passed. With CAIRN_MUTATION=name in the
 * environment (a -Dmutations=true build), the suite runs against that deliberate bug: the
 * mutation suite expects it to fail.
 */
static inline int check_run(Suite *suite)
{
	const char *mutant = getenv("CAIRN_MUTATION");
	if (mutant) {
		enum mutation m;
		err *e = mutation_parse(mutant, &m);
		if (!e)
			e = mutation_select(m);
		if (e) {
			fprintf(stderr, "%s\n", err_msg(e));
			err_free(e);
			return 2;
		}
	}
	SRunner *runner = srunner_create(suite);
	srunner_set_fork_status(runner, CK_NOFORK);
	srunner_run_all(runner, CK_NORMAL);
	int failed = srunner_ntests_failed(runner);
	srunner_free(runner);
	return failed == 0 ? EXIT_SUCCESS : EXIT_FAILURE;
}

#endif
