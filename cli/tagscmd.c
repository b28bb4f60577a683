/* gantry tags: the deployable tags in the registry, newest first, with both digests. */
#include "config.h"

#include "app.h"
#include "commands.h"
#include "exitcode.h"
#include "registry.h"
#include "xmalloc.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define INSPECT_AT_ONCE 8               /* requests in flight while reading tags */
#define INSPECT_MAX 1000                /* tags looked at beyond the list itself */

struct tagscmd;

struct tag_row {
	struct tagscmd *tc;
	char *tag;
	size_t order;                   /* the registry's order, for ties */
	struct registry_result app, migrator;
	int pending;                    /* answers still to come: app, migrator */
};

struct tagscmd {
	struct registry *reg;
	const struct conf_registry *conf;
	bool list_done;
	size_t tags_seen;               /* in the repository, before the pattern */
	size_t tags_matching;
	struct tag_row *rows;
	size_t rows_len, next, inflight;
	char failure[400];              /* a failure of the list itself */
};

/* One of a row's two answers arrived (the result is copied without its tag list). */
static void row_answered(struct tag_row *row, struct registry_result *dst, const struct registry_result *r)
{
	*dst = *r;
	dst->tags = NULL;
	dst->tags_len = 0;
	if (--row->pending == 0)
		row->tc->inflight--;
}

static void got_app(const struct registry_result *r, void *arg)
{
	struct tag_row *row = arg;

	row_answered(row, &row->app, r);
}

static void got_migrator(const struct registry_result *r, void *arg)
{
	struct tag_row *row = arg;

	row_answered(row, &row->migrator, r);
}

/* Keeps INSPECT_AT_ONCE tags being resolved. */
static void start_more(struct tagscmd *tc)
{
	while (tc->inflight < INSPECT_AT_ONCE && tc->next < tc->rows_len) {
		struct tag_row *row = &tc->rows[tc->next++];

		row->pending = 2;
		tc->inflight++;
		registry_resolve(tc->reg, tc->conf->app, row->tag, true, got_app, row);
		registry_resolve(tc->reg, tc->conf->migrator, row->tag, false, got_migrator, row);
	}
}

static void got_list(const struct registry_result *r, void *arg)
{
	struct tagscmd *tc = arg;

	tc->list_done = true;
	if (r->error != REGISTRY_OK) {
		snprintf(tc->failure, sizeof tc->failure, "%s", r->message);
		return;
	}
	tc->tags_seen = r->tags_seen;
	tc->tags_matching = r->tags_len;
	tc->rows_len = r->tags_len < INSPECT_MAX ? r->tags_len : INSPECT_MAX;
	tc->rows = xcalloc(tc->rows_len + 1, sizeof *tc->rows);
	for (size_t i = 0; i < tc->rows_len; i++) {
		tc->rows[i].tc = tc;
		tc->rows[i].tag = xstrdup(r->tags[i]);
		tc->rows[i].order = i;
	}
}

/* Newest first; tags without a time after those with one, in the registry's order. */
static int by_created(const void *a, const void *b)
{
	const struct tag_row *x = a, *y = b;

	if (x->app.created != y->app.created)
		return x->app.created > y->app.created ? -1 : 1;
	return x->order < y->order ? -1 : x->order > y->order;
}

static void format_time(int64_t t, char *out, size_t outsz)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (t <= 0 || !gmtime_r(&tt, &tm))
		snprintf(out, outsz, "-");
	else
		strftime(out, outsz, "%Y-%m-%d %H:%MZ", &tm);
}

static const char *short_digest(const struct registry_result *r, char *buf, size_t bufsz)
{
	if (r->error == REGISTRY_NOT_FOUND)
		return "missing";
	if (r->error != REGISTRY_OK)
		return "error";
	snprintf(buf, bufsz, "%.19s", r->digest);       /* sha256: and 12 hex digits */
	return buf;
}

static void print_text(const struct tagscmd *tc, size_t limit, bool same_repo)
{
	char when[32], a[32], m[32];
	int w = 16;                     /* sha-<7>; a 40-hex git sha widens the column */

	for (size_t i = 0; i < tc->rows_len && i < limit; i++)
		if (strlen(tc->rows[i].tag) > (size_t)w)
			w = (int)strlen(tc->rows[i].tag);
	if (same_repo)
		printf("%-*s %-18s %s\n", w, "TAG", "CREATED", "APP");
	else
		printf("%-*s %-18s %-20s %s\n", w, "TAG", "CREATED", "APP", "MIGRATOR");
	for (size_t i = 0; i < tc->rows_len && i < limit; i++) {
		const struct tag_row *row = &tc->rows[i];

		format_time(row->app.created, when, sizeof when);
		if (same_repo)
			printf("%-*s %-18s %s\n", w, row->tag, when, short_digest(&row->app, a, sizeof a));
		else
			printf("%-*s %-18s %-20s %s\n", w, row->tag, when,
			    short_digest(&row->app, a, sizeof a), short_digest(&row->migrator, m, sizeof m));
	}
	if (tc->rows_len == 0)
		printf("(no tag matches %s; %zu tags in %s)\n", tc->conf->tag_pattern,
		    tc->tags_seen, tc->conf->app);
}

