/* HTTP GETs and HEADs through libcurl's multi interface, driven by the event loop.
 *
 * curl tells us which sockets to watch (socket callback) and when to call it
 * back (timer callback); the loop does the waiting. Bodies are capped while
 * they arrive, and the whole request, connect included, has one deadline. */
#include "config.h"

#include "http.h"
#include "sanitize.h"
#include "xmalloc.h"

#include <curl/curl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct http_client {
	struct loop *loop;
	CURLM *multi;
	uint64_t timer;                 /* loop timer asked for by curl, 0 if none */
	struct http_request *requests;  /* in flight, doubly linked */
};

struct http_request {
	struct http_client *client;
	CURL *easy;
	struct curl_slist *headers;
	http_done_fn done;
	void *arg;
	char *body;
	size_t body_len, body_cap, max_body;
	bool too_large;
	int64_t timeout_ms;
	char ca_file[300];              /* the CAs trusted instead of the system's, or "" */
	char content_type[96];
	char location[160];
	char www_authenticate[512];
	char content_digest[100];
	char link[512];
	char errbuf[CURL_ERROR_SIZE];
	struct http_request *prev, *next;
};

static void http_check_done(struct http_client *client);

/* The loop saw activity on a socket curl asked us to watch. */
static void http_socket_ready(struct loop *loop, int fd, int revents, void *arg)
{
	struct http_client *client = arg;
	int running, flags = 0;

	if (revents & (POLLIN | POLLHUP))
		flags |= CURL_CSELECT_IN;
	if (revents & POLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (POLLERR | POLLNVAL))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(client->multi, fd, flags, &running);
	http_check_done(client);
}

/* curl's socket callback: start, change or stop watching a socket. */
static int http_socket_cb(CURL *easy, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_client *client = userp;

	switch (what) {
	case CURL_POLL_IN:
		loop_watch(client->loop, fd, POLLIN, http_socket_ready, client);
		break;
	case CURL_POLL_OUT:
		loop_watch(client->loop, fd, POLLOUT, http_socket_ready, client);
		break;
	case CURL_POLL_INOUT:
		loop_watch(client->loop, fd, POLLIN | POLLOUT, http_socket_ready, client);
		break;
	case CURL_POLL_REMOVE:
		loop_unwatch(client->loop, fd);
		break;
	default:
		break;
	}
	return 0;
}

/* curl's deadline arrived. */
static void http_timer_fired(struct loop *loop, void *arg)
{
	struct http_client *client = arg;
	int running;

	client->timer = 0;
	curl_multi_socket_action(client->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	http_check_done(client);
}

/* curl's timer callback: one pending deadline at a time. */
static int http_timer_cb(CURLM *multi, long timeout_ms, void *userp)
{
	struct http_client *client = userp;

	loop_timer_cancel(client->loop, client->timer);
	client->timer = 0;
	if (timeout_ms >= 0)
		client->timer = loop_timer_add(client->loop, timeout_ms, http_timer_fired, client);
	return 0;
}

/* Collects body bytes up to the cap. */
static size_t http_write_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_request *req = userp;
	size_t n = size * nmemb;

	if (req->body_len + n > req->max_body) {
		req->too_large = true;
		return 0;
	}
	if (req->body_len + n + 1 > req->body_cap) {
		req->body_cap = req->body_len + n + 1 < 4096 ? 4096 : (req->body_len + n + 1) * 2;
		if (req->body_cap > req->max_body + 1)
			req->body_cap = req->max_body + 1;
		req->body = xrealloc(req->body, req->body_cap);
	}
	memcpy(req->body + req->body_len, data, n);
	req->body_len += n;
	req->body[req->body_len] = '\0';
	return n;
}

/* Keeps the headers gantry uses: Content-Type, Location and the registry's. */
static size_t http_header_cb(char *data, size_t size, size_t nmemb, void *userp)
{
	struct http_request *req = userp;
	const struct {
		const char *name;
		size_t offset, size;
	} kept[] = {
		{ "Content-Type:", offsetof(struct http_request, content_type), sizeof req->content_type },
		{ "Location:", offsetof(struct http_request, location), sizeof req->location },
		{ "WWW-Authenticate:", offsetof(struct http_request, www_authenticate),
		  sizeof req->www_authenticate },
		{ "Docker-Content-Digest:", offsetof(struct http_request, content_digest),
		  sizeof req->content_digest },
		{ "Link:", offsetof(struct http_request, link), sizeof req->link },
	};
	size_t n = size * nmemb, skip = 0;
	char *dst = NULL;
	size_t dstsz = 0;

	for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++) {
		size_t len = strlen(kept[i].name);

		if (n > len && strncasecmp(data, kept[i].name, len) == 0) {
			dst = (char *)req + kept[i].offset;
			dstsz = kept[i].size;
			skip = len;
			break;
		}
	}
	if (!dst && n > 5 && strncmp(data, "HTTP/", 5) == 0) {
		/* a new response (after 100 Continue): forget the last one's headers */
		for (size_t i = 0; i < sizeof kept / sizeof kept[0]; i++)
			((char *)req + kept[i].offset)[0] = '\0';
	}
	if (dst) {
		while (skip < n && (data[skip] == ' ' || data[skip] == '\t'))
			skip++;
		while (n > skip && (data[n - 1] == '\r' || data[n - 1] == '\n' || data[n - 1] == ' '))
			n--;
		sanitize_text(data + skip, n - skip, dst, dstsz, 0);
	}
	return size * nmemb;
}

