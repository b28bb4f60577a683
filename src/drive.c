/* A rollout's driver record and the requests made to it (src/drive.h). */
#include "config.h"

#include "drive.h"
#include "sanitize.h"
#include "xmalloc.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static const char *const state_words[] = {
#define DRIVE_STATE_WORD(name, word) word,
	DRIVE_STATES(DRIVE_STATE_WORD)
#undef DRIVE_STATE_WORD
};

static const char *const ask_words[] = {
#define DRIVE_ASK_WORD(name, word) word,
	DRIVE_ASKS(DRIVE_ASK_WORD)
#undef DRIVE_ASK_WORD
};

#define STATES (sizeof state_words / sizeof state_words[0])
#define ASKS (sizeof ask_words / sizeof ask_words[0])

const char *drive_state_name(enum drive_state s)
{
	return (size_t)s < STATES ? state_words[s] : "?";
}

const char *drive_ask_name(enum drive_ask a)
{
	return (size_t)a < ASKS ? ask_words[a] : "?";
}

bool drive_ask_of(const char *word, enum drive_ask *out)
{
	for (size_t i = 0; i < ASKS; i++)
		if (strcmp(word, ask_words[i]) == 0) {
			*out = (enum drive_ask)i;
			return true;
		}
	return false;
}

/* A token or id: 8 to 32 lowercase hex digits. */
static bool token_ok(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n >= 8 && n <= 32 && s[n] == '\0';
}

/* One printable line: what a value may hold in a record. */
static void one_line(char *dst, size_t dstsz, const char *src)
{
	sanitize_text(src ? src : "", strlen(src ? src : ""), dst, dstsz, 0);
	for (char *p = dst; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
}

char *drive_record_text(const struct drive_record *r)
{
	char by[sizeof r->by], why[sizeof r->why];

	one_line(by, sizeof by, r->by);
	one_line(why, sizeof why, r->why);
	return xasprintf("token=%s\nby=%s\nstale=%lld\nstate=%s\nwave=%zu\nwhy=%s\n", r->token, by,
	    (long long)r->stale_s, drive_state_name(r->state), r->wave, why);
}

char *drive_request_text(const struct drive_request *r)
{
	char by[sizeof r->by], why[sizeof r->why];

	one_line(by, sizeof by, r->by);
	one_line(why, sizeof why, r->why);
	return xasprintf("id=%s\nask=%s\nby=%s\nwhy=%s\n", r->id, drive_ask_name(r->ask), by, why);
}

/* Calls fn for each key=value line; the first of a key counts. */
static void each_line(const char *text, size_t len,
    void (*fn)(void *, const char *key, const char *val), void *arg)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = (nl ? (size_t)(nl - text) : len) - pos;
		const char *eq = memchr(text + pos, '=', n);
		char key[16], val[256];

		if (eq && (size_t)(eq - (text + pos)) < sizeof key) {
			memcpy(key, text + pos, (size_t)(eq - (text + pos)));
			key[eq - (text + pos)] = '\0';
			sanitize_text(eq + 1, n - (size_t)(eq - (text + pos)) - 1, val, sizeof val, 0);
			fn(arg, key, val);
		}
		pos += n + 1;
	}
}

static bool number(const char *s, int64_t lo, int64_t hi, int64_t *out)
{
	char *end;
	long long v;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	v = strtoll(s, &end, 10);
	if (*end || v < lo || v > hi)
		return false;
	*out = v;
	return true;
}

struct seen {
	void *out;
	unsigned got, bad;
};

#define SEEN(bit) (1u << (bit))

