/* Parses a gantry.yml held in a string, keeping the first error: for unit tests. */
#ifndef GANTRY_TEST_CONFPARSE_H
#define GANTRY_TEST_CONFPARSE_H

#include <stdio.h>
#include <string.h>

#include "conf.h"

/* The conf, or NULL with the first error ("g.yml:L:C: ...") in *first. */
static inline struct conf *parse(const char *text, char *first, size_t firstsz)
{
	struct schema_errors errs = { 0 };
	struct conf *conf = conf_parse("g.yml", text, strlen(text), &errs);

	first[0] = '\0';
	if (errs.len)
		snprintf(first, firstsz, "%s", errs.messages[0]);
	schema_errors_free(&errs);
	return conf;
}

#endif
