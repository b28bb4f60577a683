/* A bounded scrollback: the newest lines of a log, oldest dropped first. */
#include "config.h"

#include "logbuf.h"
#include "xmalloc.h"

#include <stdlib.h>

struct logbuf *logbuf_new(size_t max_lines, size_t max_bytes)
{
	struct logbuf *lb = xcalloc(1, sizeof *lb);

	lb->cap = max_lines ? max_lines : 1;
	lb->ring = xcalloc(lb->cap, sizeof *lb->ring);
	lb->max_bytes = max_bytes;
	lb->next_seq = 1;
	return lb;
}

static void drop_oldest(struct logbuf *lb)
{
	struct log_line *l = &lb->ring[lb->head];

	lb->bytes -= l->len;
	free(l->text);
	l->text = NULL;
	lb->head = (lb->head + 1) % lb->cap;
	lb->len--;
	lb->dropped++;
}

void logbuf_push(struct logbuf *lb, unsigned host, enum log_kind kind, char *text, size_t len)
{
	struct log_line *l;

	if (lb->len == lb->cap)
		drop_oldest(lb);
	while (lb->len > 0 && lb->bytes + len > lb->max_bytes)
		drop_oldest(lb);
	l = &lb->ring[(lb->head + lb->len) % lb->cap];
	l->text = text;
	l->len = (uint32_t)len;
	l->host = (uint16_t)host;
	l->kind = (uint8_t)kind;
	l->seq = lb->next_seq++;
	lb->bytes += len;
	lb->len++;
}

const struct log_line *logbuf_get(const struct logbuf *lb, size_t i)
{
	if (i >= lb->len)
		return NULL;
	return &lb->ring[(lb->head + i) % lb->cap];
}

size_t logbuf_index_of(const struct logbuf *lb, uint64_t seq)
{
	uint64_t first;

	if (lb->len == 0)
		return 0;
	first = lb->ring[lb->head].seq;
	if (seq <= first)
		return 0;
	if (seq - first >= lb->len)
		return lb->len - 1;
	return (size_t)(seq - first);
}

void logbuf_clear(struct logbuf *lb)
{
	while (lb->len > 0)
		drop_oldest(lb);
	lb->dropped = 0;
}

void logbuf_free(struct logbuf *lb)
{
	if (!lb)
		return;
	logbuf_clear(lb);
	free(lb->ring);
	free(lb);
}