static void record_kv(void *arg, const char *key, const char *val)
{
	struct seen *s = arg;
	struct drive_record *r = s->out;
	int64_t n;

	if (strcmp(key, "token") == 0 && !(s->got & SEEN(0))) {
		s->got |= SEEN(0);
		if (token_ok(val))
			snprintf(r->token, sizeof r->token, "%s", val);
		else
			s->bad++;
	} else if (strcmp(key, "by") == 0 && !(s->got & SEEN(1))) {
		s->got |= SEEN(1);
		snprintf(r->by, sizeof r->by, "%s", val);
	} else if (strcmp(key, "beat") == 0 && !(s->got & SEEN(2))) {
		s->got |= SEEN(2);
		s->bad += !number(val, 0, 1LL << 40, &r->beat);
	} else if (strcmp(key, "stale") == 0 && !(s->got & SEEN(3))) {
		s->got |= SEEN(3);
		s->bad += !number(val, DRIVE_STALE_MIN_S, DRIVE_STALE_MAX_S, &r->stale_s);
	} else if (strcmp(key, "state") == 0 && !(s->got & SEEN(4))) {
		size_t i;

		s->got |= SEEN(4);
		for (i = 0; i < STATES && strcmp(val, state_words[i]) != 0; i++)
			;
		if (i < STATES)
			r->state = (enum drive_state)i;
		else
			s->bad++;
	} else if (strcmp(key, "wave") == 0 && !(s->got & SEEN(5))) {
		s->got |= SEEN(5);
		s->bad += !number(val, 0, 1000, &n);
		r->wave = (size_t)(n > 0 ? n : 0);
	} else if (strcmp(key, "why") == 0 && !(s->got & SEEN(6))) {
		s->got |= SEEN(6);
		snprintf(r->why, sizeof r->why, "%s", val);
	}
}

bool drive_record_parse(const char *text, size_t len, struct drive_record *out)
{
	struct seen s = { .out = out };

	memset(out, 0, sizeof *out);
	if (len > DRIVE_MAX_BYTES)
		return false;
	each_line(text, len, record_kv, &s);
	/* token, beat, stale and state are what a decision reads: all there, all well-formed */
	if (s.bad || (s.got & 0x1d) != 0x1d) {
		memset(out, 0, sizeof *out);
		return false;
	}
	out->present = true;
	return true;
}

static void request_kv(void *arg, const char *key, const char *val)
{
	struct seen *s = arg;
	struct drive_request *r = s->out;

	if (strcmp(key, "id") == 0 && !(s->got & SEEN(0))) {
		s->got |= SEEN(0);
		if (token_ok(val))
			snprintf(r->id, sizeof r->id, "%s", val);
		else
			s->bad++;
	} else if (strcmp(key, "ask") == 0 && !(s->got & SEEN(1))) {
		s->got |= SEEN(1);
		s->bad += !drive_ask_of(val, &r->ask);
	} else if (strcmp(key, "by") == 0 && !(s->got & SEEN(2))) {
		s->got |= SEEN(2);
		snprintf(r->by, sizeof r->by, "%s", val);
	} else if (strcmp(key, "at") == 0 && !(s->got & SEEN(3))) {
		s->got |= SEEN(3);
		s->bad += !number(val, 0, 1LL << 40, &r->at);
	} else if (strcmp(key, "why") == 0 && !(s->got & SEEN(4))) {
		s->got |= SEEN(4);
		snprintf(r->why, sizeof r->why, "%s", val);
	}
}

bool drive_request_parse(const char *text, size_t len, struct drive_request *out)
{
	struct seen s = { .out = out };

	memset(out, 0, sizeof *out);
	if (len > DRIVE_MAX_BYTES)
		return false;
	each_line(text, len, request_kv, &s);
	if (s.bad || (s.got & 0x3) != 0x3) {
		memset(out, 0, sizeof *out);
		return false;
	}
	out->present = true;
	return true;
}

bool drive_live(const struct drive_record *r, int64_t now)
{
	return r->present && r->state != DRIVE_LEFT && now - r->beat < r->stale_s;
}

int64_t drive_stale_s(int64_t interval_ms)
{
	int64_t s = 5 * interval_ms / 1000;

	return s < 10 ? 10 : s > DRIVE_STALE_MAX_S ? DRIVE_STALE_MAX_S : s;
}

void drive_new_token(char *out, size_t outsz)
{
	unsigned char b[8] = { 0 };
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	bool got = fd >= 0 && read(fd, b, sizeof b) == (ssize_t)sizeof b;

	if (fd >= 0)
		close(fd);
	if (!got) {
		uint64_t x = (uint64_t)time(NULL) ^ ((uint64_t)getpid() << 32) ^ (uint64_t)clock();

		memcpy(b, &x, sizeof b);
	}
	snprintf(out, outsz, "%02x%02x%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4],
	    b[5], b[6], b[7]);
}
