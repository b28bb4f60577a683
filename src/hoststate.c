/* A unit's state: a lock's and a freeze's own records, and the states of an
 * environment's units folded into one. */
#include "config.h"

#include "hoststate.h"
#include "sanitize.h"
#include "value.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy_clean(char *dst, size_t dstsz, const char *src, size_t len)
{
	sanitize_text(src, len, dst, dstsz, 0);
}

/* key=value from one line of a lock or freeze file */
static void read_kv(const char *line, size_t len, char *key, size_t keysz, char *val, size_t valsz)
{
	const char *eq = memchr(line, '=', len);

	key[0] = val[0] = '\0';
	if (!eq)
		return;
	copy_clean(key, keysz, line, (size_t)(eq - line));
	copy_clean(val, valsz, eq + 1, len - (size_t)(eq - line) - 1);
}

static int64_t to_int(const char *s)
{
	char *end;
	long long v = strtoll(s, &end, 10);

	return end != s && *end == '\0' ? value_bounded(v, 0, HOSTSTATE_MAX_NUMBER) : 0;
}

/* Calls fn for each key=value line of a file's text. */
static void each_kv(const char *text, size_t len, void (*fn)(void *, const char *, const char *),
    void *arg)
{
	size_t pos = 0;

	while (pos < len) {
		const char *nl = memchr(text + pos, '\n', len - pos);
		size_t n = (nl ? (size_t)(nl - text) : len) - pos;
		char key[32], val[200];

		read_kv(text + pos, n, key, sizeof key, val, sizeof val);
		if (key[0])
			fn(arg, key, val);
		pos += n + 1;
	}
}

static void owner_kv(void *arg, const char *key, const char *val)
{
	struct host_lock *lock = arg;

	if (strcmp(key, "owner") == 0)
		copy_clean(lock->owner, sizeof lock->owner, val, strlen(val));
	else if (strcmp(key, "message") == 0)
		copy_clean(lock->message, sizeof lock->message, val, strlen(val));
	else if (strcmp(key, "run") == 0 && value_run_id(val))
		copy_clean(lock->run, sizeof lock->run, val, strlen(val));
	else if (strcmp(key, "since") == 0)
		lock->since = to_int(val);
}

void hoststate_read_owner(const char *text, size_t len, struct host_lock *lock)
{
	each_kv(text, len, owner_kv, lock);
}

static void freeze_kv(void *arg, const char *key, const char *val)
{
	struct host_state *st = arg;

	if (strcmp(key, "by") == 0)
		copy_clean(st->freeze_by, sizeof st->freeze_by, val, strlen(val));
	else if (strcmp(key, "reason") == 0)
		copy_clean(st->freeze_reason, sizeof st->freeze_reason, val, strlen(val));
	else if (strcmp(key, "since") == 0)
		st->freeze_since = to_int(val);
}

void hoststate_read_freeze(const char *text, size_t len, struct host_state *st)
{
	each_kv(text, len, freeze_kv, st);
}

int64_t hoststate_number(const char *s)
{
	return to_int(s);
}

void hoststate_free(struct host_state *st)
{
	history_free(&st->history);
}

static struct history_run *find_same(struct history *h, const struct history_run *run)
{
	for (size_t i = h->len; i-- > 0;)
		if (h->runs[i].note == run->note && strcmp(h->runs[i].id, run->id) == 0)
			return &h->runs[i];
	return NULL;
}

static void label_runs(struct history *h, size_t index, const char *name)
{
	for (size_t i = 0; i < h->len; i++) {
		h->runs[i].hosts = 1;
		h->runs[i].merged_from = index + 1;
		h->runs[i].host_index = index;
		history_run_mark_on(&h->runs[i], index);
		snprintf(h->runs[i].host, sizeof h->runs[i].host, "%s", name);
	}
}

/* Inserts a run keeping the history ordered by start time (stable: equal times keep
 * their order). */
static void insert_run(struct history *h, size_t *cap, struct history_run *run)
{
	size_t at = h->len;

	if (h->len == *cap) {
		*cap = *cap ? *cap * 2 : 64;
		h->runs = xrealloc(h->runs, *cap * sizeof *h->runs);
	}
	while (at > 0 && h->runs[at - 1].started > run->started)
		at--;
	memmove(&h->runs[at + 1], &h->runs[at], (h->len - at) * sizeof *h->runs);
	h->runs[at] = *run;
	h->len++;
	memset(run, 0, sizeof *run);
}