/* Takes a request out of the client's list and frees it. */
static void http_request_free(struct http_request *req)
{
	struct http_client *client = req->client;

	curl_multi_remove_handle(client->multi, req->easy);
	curl_easy_cleanup(req->easy);
	/* the copies may hold credentials (a bearer token, an API key): wiped first */
	for (struct curl_slist *h = req->headers; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(req->headers);
	if (req->prev)
		req->prev->next = req->next;
	else
		client->requests = req->next;
	if (req->next)
		req->next->prev = req->prev;
	free(req->body);
	free(req);
}

/* host:port of a URL, as a TLS failure names it (the scheme's port when none is given). */
static void http_peer(const char *url, char *dst, size_t dstsz)
{
	CURLU *u = curl_url();
	char *host = NULL, *port = NULL;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    curl_url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		char raw[200];

		snprintf(raw, sizeof raw, "%s:%s", host, port);
		sanitize_text(raw, strlen(raw), dst, dstsz, 0);
	} else {
		snprintf(dst, dstsz, "the server");
	}
	curl_free(host);
	curl_free(port);
	curl_url_cleanup(u);
}

/* Turns curl's result into a response the caller can show. */
static void http_fill_response(struct http_request *req, CURLcode code, struct http_response *resp)
{
	curl_off_t total_us = 0;
	char detail[CURL_ERROR_SIZE], peer[160] = "the server";

	memset(resp, 0, sizeof *resp);
	curl_easy_getinfo(req->easy, CURLINFO_RESPONSE_CODE, &resp->status);
	curl_easy_getinfo(req->easy, CURLINFO_TOTAL_TIME_T, &total_us);
	resp->elapsed_ms = (int64_t)(total_us / 1000);
	resp->body = req->body ? req->body : "";
	resp->body_len = req->body_len;
	memcpy(resp->content_type, req->content_type, sizeof resp->content_type);
	memcpy(resp->location, req->location, sizeof resp->location);
	memcpy(resp->www_authenticate, req->www_authenticate, sizeof resp->www_authenticate);
	memcpy(resp->content_digest, req->content_digest, sizeof resp->content_digest);
	memcpy(resp->link, req->link, sizeof resp->link);
	sanitize_text(req->errbuf, strlen(req->errbuf), detail, sizeof detail, 0);
	if (code == CURLE_PEER_FAILED_VERIFICATION || code == CURLE_SSL_CACERT_BADFILE ||
	    code == CURLE_SSL_CONNECT_ERROR || code == CURLE_SSL_CERTPROBLEM) {
		char *url = NULL;

		curl_easy_getinfo(req->easy, CURLINFO_EFFECTIVE_URL, &url);
		http_peer(url ? url : "", peer, sizeof peer);
	}
	if (!detail[0])
		snprintf(detail, sizeof detail, "%s", curl_easy_strerror(code));

	switch (code) {
	case CURLE_OK:
		resp->error = HTTP_OK;
		return;
	case CURLE_OPERATION_TIMEDOUT:
		resp->error = HTTP_ERR_TIMEOUT;
		snprintf(resp->message, sizeof resp->message, "no complete answer within %lld.%llds",
		    (long long)(req->timeout_ms / 1000), (long long)(req->timeout_ms % 1000 / 100));
		return;
	case CURLE_COULDNT_CONNECT:
		resp->error = HTTP_ERR_REFUSED;
		snprintf(resp->message, sizeof resp->message, "connection refused or unreachable");
		return;
	case CURLE_COULDNT_RESOLVE_HOST:
		resp->error = HTTP_ERR_RESOLVE;
		snprintf(resp->message, sizeof resp->message, "%s", detail);
		return;
	case CURLE_WRITE_ERROR:
		if (req->too_large) {
			resp->error = HTTP_ERR_TOO_LARGE;
			snprintf(resp->message, sizeof resp->message, "body larger than %zu bytes",
			    req->max_body);
			return;
		}
		break;
	case CURLE_PEER_FAILED_VERIFICATION:
		/* never accepted: say whose certificate, against what, and what to do */
		resp->error = HTTP_ERR_TLS;
		snprintf(resp->message, sizeof resp->message, "TLS: %s's certificate did not verify "
		    "against %s%s (%s): %s", peer, req->ca_file[0] ? "ca_file " : "the system's CAs",
		    req->ca_file, detail, req->ca_file[0] ? "check that ca_file holds the CA that signed it" :
		    "set ca_file to the CA that signed it");
		return;
	case CURLE_SSL_CACERT_BADFILE:
		resp->error = HTTP_ERR_TLS;
		snprintf(resp->message, sizeof resp->message, "TLS: cannot use ca_file %s for %s (%s): "
		    "it must hold PEM certificates", req->ca_file[0] ? req->ca_file : "(none)", peer,
		    detail);
		return;
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_SSL_CERTPROBLEM:
		resp->error = HTTP_ERR_TLS;
		snprintf(resp->message, sizeof resp->message, "TLS with %s: %s", peer, detail);
		return;
	case CURLE_GOT_NOTHING:
		resp->error = HTTP_ERR_PROTOCOL;
		snprintf(resp->message, sizeof resp->message, "the server closed the connection without answering");
		return;
	case CURLE_WEIRD_SERVER_REPLY:
	case CURLE_UNSUPPORTED_PROTOCOL:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
	case CURLE_HTTP2:
		resp->error = HTTP_ERR_PROTOCOL;
		snprintf(resp->message, sizeof resp->message, "bad HTTP reply: %s", detail);
		return;
	default:
		break;
	}
	resp->error = HTTP_ERR_OTHER;
	snprintf(resp->message, sizeof resp->message, "%s", detail);
}

