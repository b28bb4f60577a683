/* Command templates: "{compose} logs {follow} --tail={tail} app", checked then expanded. */
#include "config.h"

#include "template.h"
#include "xmalloc.h"

#include <stdio.h>
#include <string.h>

/* If p starts a variable ("{name}"), returns the name's length; else 0. */
static size_t var_at(const char *tpl, const char *p)
{
	size_t n = 0;

	if (p[0] != '{' || (p > tpl && p[-1] == '$'))
		return 0;
	if (!(p[1] >= 'a' && p[1] <= 'z'))
		return 0;
	while ((p[1 + n] >= 'a' && p[1 + n] <= 'z') || (p[1 + n] >= '0' && p[1 + n] <= '9') ||
	    p[1 + n] == '_')
		n++;
	return p[1 + n] == '}' ? n : 0;
}

bool template_check(const char *tpl, const char *const *names, char *why, size_t whysz)
{
	for (const char *p = tpl; *p; p++) {
		size_t n;
		bool known = false;

		if (p[0] == '{' && p[1] == '{') {
			p++;
			continue;
		}
		n = var_at(tpl, p);
		if (n == 0)
			continue;
		for (size_t i = 0; names[i]; i++)
			if (strlen(names[i]) == n && strncmp(names[i], p + 1, n) == 0)
				known = true;
		if (!known) {
			size_t used = (size_t)snprintf(why, whysz, "unknown variable {%.*s}; known:",
			    (int)(n > 40 ? 40 : n), p + 1);

			for (size_t i = 0; names[i] && used < whysz; i++)
				used += (size_t)snprintf(why + used, whysz - used, " {%s}", names[i]);
			return false;
		}
		p += n + 1;
	}
	return true;
}

/* Appends len bytes to a growing string. */
static void append(char **out, size_t *len, size_t *cap, const char *s, size_t n)
{
	*out = xreallocarray_grow(*out, cap, *len + n + 1, 1);
	memcpy(*out + *len, s, n);
	*len += n;
	(*out)[*len] = '\0';
}

char *template_expand(const char *tpl, const struct template_var *vars, size_t nvars)
{
	char *out = NULL;
	size_t len = 0, cap = 0;

	append(&out, &len, &cap, "", 0);
	for (const char *p = tpl; *p; p++) {
		size_t n;

		if (p[0] == '{' && p[1] == '{') {
			append(&out, &len, &cap, "{", 1);
			p++;
			continue;
		}
		n = var_at(tpl, p);
		if (n == 0) {
			append(&out, &len, &cap, p, 1);
			continue;
		}
		for (size_t i = 0; i < nvars; i++) {
			if (strlen(vars[i].name) == n && strncmp(vars[i].name, p + 1, n) == 0) {
				append(&out, &len, &cap, vars[i].value, strlen(vars[i].value));
				break;
			}
		}
		p += n + 1;
	}
	return out;
}

char *template_shell_quote(const char *s)
{
	char *out = NULL;
	size_t len = 0, cap = 0;

	append(&out, &len, &cap, "'", 1);
	for (const char *p = s; *p; p++) {
		if (*p == '\'')
			append(&out, &len, &cap, "'\\''", 4);
		else
			append(&out, &len, &cap, p, 1);
	}
	append(&out, &len, &cap, "'", 1);
	return out;
}
