/* An OCI distribution registry client over the event loop's HTTP client.
 *
 * Every operation is a small state machine: the request; on a 401 the challenge
 * is read and either a Bearer token is fetched from its realm (then cached per
 * repository until it expires) or basic credentials are sent; then the request
 * once more. Everything the registry sends is untrusted: bodies are capped,
 * JSON is checked field by field, tags and digests must have their syntax, and
 * a manifest must hash to the digest it is served under. */
#include "config.h"

#include "registry.h"
#include "value.h"
#include "http.h"
#include "sanitize.h"
#include "sha256.h"
#include "xmalloc.h"

#include <ctype.h>
#include <jansson.h>
#include <regex.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define MANIFEST_MAX_BYTES (4 * 1024 * 1024)
#define CONFIG_MAX_BYTES (4 * 1024 * 1024)
#define TAGS_PAGE_MAX_BYTES (8 * 1024 * 1024)
#define TOKEN_MAX_BYTES (64 * 1024)
#define TAGS_MAX 100000
#define TAGS_PAGES_MAX 200
#define TOKENS_MAX 16

static const char accept_manifests[] = "Accept: "
    "application/vnd.oci.image.index.v1+json, "
    "application/vnd.oci.image.manifest.v1+json, "
    "application/vnd.docker.distribution.manifest.list.v2+json, "
    "application/vnd.docker.distribution.manifest.v2+json";

struct token {
	char *repo;
	char *value;                    /* secret: never printed */
	int64_t expires_at;             /* monotonic ms */
};

struct registry {
	struct loop *loop;
	const struct conf_registry *conf;
	struct http_client *http;
	regex_t pattern;
	bool basic;                     /* the registry asked for basic auth */
	struct token tokens[TOKENS_MAX];
	size_t tokens_len;
	struct registry_op *ops;        /* in flight */
};

enum op_kind { OP_RESOLVE, OP_TAGS, OP_RETAG, OP_PING };
enum op_phase { PHASE_MAIN, PHASE_TOKEN, PHASE_CONFIG };

struct registry_op {
	struct registry *reg;
	enum op_kind kind;
	enum op_phase phase;
	char *repo, *tag;
	bool want_created;
	/* a retag: the manifest of `digest`, then a PUT of its bytes under `tag` */
	char digest[REGISTRY_DIGEST_MAX];
	char *manifest;
	size_t manifest_len;
	bool putting;                   /* the GET is done: the PUT is what is sent */
	char *path;                     /* of the main request, from the API base */
	char config_digest[REGISTRY_DIGEST_MAX];
	bool auth_tried;
	int pages;
	size_t tags_cap;
	struct http_request *req;
	uint64_t timer;                 /* a refusal delivered from the loop */
	struct registry_result result;
	registry_done_fn done;
	void *arg;
	struct registry_op *prev, *next;
};

static void op_send(struct registry_op *op);

/* ---- helpers ------------------------------------------------------------- */

/* Appends s percent-encoded (RFC 3986 unreserved kept). */
static void url_escape(char *dst, size_t dstsz, const char *s)
{
	size_t o = strlen(dst);

	for (; *s && o + 4 < dstsz; s++) {
		unsigned char c = (unsigned char)*s;

		if (isalnum(c) || strchr("-._~", c))
			dst[o++] = (char)c;
		else
			o += (size_t)snprintf(dst + o, dstsz - o, "%%%02X", c);
	}
	dst[o] = '\0';
}

/* RFC 3339 (as image configs write it) to Unix seconds; 0 when unreadable. */
static int64_t parse_time(const char *s)
{
	struct tm tm = { 0 };
	int y, mo, d, h, mi, sec;

	if (sscanf(s, "%4d-%2d-%2dT%2d:%2d:%2d", &y, &mo, &d, &h, &mi, &sec) != 6)
		return 0;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = sec;
	return (int64_t)timegm(&tm);    /* offsets other than Z are rare in configs; taken as UTC */
}

/* ---- operations ---------------------------------------------------------- */

