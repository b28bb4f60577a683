/* A small HTTP/1.1 server for the unit tests, driven by the test's loop. */
#include "config.h"

#include "testhttp.h"
#include "sha256.h"
#include "xmalloc.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define REQUEST_MAX 65536

struct route {
	char *method, *path;
	int status;
	char *header, *body;
	unsigned count;
	char *last;                     /* the last request's target, query included */
};

struct conn {
	struct testhttp *s;
	int fd;
	char *buf;
	size_t len;
	char *reply;
	size_t reply_len, sent;
};

struct testhttp {
	struct loop *loop;
	int fd;
	char url[64];
	struct route *routes;
	size_t routes_len;
	bool down;
};

static struct route *route_find(struct testhttp *s, const char *method, const char *path)
{
	for (size_t i = 0; i < s->routes_len; i++)
		if (strcmp(s->routes[i].method, method) == 0 && strcmp(s->routes[i].path, path) == 0)
			return &s->routes[i];
	return NULL;
}

void testhttp_set(struct testhttp *s, const char *method, const char *path, int status,
    const char *header, const char *body)
{
	struct route *r = route_find(s, method, path);

	if (!r) {
		s->routes = xrealloc(s->routes, (s->routes_len + 1) * sizeof *s->routes);
		r = &s->routes[s->routes_len++];
		*r = (struct route){ .method = xstrdup(method), .path = xstrdup(path) };
	}
	free(r->header);
	free(r->body);
	r->status = status;
	r->header = header ? xstrdup(header) : NULL;
	r->body = xstrdup(body ? body : "");
}

unsigned testhttp_count(const struct testhttp *s, const char *method, const char *path)
{
	const struct route *r = route_find((struct testhttp *)s, method, path);

	return r ? r->count : 0;
}

const char *testhttp_last(const struct testhttp *s, const char *method, const char *path)
{
	const struct route *r = route_find((struct testhttp *)s, method, path);

	return r && r->last ? r->last : "";
}

void testhttp_down(struct testhttp *s, bool down)
{
	s->down = down;
}

static void conn_free(struct conn *c)
{
	loop_unwatch(c->s->loop, c->fd);
	close(c->fd);
	free(c->buf);
	free(c->reply);
	free(c);
}

static void conn_write(struct loop *loop, int fd, int revents, void *arg)
{
	struct conn *c = arg;
	ssize_t n;

	(void)loop;
	(void)fd;
	(void)revents;
	n = write(c->fd, c->reply + c->sent, c->reply_len - c->sent);
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || (c->sent += (size_t)n) == c->reply_len)
		conn_free(c);
}

/* The whole request head is in: the answer, then the connection closes. */
static void conn_answer(struct conn *c)
{
	char method[16] = "", path[1024] = "";
	const struct route *r;
	struct route *hit;
	bool head;
	int status;

	char target[1024] = "";

	sscanf(c->buf, "%15s %1023s", method, path);
	snprintf(target, sizeof target, "%s", path);
	path[strcspn(path, "?")] = '\0';
	head = strcmp(method, "HEAD") == 0;
	hit = route_find(c->s, head ? "GET" : method, path);
	if (hit) {
		hit->count++;
		free(hit->last);
		hit->last = xstrdup(target);
	}
	r = hit;
	status = r ? r->status : 404;
	free(c->reply);
	c->reply = xasprintf("HTTP/1.1 %d X\r\nContent-Length: %zu\r\nContent-Type: "
	    "application/json\r\n%s%sConnection: close\r\n\r\n%s", status,
	    r ? strlen(r->body) : 0, r && r->header ? r->header : "", r && r->header ? "\r\n" : "",
	    r && !head ? r->body : "");
	c->reply_len = strlen(c->reply);
	loop_unwatch(c->s->loop, c->fd);
	loop_watch(c->s->loop, c->fd, POLLOUT, conn_write, c);
}

static void conn_read(struct loop *loop, int fd, int revents, void *arg)
{
	struct conn *c = arg;
	char chunk[4096];
	ssize_t n = read(fd, chunk, sizeof chunk);
	char *end;

	(void)loop;
	(void)revents;
	if (n < 0 && (errno == EAGAIN || errno == EINTR))
		return;
	if (n <= 0 || c->len + (size_t)n > REQUEST_MAX) {
		conn_free(c);
		return;
	}
	c->buf = xrealloc(c->buf, c->len + (size_t)n + 1);
	memcpy(c->buf + c->len, chunk, (size_t)n);
	c->len += (size_t)n;
	c->buf[c->len] = '\0';
	end = strstr(c->buf, "\r\n\r\n");
	if (!end)
		return;
	/* a PUT's body: wait for all of it */
	{
		const char *cl = strstr(c->buf, "Content-Length:");
		size_t want = cl && cl < end ? strtoul(cl + 15, NULL, 10) : 0;

		if (c->len < (size_t)(end + 4 - c->buf) + want)
			return;
	}
	conn_answer(c);
}

