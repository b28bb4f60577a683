/* A host command's framed reply, split into its parts and decoded. */
#include "config.h"

#include "hostreply.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int hexval(unsigned char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes a hex part (line ends and blanks between digits are allowed). */
static bool decode_hex(const char *s, size_t len, struct hostreply_part *p)
{
	int hi = -1;

	p->data = xmalloc(len / 2 + 1);
	p->len = 0;
	for (size_t i = 0; i < len; i++) {
		int v = hexval((unsigned char)s[i]);

		if (s[i] == '\n' || s[i] == ' ' || s[i] == '\r')
			continue;
		if (v < 0)
			return false;
		if (hi < 0) {
			hi = v;
		} else {
			p->data[p->len++] = (char)(hi << 4 | v);
			hi = -1;
		}
	}
	p->data[p->len] = '\0';
	return hi < 0;
}

static bool take_part(struct hostreply_part *p, const char *s, size_t len)
{
	if (p->hex)
		return decode_hex(s, len, p);
	p->data = xmalloc(len + 1);
	memcpy(p->data, s, len);
	p->data[len] = '\0';
	p->len = len;
	return true;
}

bool hostreply_parse(const char *buf, size_t len, struct hostreply_part *parts, size_t n,
    char *why, size_t whysz)
{
	const size_t marklen = strlen(HOSTREPLY_MARK);
	struct hostreply_part *open = NULL;
	size_t pos = 0, body = 0;

	for (size_t i = 0; i < n; i++) {
		parts[i].present = false;
		parts[i].data = NULL;
		parts[i].len = 0;
	}
	while (pos < len) {
		const char *nl = memchr(buf + pos, '\n', len - pos);
		size_t end = nl ? (size_t)(nl - buf) : len, linelen = end - pos;
		const char *line = buf + pos;

		if (linelen > marklen && memcmp(line, HOSTREPLY_MARK, marklen) == 0) {
			struct hostreply_part *p = NULL;

			for (size_t i = 0; i < n && !p; i++)
				if (strlen(parts[i].name) == linelen - marklen &&
				    memcmp(parts[i].name, line + marklen, linelen - marklen) == 0)
					p = &parts[i];
			if (open && !take_part(open, buf + body, pos - body)) {
				snprintf(why, whysz, "the host's reply is not gantry's: part %s is not hex",
				    open->name);
				goto bad;
			}
			if (!p || p->present) {
				snprintf(why, whysz, "the host's reply is not gantry's: %s%s", p ?
				    "a second part " : "a part gantry did not ask for", p ? p->name : "");
				goto bad;
			}
			p->present = true;
			if (strcmp(p->name, "end") == 0)
				return true;
			open = p;
			body = nl ? end + 1 : len;
		}
		pos = end + 1;
	}
	snprintf(why, whysz, "the host's reply was cut short or is not gantry's state");
bad:
	hostreply_free(parts, n);
	for (size_t i = 0; i < n; i++)
		parts[i].present = false;
	return false;
}

void hostreply_free(struct hostreply_part *parts, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(parts[i].data);
		parts[i].data = NULL;
		parts[i].len = 0;
	}
}