/* Delivers every finished request to its callback. */
static void http_check_done(struct http_client *client)
{
	CURLMsg *msg;
	int left;

	while ((msg = curl_multi_info_read(client->multi, &left))) {
		struct http_request *req = NULL;
		struct http_response resp;

		if (msg->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&req);
		if (!req)
			continue;
		http_fill_response(req, msg->data.result, &resp);
		req->done(&resp, req->arg);
		http_request_free(req);
	}
}

struct http_client *http_client_new(struct loop *loop)
{
	struct http_client *client = xcalloc(1, sizeof *client);

	client->loop = loop;
	client->multi = curl_multi_init();
	if (!client->multi)
		die("cannot initialise libcurl");
	curl_multi_setopt(client->multi, CURLMOPT_SOCKETFUNCTION, http_socket_cb);
	curl_multi_setopt(client->multi, CURLMOPT_SOCKETDATA, client);
	curl_multi_setopt(client->multi, CURLMOPT_TIMERFUNCTION, http_timer_cb);
	curl_multi_setopt(client->multi, CURLMOPT_TIMERDATA, client);
	curl_multi_setopt(client->multi, CURLMOPT_MAXCONNECTS, 1024L);
	return client;
}

void http_client_free(struct http_client *client)
{
	if (!client)
		return;
	while (client->requests)
		http_request_free(client->requests);
	loop_timer_cancel(client->loop, client->timer);
	curl_multi_cleanup(client->multi);
	free(client);
}

struct http_request *http_get(struct http_client *client, const struct http_get_opts *opts,
    http_done_fn done, void *arg)
{
	struct http_request *req = xcalloc(1, sizeof *req);
	CURL *e = curl_easy_init();

	if (!e)
		die("cannot initialise a libcurl handle");
	req->client = client;
	req->easy = e;
	req->done = done;
	req->arg = arg;
	req->max_body = opts->max_body;
	req->timeout_ms = opts->timeout_ms;
	for (const char *const *h = opts->headers; h && *h; h++) {
		struct curl_slist *next = curl_slist_append(req->headers, *h);

		if (!next)
			die("out of memory building headers");
		req->headers = next;
	}
	curl_easy_setopt(e, CURLOPT_URL, opts->url);
	if (opts->ca_file) {
		snprintf(req->ca_file, sizeof req->ca_file, "%s", opts->ca_file);
		curl_easy_setopt(e, CURLOPT_CAINFO, opts->ca_file);
		curl_easy_setopt(e, CURLOPT_CAPATH, NULL);
	}
	if (opts->head)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	if (opts->put) {
		/* no "Expect: 100-continue" round trip for a small body */
		struct curl_slist *next = curl_slist_append(req->headers, "Expect:");

		if (!next)
			die("out of memory building headers");
		req->headers = next;
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)opts->put_len);
		curl_easy_setopt(e, CURLOPT_COPYPOSTFIELDS, opts->put);
	}
	if (opts->username) {
		curl_easy_setopt(e, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		curl_easy_setopt(e, CURLOPT_USERNAME, opts->username);
		curl_easy_setopt(e, CURLOPT_PASSWORD, opts->password ? opts->password : "");
	}
	curl_easy_setopt(e, CURLOPT_PRIVATE, (char *)req);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)opts->timeout_ms);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)opts->timeout_ms);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, opts->follow ? 1L : 0L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(e, CURLOPT_UNRESTRICTED_AUTH, 0L);
#if LIBCURL_VERSION_NUM >= 0x075500
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
#else
	curl_easy_setopt(e, CURLOPT_PROTOCOLS, (long)(CURLPROTO_HTTP | CURLPROTO_HTTPS));
#endif
	curl_easy_setopt(e, CURLOPT_USERAGENT, PACKAGE_NAME "/" PACKAGE_VERSION);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, req->headers);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, http_write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, req);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, http_header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, req);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, req->errbuf);
	req->next = client->requests;
	if (client->requests)
		client->requests->prev = req;
	client->requests = req;
	if (curl_multi_add_handle(client->multi, e) != CURLM_OK)
		die("libcurl refused a request");
	return req;
}

void http_cancel(struct http_request *request)
{
	if (request)
		http_request_free(request);
}
