/* A command's output gathered in memory, NUL-terminated, bounded. */
#ifndef GANTRY_OUTBUF_H
#define GANTRY_OUTBUF_H

#include <stddef.h>

struct outbuf {
	char *s;                        /* NULL until something arrives */
	size_t len, cap;
};

/* Appends what fits under `max` bytes in all; the rest is dropped. */
void outbuf_add(struct outbuf *b, const char *data, size_t len, size_t max);
/* The text so far ("" when nothing arrived). */
const char *outbuf_text(const struct outbuf *b);
void outbuf_clear(struct outbuf *b);

#endif
