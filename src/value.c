/* Syntax checks for values from outside: run ids, tags, digests. */
#include "config.h"

#include "value.h"

#include <string.h>

static bool is_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool value_run_id(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 64 || s[0] == '.' || s[0] == '-')
		return false;
	for (const char *p = s; *p; p++)
		if (!is_alnum(*p) && *p != '.' && *p != '_' && *p != '-')
			return false;
	return true;
}

bool value_tag(const char *s)
{
	size_t n = strlen(s);

	if (n == 0 || n > 128 || !(is_alnum(s[0]) || s[0] == '_'))
		return false;
	for (size_t i = 1; i < n; i++)
		if (!is_alnum(s[i]) && s[i] != '_' && s[i] != '.' && s[i] != '-')
			return false;
	return true;
}

bool value_digest(const char *s)
{
	if (strncmp(s, "sha256:", 7) != 0 || strlen(s) != 71)
		return false;
	for (const char *p = s + 7; *p; p++)
		if (!(*p >= '0' && *p <= '9') && !(*p >= 'a' && *p <= 'f'))
			return false;
	return true;
}

int64_t value_bounded(long long v, long long lo, long long hi)
{
	return v < lo || v > hi ? lo : (int64_t)v;
}
