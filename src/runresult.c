/* The run results' table (src/runresult.h). */
#include "config.h"

#include "runresult.h"

#include <stddef.h>
#include <string.h>

static const struct {
	const char *word;
	int rank;
	bool runner;
} results[] = {
	[RUN_RESULT_NONE] = { "", 9, false },
#define RESULT_ROW(name, word, rank, runner) [RUN_##name] = { word, rank, runner },
	RUN_RESULTS(RESULT_ROW)
#undef RESULT_ROW
};

#define RESULTS (sizeof results / sizeof results[0])

const char *run_result_name(enum run_result r)
{
	return (size_t)r < RESULTS ? results[r].word : "";
}

enum run_result run_result_parse(const char *word)
{
	if (!word || !*word)
		return RUN_RESULT_NONE;
	for (size_t r = 1; r < RESULTS; r++)
		if (strcmp(word, results[r].word) == 0)
			return (enum run_result)r;
	return RUN_UNKNOWN;
}

bool run_result_by_runner(enum run_result r)
{
	return (size_t)r < RESULTS && results[r].runner;
}

int run_result_rank(enum run_result r)
{
	return (size_t)r < RESULTS ? results[r].rank : results[RUN_RESULT_NONE].rank;
}

bool run_result_healthy(enum run_result r)
{
	return r == RUN_SUCCEEDED || r == RUN_ADOPTED;
}
