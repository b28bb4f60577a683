/* A command's output gathered in memory, NUL-terminated, bounded. */
#include "config.h"

#include "outbuf.h"
#include "xmalloc.h"

#include <stdlib.h>
#include <string.h>

void outbuf_add(struct outbuf *b, const char *data, size_t len, size_t max)
{
	if (b->len >= max)
		return;
	if (len > max - b->len)
		len = max - b->len;
	if (b->len + len + 1 > b->cap) {
		b->cap = (b->len + len + 1) * 2;
		b->s = xrealloc(b->s, b->cap);
	}
	memcpy(b->s + b->len, data, len);
	b->len += len;
	b->s[b->len] = '\0';
}

const char *outbuf_text(const struct outbuf *b)
{
	return b->s ? b->s : "";
}

void outbuf_clear(struct outbuf *b)
{
	free(b->s);
	memset(b, 0, sizeof *b);
}
