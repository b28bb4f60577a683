/* Durations as people write and read them: "500ms", "5s", "1m30s", "2h". */
#include "config.h"

#include "duration.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

bool duration_parse(const char *text, int64_t *ms)
{
	const char *p = text;
	int64_t total = 0;
	bool any = false;

	if (!text || !*text)
		return false;
	while (*p) {
		int64_t value = 0, unit;
		int digits = 0;

		while (isdigit((unsigned char)*p)) {
			if (value > 100000000)
				return false;
			value = value * 10 + (*p++ - '0');
			digits++;
		}
		if (digits == 0)
			return false;
		if (*p == '\0') {
			if (any)
				return false;   /* "1m30" is ambiguous */
			unit = 1000;
		} else if (strncmp(p, "ms", 2) == 0) {
			unit = 1;
			p += 2;
		} else if (*p == 's') {
			unit = 1000;
			p++;
		} else if (*p == 'm') {
			unit = 60 * 1000;
			p++;
		} else if (*p == 'h') {
			unit = 3600 * 1000;
			p++;
		} else if (*p == 'd') {
			unit = 86400 * 1000;
			p++;
		} else {
			return false;
		}
		total += value * unit;
		if (total > (int64_t)365 * 86400 * 1000)
			return false;
		any = true;
	}
	*ms = total;
	return true;
}

void duration_format(int64_t ms, char *out, size_t outsz)
{
	int64_t s = ms / 1000;

	if (ms < 0)
		s = 0;
	if (s < 1)
		snprintf(out, outsz, "now");
	else if (s < 60)
		snprintf(out, outsz, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(out, outsz, "%lldm%02llds", (long long)(s / 60), (long long)(s % 60));
	else if (s < 86400)
		snprintf(out, outsz, "%lldh%02lldm", (long long)(s / 3600), (long long)(s % 3600 / 60));
	else
		snprintf(out, outsz, "%lldd%02lldh", (long long)(s / 86400), (long long)(s % 86400 / 3600));
}

void duration_format_latency(int64_t ms, char *out, size_t outsz)
{
	if (ms < 0)
		snprintf(out, outsz, "-");
	else if (ms < 1000)
		snprintf(out, outsz, "%lldms", (long long)ms);
	else if (ms < 10000)
		snprintf(out, outsz, "%lld.%llds", (long long)(ms / 1000), (long long)(ms % 1000 / 100));
	else
		snprintf(out, outsz, "%llds", (long long)(ms / 1000));
}

int64_t duration_backoff(int attempt, int64_t first, int64_t max)
{
	int64_t wait = first << (attempt < 16 ? (attempt > 0 ? attempt : 0) : 16);

	return wait < max ? wait : max;
}