static struct registry_op *op_new(struct registry *reg, enum op_kind kind, const char *repo,
    registry_done_fn done, void *arg)
{
	struct registry_op *op = xcalloc(1, sizeof *op);

	op->reg = reg;
	op->kind = kind;
	op->repo = xstrdup(repo);
	op->done = done;
	op->arg = arg;
	op->next = reg->ops;
	if (reg->ops)
		reg->ops->prev = op;
	reg->ops = op;
	return op;
}

static void op_free(struct registry_op *op)
{
	struct registry *reg = op->reg;

	http_cancel(op->req);
	loop_timer_cancel(reg->loop, op->timer);
	if (op->prev)
		op->prev->next = op->next;
	else
		reg->ops = op->next;
	if (op->next)
		op->next->prev = op->prev;
	for (size_t i = 0; i < op->result.tags_len; i++)
		free(op->result.tags[i]);
	free(op->result.tags);
	free(op->repo);
	free(op->tag);
	free(op->path);
	free(op->manifest);
	free(op);
}

/* Ends an operation: the callback, then the op is gone. */
static void op_finish(struct registry_op *op)
{
	op->done(&op->result, op->arg);
	op_free(op);
}

static void op_set_error(struct registry_op *op, enum registry_error error, const char *fmt,
    va_list ap) __attribute__((format(printf, 3, 0)));

static void op_set_error(struct registry_op *op, enum registry_error error, const char *fmt,
    va_list ap)
{
	char raw[sizeof op->result.message];

	vsnprintf(raw, sizeof raw, fmt, ap);
	op->result.error = error;
	sanitize_text(raw, strlen(raw), op->result.message, sizeof op->result.message, 0);
}

