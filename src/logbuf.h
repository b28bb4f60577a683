/* A bounded scrollback: the newest lines of a log, oldest dropped first. */
#ifndef GANTRY_LOGBUF_H
#define GANTRY_LOGBUF_H

#include <stddef.h>
#include <stdint.h>

enum log_kind {
	LOG_OUT,                        /* a line the command wrote to stdout */
	LOG_ERR,                        /* ... to stderr */
	LOG_MARK,                       /* gantry's own: a gap, a reconnect, an end */
};

struct log_line {
	char *text;                     /* sanitized UTF-8, NUL-terminated */
	uint32_t len;
	uint16_t host;                  /* which host of the environment */
	uint8_t kind;                   /* enum log_kind */
	uint64_t seq;                   /* 1 for the first line ever pushed */
};

struct logbuf {
	struct log_line *ring;
	size_t cap;                     /* lines kept at most */
	size_t len;
	size_t head;                    /* index of the oldest line in ring */
	size_t bytes, max_bytes;        /* text held, and its bound */
	uint64_t next_seq;
	uint64_t dropped;               /* lines that fell off the front */
};

/* At most max_lines lines and max_bytes bytes of text (whichever binds first). */
struct logbuf *logbuf_new(size_t max_lines, size_t max_bytes);
void logbuf_free(struct logbuf *lb);

/* Appends a line, taking ownership of text (already sanitized, len bytes). */
void logbuf_push(struct logbuf *lb, unsigned host, enum log_kind kind, char *text, size_t len);

/* The i-th line held, 0 being the oldest; NULL past the end. */
const struct log_line *logbuf_get(const struct logbuf *lb, size_t i);

/* The index of the line with this sequence number, or the nearest still held. */
size_t logbuf_index_of(const struct logbuf *lb, uint64_t seq);

void logbuf_clear(struct logbuf *lb);

#endif
