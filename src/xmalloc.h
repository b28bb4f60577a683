/* Allocation that never returns NULL, and the one way gantry dies. */
#ifndef GANTRY_XMALLOC_H
#define GANTRY_XMALLOC_H

#include <stdarg.h>
#include <stddef.h>

/* Called by die() before it prints: the UI registers one that restores the terminal. */
typedef void (*die_hook_fn)(void);

void die_set_hook(die_hook_fn hook);
/* Prints "gantry: MESSAGE" to stderr after running the hook, then exits with status 70. */
void die(const char *fmt, ...) __attribute__((noreturn, format(printf, 1, 2)));

void *xmalloc(size_t size);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *ptr, size_t size);
/* Grows an array to hold at least `want` elements, doubling; updates *capacity. */
void *xreallocarray_grow(void *ptr, size_t *capacity, size_t want, size_t elem_size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char *xvasprintf(const char *fmt, va_list ap) __attribute__((format(printf, 1, 0)));

#endif
