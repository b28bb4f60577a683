/* Command templates: "{compose} logs {follow} --tail={tail} app", checked then expanded. */
#ifndef GANTRY_TEMPLATE_H
#define GANTRY_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

/*
 * A variable is {name}, name made of a-z, 0-9 and '_' (starting with a letter).
 * Everything else is literal: "${HOME}" and "{ cmd; }" reach the shell as written,
 * and "{{" is a literal "{".
 */
struct template_var {
	const char *name;
	const char *value;
};

/* True when every variable in tpl is one of names (NULL-terminated); else false with
 * `why` saying which one is unknown and what is known. */
bool template_check(const char *tpl, const char *const *names, char *why, size_t whysz);

/* Expands tpl; a variable not in vars expands to nothing (template_check first). */
char *template_expand(const char *tpl, const struct template_var *vars, size_t nvars);

/* Quotes s for a POSIX shell: 'it'\''s'. */
char *template_shell_quote(const char *s);

#endif
