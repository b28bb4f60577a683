/* Fuzz target: gantry.yml and theme files through libyaml and the schema checks. */
#include "config.h"

#include "conf.h"
#include "theme.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct schema_errors errs = { 0 };
	struct conf *conf = conf_parse("fuzz.yml", (const char *)data, size, &errs);
	struct theme theme;

	conf_free(conf);
	schema_errors_free(&errs);
	if (theme_parse("fuzz.yml", (const char *)data, size, &theme, &errs))
		theme_clear(&theme);
	else
		theme_clear(&theme);
	schema_errors_free(&errs);
	return 0;
}