static void op_fail(struct registry_op *op, enum registry_error error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void op_fail(struct registry_op *op, enum registry_error error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	op_set_error(op, error, fmt, ap);
	va_end(ap);
	op_finish(op);
}

static void failed_later(struct loop *loop, void *arg)
{
	struct registry_op *op = arg;

	(void)loop;
	op->timer = 0;
	op_finish(op);
}

/* Fails an operation refused before any request: reported from the loop, like every
 * other answer, never inside the caller. */
static void op_fail_later(struct registry_op *op, enum registry_error error, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void op_fail_later(struct registry_op *op, enum registry_error error, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	op_set_error(op, error, fmt, ap);
	va_end(ap);
	op->timer = loop_timer_add(op->reg->loop, 0, failed_later, op);
}

static const char *what(const struct registry_op *op)
{
	static char buf[300];

	if (op->tag)
		snprintf(buf, sizeof buf, "%s:%s", op->repo, op->tag);
	else
		snprintf(buf, sizeof buf, "%s", op->repo);
	return buf;
}

static const struct token *token_for(struct registry *reg, const char *repo)
{
	int64_t now = loop_clock_ms();

	for (size_t i = 0; i < reg->tokens_len; i++)
		if (strcmp(reg->tokens[i].repo, repo) == 0 && reg->tokens[i].expires_at > now)
			return &reg->tokens[i];
	return NULL;
}

static void token_store(struct registry *reg, const char *repo, const char *value, int64_t ttl_s)
{
	struct token *t = NULL;

	for (size_t i = 0; i < reg->tokens_len && !t; i++)
		if (strcmp(reg->tokens[i].repo, repo) == 0)
			t = &reg->tokens[i];
	if (!t && reg->tokens_len < TOKENS_MAX)
		t = &reg->tokens[reg->tokens_len++];
	if (!t)
		t = &reg->tokens[0];    /* full (16 repositories): slot 0 is reused */
	free(t->repo);
	if (t->value)
		explicit_bzero(t->value, strlen(t->value));
	free(t->value);
	t->repo = xstrdup(repo);
	t->value = xstrdup(value);
	/* a little early, so a token never expires in flight */
	t->expires_at = loop_clock_ms() + (ttl_s > 30 ? ttl_s - 10 : ttl_s) * 1000;
}

static void op_http_done(const struct http_response *resp, void *arg);

enum op_auth {
	AUTH_REGISTRY,                  /* a cached token, else basic when the registry asked */
	AUTH_TOKEN_SERVICE,             /* basic credentials only (when configured) */
};

/* Starts an HTTP request for the op; url is absolute. */
static void op_get(struct registry_op *op, const char *url, const char *accept, size_t max_body,
    enum op_auth auth)
{
	struct registry *reg = op->reg;
	const struct token *tok = auth == AUTH_REGISTRY ? token_for(reg, op->repo) : NULL;
	char *bearer = tok ? xasprintf("Authorization: Bearer %s", tok->value) : NULL;
	char *content_type = NULL;
	const char *headers[4] = { 0 };
	size_t h = 0;
	struct http_get_opts opts = {
		.url = url,
		.timeout_ms = reg->conf->timeout_ms,
		.max_body = max_body,
		.headers = headers,
		.ca_file = reg->conf->ca_file,
		.follow = op->phase == PHASE_CONFIG,    /* blobs may live behind a redirect */
	};

	if (accept)
		headers[h++] = accept;
	if (bearer)
		headers[h++] = bearer;
	if (op->putting && auth == AUTH_REGISTRY) {
		content_type = xasprintf("Content-Type: %s", op->result.media_type);
		headers[h++] = content_type;
		opts.put = op->manifest;
		opts.put_len = op->manifest_len;
	}
	if (!bearer && op->kind != OP_PING && (reg->basic || auth == AUTH_TOKEN_SERVICE) &&
	    reg->conf->username) {
		if (reg->conf->password.unresolved) {
			/* the credentials are needed now, and the password could not be read */
			op_fail_later(op, REGISTRY_AUTH, "the registry %s wants the credentials of %s, and "
			    "its password could not be read: %s", reg->conf->url, reg->conf->username,
			    reg->conf->password.unresolved);
			return;
		}
		opts.username = reg->conf->username;
		opts.password = reg->conf->password.value;
	}
	op->req = http_get(reg->http, &opts, op_http_done, op);
	free(content_type);
	if (bearer) {
		explicit_bzero(bearer, strlen(bearer));
		free(bearer);
	}
}

static void op_send(struct registry_op *op)
{
	char *url;

	if (op->phase == PHASE_CONFIG)
		url = xasprintf("%s/v2/%s/blobs/%s", op->reg->conf->url, op->repo, op->config_digest);
	else
		url = xasprintf("%s%s", op->reg->conf->url, op->path);
	op_get(op, url, op->kind != OP_TAGS && op->kind != OP_PING && op->phase == PHASE_MAIN ?
	    accept_manifests : NULL,
	    op->phase == PHASE_CONFIG ? CONFIG_MAX_BYTES :
	    op->kind == OP_TAGS ? TAGS_PAGE_MAX_BYTES : MANIFEST_MAX_BYTES, AUTH_REGISTRY);
	free(url);
}

/* What to tell the user when credentials are missing or refused. */
static void fail_auth(struct registry_op *op, long status)
{
	const struct conf_registry *c = op->reg->conf;

	if (op->putting && c->username)
		op_fail(op, REGISTRY_AUTH, "the registry %s does not let %s push to %s (HTTP %ld): moving "
		    "a tag needs credentials that may push (on GHCR, a token with write:packages)",
		    c->url, c->username, what(op), status);
	else if (!c->username)
		op_fail(op, REGISTRY_AUTH, "the registry %s wants credentials for %s (HTTP %ld); set "
		    "registry.username and registry.password ({env: NAME} or {file: PATH})",
		    c->url, what(op), status);
	else if (status == 403)
		op_fail(op, REGISTRY_AUTH, "the registry %s denies %s access to %s (HTTP 403); check the "
		    "account's permissions", c->url, c->username, what(op));
	else
		op_fail(op, REGISTRY_AUTH, "the registry %s refused the credentials of %s for %s "
		    "(HTTP %ld); check the password from %s", c->url, c->username, what(op), status,
		    c->password.source ? c->password.source : "registry.password (none set)");
}

/* The port of an http(s) URL: the one it names, else its scheme's; -1 when malformed. */
static long url_port(const char *url, const char *host, size_t hostlen)
{
	const char *p = host + hostlen;
	char *end;
	long port;

	if (*p != ':')
		return strncmp(url, "https://", 8) == 0 ? 443 : 80;
	port = strtol(p + 1, &end, 10);
	return end > p + 1 && strchr("/?#", *end) && port > 0 && port < 65536 ? port : -1;
}

/* True when two http(s) URLs have the same origin: scheme, host (case aside) and port. */
static bool same_origin(const char *a, const char *b)
{
	const char *ha = strstr(a, "://"), *hb = strstr(b, "://");
	size_t la, lb;

	if (!ha || !hb || ha - a != hb - b || strncasecmp(a, b, (size_t)(ha - a)) != 0)
		return false;
	ha += 3;
	hb += 3;
	la = *ha == '[' ? strcspn(ha, "]") + 1 : strcspn(ha, ":/?#");
	lb = *hb == '[' ? strcspn(hb, "]") + 1 : strcspn(hb, ":/?#");
	return la == lb && la > 0 && strncasecmp(ha, hb, la) == 0 && !memchr(ha, '@', la) &&
	    url_port(a, ha, la) == url_port(b, hb, lb) && url_port(a, ha, la) > 0;
}

/* A Bearer challenge: ask its realm for a token, then send the request again. */
static void fetch_token(struct registry_op *op, const struct registry_challenge *ch)
{
	const struct conf_registry *c = op->reg->conf;
	char url[1200];

	if (strncmp(ch->realm, "https://", 8) != 0 &&
	    !(strncmp(ch->realm, "http://", 7) == 0 && strncmp(c->url, "http://", 7) == 0)) {
		op_fail(op, REGISTRY_AUTH, "the registry %s sent its token service as \"%s\", which is "
		    "not an https:// address; gantry sends no credentials there", c->url, ch->realm);
		return;
	}
	/* credentials go only to the registry's own origin (scheme, host and port), or to the
	 * realm the configuration names: a registry's 401 does not get to send them elsewhere */
	if (c->username && !same_origin(ch->realm, c->url) &&
	    !(c->token_realm && strncmp(ch->realm, c->token_realm, strlen(c->token_realm)) == 0 &&
	    strchr("/?", ch->realm[strlen(c->token_realm)] ? ch->realm[strlen(c->token_realm)] : '/'))) {
		op_fail(op, REGISTRY_AUTH, "the registry %s sent its token service as \"%s\", on another "
		    "host or port; gantry sends no credentials there unless registry.token_realm names it",
		    c->url, ch->realm);
		return;
	}
	snprintf(url, sizeof url, "%s%s", ch->realm, strchr(ch->realm, '?') ? "&" : "?");
	if (ch->service[0]) {
		strncat(url, "service=", sizeof url - strlen(url) - 1);
		url_escape(url, sizeof url, ch->service);
		strncat(url, "&", sizeof url - strlen(url) - 1);
	}
	/* the scope is gantry's: this repository, and push only to move a tag; whatever the
	 * challenge asks for (other repositories, delete) is not asked for */
	strncat(url, "scope=", sizeof url - strlen(url) - 1);
	{
		char scope[300];

		snprintf(scope, sizeof scope, "repository:%s:%s", op->repo,
		    op->putting ? "pull,push" : "pull");
		url_escape(url, sizeof url, scope);
	}
	op->phase = PHASE_TOKEN;
	op_get(op, url, NULL, TOKEN_MAX_BYTES, AUTH_TOKEN_SERVICE);
}

static void got_token(struct registry_op *op, const struct http_response *resp)
{
	json_error_t jerr;
	json_t *root, *tok, *ttl;
	const char *value = NULL;

	if (resp->status == 401 || resp->status == 403) {
		fail_auth(op, resp->status);
		return;
	}
	if (resp->status != 200) {
		op_fail(op, REGISTRY_BAD_REPLY, "the registry's token service answered HTTP %ld for %s",
		    resp->status, what(op));
		return;
	}
	root = json_loadb(resp->body, resp->body_len, 0, &jerr);
	tok = root ? json_object_get(root, "token") : NULL;
	if (!json_is_string(tok) && root)
		tok = json_object_get(root, "access_token");
	if (json_is_string(tok))
		value = json_string_value(tok);
	if (!value || !*value || strlen(value) > 16384 || strpbrk(value, "\r\n")) {
		json_decref(root);
		op_fail(op, REGISTRY_BAD_REPLY, "the registry's token service sent no usable token for %s",
		    what(op));
		return;
	}
	ttl = json_object_get(root, "expires_in");
	token_store(op->reg, op->repo, value,
	    json_is_integer(ttl) && json_integer_value(ttl) > 0 && json_integer_value(ttl) < 86400 ?
	    json_integer_value(ttl) : 60);
	json_decref(root);
	op->phase = PHASE_MAIN;
	op_send(op);
}

/* A manifest or index arrived for a tag: check it and take its digest. */
static void got_manifest(struct registry_op *op, const struct http_response *resp)
{
	if (registry_read_manifest(resp->body, resp->body_len, resp->content_type,
	    resp->content_digest, &op->result, op->config_digest) != REGISTRY_OK) {
		char why[sizeof op->result.message];

		snprintf(why, sizeof why, "%s", op->result.message);
		op_fail(op, op->result.error, "%s: %s", what(op), why);
		return;
	}
	if (op->want_created && op->config_digest[0]) {
		op->phase = PHASE_CONFIG;
		op_send(op);
		return;
	}
	op_finish(op);
}

/* The image config: only its creation time is wanted. */
static void got_config(struct registry_op *op, const struct http_response *resp)
{
	char sum[72];
	json_error_t jerr;
	json_t *root, *created;

	sha256_digest(resp->body, resp->body_len, sum);
	if (resp->status == 200 && strcmp(sum, op->config_digest) == 0) {
		root = json_loadb(resp->body, resp->body_len, 0, &jerr);
		created = root ? json_object_get(root, "created") : NULL;
		if (json_is_string(created))
			op->result.created = parse_time(json_string_value(created));
		json_decref(root);
	}
	op_finish(op);                  /* the digest is known; the time is a nicety */
}

bool registry_read_tags(const struct registry *reg, const char *body, size_t len,
    struct registry_result *r, size_t *cap)
{
	json_error_t jerr;
	json_t *root = json_loadb(body, len, 0, &jerr), *tags, *t;
	size_t i;

	tags = json_is_object(root) ? json_object_get(root, "tags") : NULL;
	if (!json_is_object(root) || !(json_is_array(tags) || json_is_null(tags) || !tags)) {
		json_decref(root);
		return false;
	}
	json_array_foreach(tags, i, t) {
		const char *s = json_string_value(t);

		if (!s || !value_tag(s) || r->tags_seen >= TAGS_MAX)
			continue;
		r->tags_seen++;
		if (!registry_tag_allowed(reg, s))
			continue;
		if (r->tags_len == *cap) {
			*cap = *cap ? *cap * 2 : 64;
			r->tags = xrealloc(r->tags, *cap * sizeof *r->tags);
		}
		r->tags[r->tags_len++] = xstrdup(s);
	}
	json_decref(root);
	return true;
}

/* A page of tags: keep those that match, then the next page if there is one. */
static void got_tags(struct registry_op *op, const struct http_response *resp)
{
	char next[600];

	if (!registry_read_tags(op->reg, resp->body, resp->body_len, &op->result, &op->tags_cap)) {
		op_fail(op, REGISTRY_BAD_REPLY, "the registry sent an unreadable tag list for %s", what(op));
		return;
	}
	if (++op->pages < TAGS_PAGES_MAX && op->result.tags_seen < TAGS_MAX &&
	    registry_parse_link(resp->link, next, sizeof next)) {
		free(op->path);
		op->path = xstrdup(next);
		op_send(op);
		return;
	}
	op_finish(op);
}

/* True when a media type may go into a Content-Type header as it is. */
static bool media_type_ok(const char *s)
{
	return *s && strspn(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.+-/") ==
	    strlen(s) && strchr(s, '/');
}

/* A retag: the manifest of the digest arrived (check it, then PUT it under the tag), or
 * the PUT was answered. */
static void got_retag(struct registry_op *op, const struct http_response *resp)
{
	const struct conf_registry *c = op->reg->conf;
	char config[REGISTRY_DIGEST_MAX];

	if (op->putting) {
		if (resp->status < 200 || resp->status > 299) {
			op_fail(op, REGISTRY_BAD_REPLY, "the registry %s answered HTTP %ld to storing %s",
			    c->url, resp->status, what(op));
		} else if (resp->content_digest[0] && strcmp(resp->content_digest, op->digest) != 0) {
			op_fail(op, REGISTRY_BAD_REPLY, "the registry %s stored %s as %.80s, not as %s",
			    c->url, what(op), resp->content_digest, op->digest);
		} else {
			snprintf(op->result.digest, sizeof op->result.digest, "%s", op->digest);
			op_finish(op);
		}
		return;
	}
	if (registry_read_manifest(resp->body, resp->body_len, resp->content_type,
	    resp->content_digest, &op->result, config) != REGISTRY_OK) {
		char why[sizeof op->result.message];

		snprintf(why, sizeof why, "%s", op->result.message);
		op_fail(op, op->result.error, "%s@%s: %s", op->repo, op->digest, why);
		return;
	}
	if (strcmp(op->result.digest, op->digest) != 0) {
		op_fail(op, REGISTRY_BAD_REPLY, "the registry %s sent a manifest hashing to %s for %s@%s; "
		    "refusing to store it under %s", c->url, op->result.digest, op->repo, op->digest,
		    op->tag);
		return;
	}
	if (!media_type_ok(op->result.media_type)) {
		op_fail(op, REGISTRY_BAD_REPLY, "the registry %s sent %s@%s without a usable media type",
		    c->url, op->repo, op->digest);
		return;
	}
	op->manifest = xmalloc(resp->body_len + 1);
	memcpy(op->manifest, resp->body, resp->body_len);
	op->manifest_len = resp->body_len;
	op->putting = true;
	op->auth_tried = false;         /* the PUT may ask for more rights than the GET had */
	free(op->path);
	op->path = xasprintf("/v2/%s/manifests/%s", op->repo, op->tag);
	op_send(op);
}

static void op_http_done(const struct http_response *resp, void *arg)
{
	struct registry_op *op = arg;
	const struct conf_registry *c = op->reg->conf;
	struct registry_challenge ch;

	op->req = NULL;
	if (resp->error != HTTP_OK) {
		op_fail(op, REGISTRY_UNREACHABLE, "cannot reach the registry%s at %s: %s; check "
		    "registry.url and that the registry runs", op->phase == PHASE_TOKEN ?
		    "'s token service" : "", c->url, resp->message);
		return;
	}
	if (op->phase == PHASE_TOKEN) {
		got_token(op, resp);
		return;
	}
	if (op->kind == OP_PING) {
		/* an answer of the API's, credentials asked for included, is a registry that runs */
		if (resp->status == 200 || resp->status == 401)
			op_finish(op);
		else
			op_fail(op, REGISTRY_UNREACHABLE, "the registry %s answered HTTP %ld at /v2/",
			    c->url, resp->status);
		return;
	}
	if (resp->status == 401) {
		if (op->auth_tried || !registry_parse_challenge(resp->www_authenticate, &ch)) {
			fail_auth(op, resp->status);
			return;
		}
		op->auth_tried = true;
		if (strcasecmp(ch.scheme, "Bearer") == 0 && ch.realm[0]) {
			fetch_token(op, &ch);
		} else if (strcasecmp(ch.scheme, "Basic") == 0 && c->username) {
			op->reg->basic = true;
			op_send(op);
		} else {
			fail_auth(op, resp->status);
		}
		return;
	}
	if (resp->status == 403) {
		fail_auth(op, resp->status);
		return;
	}
	if (op->phase == PHASE_CONFIG) {
		got_config(op, resp);
		return;
	}
	if (resp->status == 404 && op->kind == OP_RETAG && !op->putting) {
		op_fail(op, REGISTRY_NOT_FOUND, "%s@%s is not in the registry %s", op->repo, op->digest,
		    c->url);
		return;
	}
	if (resp->status == 404) {
		if (op->kind == OP_RESOLVE)
			op_fail(op, REGISTRY_NOT_FOUND, "%s is not in the registry %s (no such tag, or no "
			    "such repository)", what(op), c->url);
		else
			op_fail(op, REGISTRY_NOT_FOUND, "the registry %s has no repository %s; check "
			    "registry.app and registry.migrator", c->url, op->repo);
		return;
	}
	if (resp->status == 429 || resp->status >= 500) {
		op_fail(op, REGISTRY_UNREACHABLE, "the registry %s is not answering properly (HTTP %ld) for "
		    "%s; try again shortly", c->url, resp->status, what(op));
		return;
	}
	if (op->kind == OP_RETAG && (op->putting || resp->status == 200)) {
		got_retag(op, resp);
		return;
	}
	if (resp->status != 200) {
		op_fail(op, REGISTRY_BAD_REPLY, "the registry %s answered HTTP %ld for %s", c->url,
		    resp->status, what(op));
		return;
	}
	if (op->kind == OP_RESOLVE)
		got_manifest(op, resp);
	else
		got_tags(op, resp);
}

/* ---- the client ---------------------------------------------------------- */

struct registry *registry_new(struct loop *loop, const struct conf_registry *conf)
{
	struct registry *reg = xcalloc(1, sizeof *reg);

	reg->loop = loop;
	reg->conf = conf;
	reg->http = http_client_new(loop);
	if (regcomp(&reg->pattern, conf->tag_pattern, REG_EXTENDED | REG_NOSUB) != 0)
		die("registry tag pattern does not compile (it did when the configuration was read)");
	return reg;
}

void registry_free(struct registry *reg)
{
	if (!reg)
		return;
	while (reg->ops)
		op_free(reg->ops);
	for (size_t i = 0; i < reg->tokens_len; i++) {
		free(reg->tokens[i].repo);
		explicit_bzero(reg->tokens[i].value, strlen(reg->tokens[i].value));
		free(reg->tokens[i].value);
	}
	http_client_free(reg->http);
	regfree(&reg->pattern);
	free(reg);
}

struct registry_op *registry_resolve(struct registry *reg, const char *repo, const char *tag,
    bool created, registry_done_fn done, void *arg)
{
	struct registry_op *op = op_new(reg, OP_RESOLVE, repo, done, arg);

	op->tag = xstrdup(tag);
	op->want_created = created;
	op->path = xasprintf("/v2/%s/manifests/%s", repo, tag);
	if (!value_tag(tag) && !value_digest(tag)) {
		op_fail_later(op, REGISTRY_NOT_FOUND, "\"%s\" is not a valid tag (letters, digits, '_', "
		    "'.', '-'; at most 128)", tag);
		return op;
	}
	op_send(op);
	return op;
}

struct registry_op *registry_ping(struct registry *reg, registry_done_fn done, void *arg)
{
	struct registry_op *op = op_new(reg, OP_PING, "", done, arg);

	op->path = xstrdup("/v2/");
	op->auth_tried = true;          /* never answers a challenge: no credentials sent */
	op_send(op);
	return op;
}

struct registry_op *registry_tags(struct registry *reg, const char *repo,
    registry_done_fn done, void *arg)
{
	struct registry_op *op = op_new(reg, OP_TAGS, repo, done, arg);

	op->path = xasprintf("/v2/%s/tags/list?n=1000", repo);
	op_send(op);
	return op;
}

struct registry_op *registry_retag(struct registry *reg, const char *repo, const char *digest,
    const char *tag, registry_done_fn done, void *arg)
{
	struct registry_op *op = op_new(reg, OP_RETAG, repo, done, arg);

	op->tag = xstrdup(tag);
	snprintf(op->digest, sizeof op->digest, "%s", digest);
	op->path = xasprintf("/v2/%s/manifests/%s", repo, op->digest);
	if (!value_digest(digest) || strlen(digest) >= sizeof op->digest)
		op_fail_later(op, REGISTRY_BAD_REPLY, "\"%s\" is not a digest", digest);
	else if (!value_tag(tag))
		op_fail_later(op, REGISTRY_BAD_REPLY, "\"%s\" is not a valid tag (letters, digits, '_', "
		    "'.', '-'; at most 128)", tag);
	else
		op_send(op);
	return op;
}

void registry_cancel(struct registry_op *op)
{
	if (op)
		op_free(op);
}

bool registry_tag_allowed(const struct registry *reg, const char *tag)
{
	return value_tag(tag) && regexec(&reg->pattern, tag, 0, NULL, 0) == 0;
}

char *registry_reference(const struct conf_registry *conf, const char *repo, const char *tag,
    const char *digest)
{
	if (digest && *digest)
		return xasprintf("%s/%s@%s", conf->host, repo, digest);
	return xasprintf("%s/%s:%s", conf->host, repo, tag);
}