/* Two app images name different builds: another tag, or the same tag pinned to other
 * digests (one that pins none is the same tag, not a difference). */
static bool images_differ(const char *a, const char *b)
{
	char ta[DEPLOYENV_IMAGE_MAX], tb[DEPLOYENV_IMAGE_MAX];
	char da[DEPLOYENV_IMAGE_MAX], db[DEPLOYENV_IMAGE_MAX];

	deployenv_image_tag(a, ta, sizeof ta);
	deployenv_image_tag(b, tb, sizeof tb);
	if (strcmp(ta, tb) != 0)
		return true;
	deployenv_image_digest(a, da, sizeof da);
	deployenv_image_digest(b, db, sizeof db);
	return da[0] && db[0] && strcmp(da, db) != 0;
}

void hoststate_merge(struct host_state *all, struct host_state *one, size_t index, const char *name)
{
	struct history *h = &all->history;
	size_t cap;

	label_runs(&one->history, index, name);
	if (one->lock.held) {
		one->lock.holders = 1;
		one->lock.host_index = index;
		snprintf(one->lock.host, sizeof one->lock.host, "%s", name);
	}
	if (all->hosts++ == 0) {
		size_t hosts = all->hosts;

		*all = *one;
		all->hosts = hosts;
		all->history.hosts = (unsigned)hosts;
		all->current_host = index;
		snprintf(all->first_unit, sizeof all->first_unit, "%s", name);
		memset(one, 0, sizeof *one);
		if (index != 0) {       /* the driver is the first unit's to say */
			memset(&all->driver, 0, sizeof all->driver);
			memset(&all->request, 0, sizeof all->request);
		}
		return;
	}
	if (index == 0) {
		all->driver = one->driver;
		all->request = one->request;
	}
	h->hosts = (unsigned)all->hosts;
	if (one->lock.held && all->lock.held) {
		/* a run over several hosts holds them all with one plan */
		if (strcmp(one->lock.run, all->lock.run) != 0 || one->lock.leased != all->lock.leased ||
		    memcmp(&one->lock.lease, &all->lock.lease, sizeof one->lock.lease) != 0)
			all->lock.leases_differ = one->lock.leases_differ = true;
		else
			one->lock.holders = ++all->lock.holders;
	}
	if (one->lock.held && (!all->lock.held || (one->lock.runner_alive && !all->lock.runner_alive))) {
		all->lock = one->lock;
		/* a run alive on this host is the one to follow */
		if (one->lock.runner_alive && one->current[0]) {
			memcpy(all->current, one->current, sizeof all->current);
			all->current_host = index;
		}
	}
	if (!all->deploy_env_differs[0] && (one->has_deploy_env != all->has_deploy_env ||
	    (one->has_deploy_env && images_differ(one->deploy_env.app_image,
	    all->deploy_env.app_image)))) {
		snprintf(all->deploy_env_differs, sizeof all->deploy_env_differs, "%s", name);
		memcpy(all->differs_image, one->deploy_env.app_image, sizeof all->differs_image);
	}
	if (one->frozen && !all->frozen) {
		all->frozen = true;
		memcpy(all->freeze_by, one->freeze_by, sizeof all->freeze_by);
		memcpy(all->freeze_reason, one->freeze_reason, sizeof all->freeze_reason);
		all->freeze_since = one->freeze_since;
	}
	cap = h->len;
	for (size_t i = 0; i < one->history.len; i++) {
		struct history_run *run = &one->history.runs[i], *same = find_same(h, run);

		if (same && same->merged_from == index + 1)
			same->conflict = true;  /* one host's second record of it: counted once */
		else if (same)
			history_merge_run(same, run);
		else
			insert_run(h, &cap, run);
	}
	h->bad_lines += one->history.bad_lines;
	h->cut = h->cut || one->history.cut;
	hoststate_free(one);
	memset(one, 0, sizeof *one);
}

bool hoststate_lock_stale(const struct host_state *st)
{
	/* a lease between two hosts' runs has no runner: the run is unfinished, not gone */
	if (!st->lock.held || st->lock.leased)
		return false;
	if (st->lock.runner_known)
		return !st->lock.runner_alive;
	return st->lock.since > 0 && st->host_now - st->lock.since > HISTORY_STALE_LOCK_S;
}