static json_t *digest_json(const struct registry_result *r)
{
	return r->error == REGISTRY_OK ? json_string(r->digest) : json_null();
}

static void print_json(const struct tagscmd *tc, size_t limit)
{
	json_t *arr = json_array();
	char when[32];

	for (size_t i = 0; i < tc->rows_len && i < limit; i++) {
		const struct tag_row *row = &tc->rows[i];
		time_t tt = (time_t)row->app.created;
		struct tm tm;

		when[0] = '\0';
		if (row->app.created > 0 && gmtime_r(&tt, &tm))
			strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
		json_array_append_new(arr, json_pack("{s:s, s:o, s:o, s:o}", "tag", row->tag,
		    "created", when[0] ? json_string(when) : json_null(),
		    "app_digest", digest_json(&row->app), "migrator_digest", digest_json(&row->migrator)));
	}
	json_dumpf(arr, stdout, JSON_INDENT(2));
	putchar('\n');
	json_decref(arr);
}

int cmd_tags(struct conf *conf, const struct cli_options *o)
{
	bool json = o->json;
	long limit = o->limit;
	struct tagscmd tc = { 0 };
	struct loop *loop;
	int code = EXIT_OK;

	if (!conf->registry) {
		fprintf(stderr, "gantry: tags: no registry in %s; add registry: {url, app, migrator} "
		    "(see gantry.yml(5))\n", conf->path);
		conf_free(conf);
		return EXIT_CONFIG;
	}
	loop = loop_new();
	tc.conf = conf->registry;
	tc.reg = registry_new(loop, conf->registry);
	registry_tags(tc.reg, tc.conf->app, got_list, &tc);
	while (!tc.list_done)
		loop_run_once(loop, 1000);
	if (tc.failure[0]) {
		fprintf(stderr, "gantry: %s\n", tc.failure);
		code = EXIT_REGISTRY;
	} else {
		for (start_more(&tc); tc.inflight > 0; start_more(&tc))
			loop_run_once(loop, 1000);
		qsort(tc.rows, tc.rows_len, sizeof *tc.rows, by_created);
		if (json)
			print_json(&tc, limit > 0 ? (size_t)limit : tc.rows_len);
		else
			print_text(&tc, limit > 0 ? (size_t)limit : tc.rows_len,
			    strcmp(tc.conf->app, tc.conf->migrator) == 0);
		for (size_t i = 0; i < tc.rows_len; i++) {
			const struct tag_row *row = &tc.rows[i];

			if (row->app.error != REGISTRY_OK && row->app.error != REGISTRY_NOT_FOUND) {
				fprintf(stderr, "gantry: %s\n", row->app.message);
				code = EXIT_REGISTRY;
				break;
			}
		}
		if (tc.tags_matching > tc.rows_len)
			fprintf(stderr, "gantry: only the first %zu of %zu matching tags were looked at\n",
			    tc.rows_len, tc.tags_matching);
	}
	for (size_t i = 0; i < tc.rows_len; i++)
		free(tc.rows[i].tag);
	free(tc.rows);
	registry_free(tc.reg);
	loop_free(loop);
	conf_free(conf);
	return code;
}

/* The list only, for completion: no tag is looked into, and no more than 3s are spent. */
void cmd_complete_tags(FILE *out, const struct conf *conf, const char *prefix)
{
	struct tagscmd tc = { 0 };
	struct loop *loop;
	int64_t deadline;

	if (!conf->registry)
		return;
	loop = loop_new();
	tc.conf = conf->registry;
	tc.reg = registry_new(loop, conf->registry);
	deadline = loop_clock_ms() + 3000;
	registry_tags(tc.reg, tc.conf->app, got_list, &tc);
	while (!tc.list_done && loop_clock_ms() < deadline)
		loop_run_once(loop, 250);
	for (size_t i = 0; i < tc.rows_len; i++) {
		if (strncmp(tc.rows[i].tag, prefix, strlen(prefix)) == 0)
			fprintf(out, "%s\n", tc.rows[i].tag);
		free(tc.rows[i].tag);
	}
	free(tc.rows);
	registry_free(tc.reg);
	loop_free(loop);
}
