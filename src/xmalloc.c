/* Allocation that never returns NULL, and the one way gantry dies. */
#include "config.h"

#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static die_hook_fn die_hook;

/* Registers the function die() runs first (terminal restore). */
void die_set_hook(die_hook_fn hook)
{
	die_hook = hook;
}

/* Restores what needs restoring, says why, and exits: for what cannot happen. */
void die(const char *fmt, ...)
{
	va_list ap;

	if (die_hook) {
		die_hook_fn hook = die_hook;
		die_hook = NULL;
		hook();
	}
	fputs("gantry: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(70);
}

/* malloc that dies on exhaustion. */
void *xmalloc(size_t size)
{
	void *p = malloc(size ? size : 1);

	if (!p)
		die("out of memory allocating %zu bytes", size);
	return p;
}

/* calloc that dies on exhaustion or overflow. */
void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (!p)
		die("out of memory allocating %zu x %zu bytes", count, size);
	return p;
}

/* realloc that dies on exhaustion. */
void *xrealloc(void *ptr, size_t size)
{
	void *p = realloc(ptr, size ? size : 1);

	if (!p)
		die("out of memory reallocating to %zu bytes", size);
	return p;
}

/* Grows an array geometrically so that it holds at least `want` elements. */
void *xreallocarray_grow(void *ptr, size_t *capacity, size_t want, size_t elem_size)
{
	size_t cap = *capacity;

	if (want <= cap)
		return ptr;
	if (cap == 0)
		cap = 8;
	while (cap < want) {
		if (cap > ((size_t)-1) / 2)
			die("array too large");
		cap *= 2;
	}
	if (cap > ((size_t)-1) / elem_size)
		die("array too large");
	*capacity = cap;
	return xrealloc(ptr, cap * elem_size);
}

/* strdup that dies on exhaustion. */
char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

/* strndup that dies on exhaustion. */
char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(len + 1);

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

/* vasprintf that dies on exhaustion. */
char *xvasprintf(const char *fmt, va_list ap)
{
	va_list copy;
	int len;
	char *p;

	va_copy(copy, ap);
	len = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (len < 0)
		die("bad format string");
	p = xmalloc((size_t)len + 1);
	vsnprintf(p, (size_t)len + 1, fmt, ap);
	return p;
}

/* asprintf that dies on exhaustion. */
char *xasprintf(const char *fmt, ...)
{
	va_list ap;
	char *p;

	va_start(ap, fmt);
	p = xvasprintf(fmt, ap);
	va_end(ap);
	return p;
}
