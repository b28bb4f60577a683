/* HTTP GETs, HEADs and PUTs through libcurl's multi interface, driven by the event loop. */
#ifndef GANTRY_HTTP_H
#define GANTRY_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "loop.h"

enum http_error {
	HTTP_OK = 0,                    /* a complete HTTP response arrived (any status) */
	HTTP_ERR_TIMEOUT,
	HTTP_ERR_REFUSED,
	HTTP_ERR_RESOLVE,
	HTTP_ERR_TOO_LARGE,
	HTTP_ERR_TLS,
	HTTP_ERR_PROTOCOL,              /* the peer did not speak HTTP, or hung up */
	HTTP_ERR_OTHER,
};

struct http_response {
	enum http_error error;
	long status;                    /* HTTP status, 0 when none arrived */
	const char *body;               /* NUL-terminated, at most max_body bytes */
	size_t body_len;
	char content_type[96];          /* sanitized */
	char location[160];             /* sanitized Location header of a redirect */
	/* registry headers, sanitized; "" when absent */
	char www_authenticate[512];     /* the auth challenge of a 401 */
	char content_digest[100];       /* Docker-Content-Digest */
	char link[512];                 /* Link: the next page of a list */
	int64_t elapsed_ms;
	char message[300];              /* sanitized description when error != HTTP_OK */
};

struct http_get_opts {
	const char *url;
	int64_t timeout_ms;             /* whole request, connect included */
	size_t max_body;                /* larger bodies end as HTTP_ERR_TOO_LARGE */
	const char *const *headers;     /* "Name: value" lines, NULL-terminated, may be NULL */
	bool head;                      /* HEAD instead of GET */
	const char *put;                /* PUT these put_len bytes instead of GET (copied);
	                                   name their Content-Type in headers */
	size_t put_len;
	bool follow;                    /* follow up to 3 redirects (credentials stay behind) */
	const char *username;           /* basic auth when set (never logged) */
	const char *password;
	const char *ca_file;            /* the CAs trusted for https (PEM), instead of the
	                                   system's; NULL: the system's */
};

struct http_client;
struct http_request;

/* Called once per request, from the loop; the response is valid only during the call. */
typedef void (*http_done_fn)(const struct http_response *response, void *arg);

struct http_client *http_client_new(struct loop *loop);
/* Cancels what is in flight (without callbacks) and frees the client. */
void http_client_free(struct http_client *client);

/* Starts a GET (or HEAD, or PUT); `done` runs later, from the loop, never from inside this call. */
struct http_request *http_get(struct http_client *client, const struct http_get_opts *opts,
    http_done_fn done, void *arg);
/* Abandons a request: its callback will not run. */
void http_cancel(struct http_request *request);

#endif