static void on_accept(struct loop *loop, int fd, int revents, void *arg)
{
	struct testhttp *s = arg;
	int cfd = accept(fd, NULL, NULL);
	struct conn *c;

	(void)revents;
	if (cfd < 0)
		return;
	if (s->down) {
		close(cfd);             /* hung up at once: the peer sees no HTTP */
		return;
	}
	fcntl(cfd, F_SETFL, fcntl(cfd, F_GETFL) | O_NONBLOCK);
	c = xcalloc(1, sizeof *c);
	c->s = s;
	c->fd = cfd;
	loop_watch(loop, cfd, POLLIN, conn_read, c);
}

struct testhttp *testhttp_new(struct loop *loop)
{
	struct testhttp *s = xcalloc(1, sizeof *s);
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t alen = sizeof a;

	s->loop = loop;
	s->fd = socket(AF_INET, SOCK_STREAM, 0);
	if (s->fd < 0 || bind(s->fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(s->fd, 64) != 0 ||
	    getsockname(s->fd, (struct sockaddr *)&a, &alen) != 0)
		abort();
	fcntl(s->fd, F_SETFL, fcntl(s->fd, F_GETFL) | O_NONBLOCK);
	snprintf(s->url, sizeof s->url, "http://127.0.0.1:%u", ntohs(a.sin_port));
	loop_watch(loop, s->fd, POLLIN, on_accept, s);
	return s;
}

void testhttp_free(struct testhttp *s)
{
	if (!s)
		return;
	loop_unwatch(s->loop, s->fd);
	close(s->fd);
	for (size_t i = 0; i < s->routes_len; i++) {
		free(s->routes[i].method);
		free(s->routes[i].path);
		free(s->routes[i].header);
		free(s->routes[i].body);
		free(s->routes[i].last);
	}
	free(s->routes);
	free(s);
}

const char *testhttp_url(const struct testhttp *s)
{
	return s->url;
}

void testhttp_image(struct testhttp *s, const char *repo, const char *tag, char digest[72])
{
	char *body = xasprintf("{\"schemaVersion\":2,\"mediaType\":\"application/vnd.oci.image."
	    "manifest.v1+json\",\"config\":{\"mediaType\":\"application/vnd.oci.image.config.v1+json\","
	    "\"size\":2,\"digest\":\"sha256:%064d\"},\"layers\":[],\"annotations\":{\"built\":\"%s:%s\"}}",
	    0, repo, tag);
	char *path, *header;

	sha256_digest(body, strlen(body), digest);
	header = xasprintf("Docker-Content-Digest: %s", digest);
	path = xasprintf("/v2/%s/manifests/%s", repo, tag);
	testhttp_set(s, "GET", path, 200, header, body);
	free(path);
	path = xasprintf("/v2/%s/manifests/%s", repo, digest);
	testhttp_set(s, "GET", path, 200, header, body);
	free(path);
	free(header);
	free(body);
}

void testhttp_point(struct testhttp *s, const char *repo, const char *tag, const char *built)
{
	char *from = xasprintf("/v2/%s/manifests/%s", repo, built);
	char *to = xasprintf("/v2/%s/manifests/%s", repo, tag);
	const struct route *r = route_find(s, "GET", from);

	if (!r)
		abort();                /* a test's mistake */
	testhttp_set(s, "GET", to, r->status, r->header, r->body);
	free(from);
	free(to);
}

void testhttp_app(struct testhttp *s, const char *prefix, bool ready, const char *version)
{
	char *path = xasprintf("%s/api/ready", prefix), *body;

	testhttp_set(s, "GET", path, ready ? 200 : 503, NULL, ready ? "{\"status\":\"ready\"}" :
	    "{\"status\":\"starting\"}");
	free(path);
	path = xasprintf("%s/api/health", prefix);
	testhttp_set(s, "GET", path, 200, NULL, "{\"status\":\"ok\"}");
	free(path);
	path = xasprintf("%s/api/version", prefix);
	body = xasprintf("{\"version\":\"%s\"}", version);
	testhttp_set(s, "GET", path, 200, NULL, body);
	free(body);
	free(path);
}
