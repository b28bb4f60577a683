/* gantry.yml: finding it, reading it, and saying exactly where it is wrong. */
#ifndef GANTRY_CONF_H
#define GANTRY_CONF_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "schema.h"

/* A value that may be written inline, or taken from an environment variable or a file.
 * `value` is the resolved secret: never print or log it. */
struct conf_secret {
	char *value;
	char *source;                   /* "env STAGING_TOKEN", "file /run/token", "inline" */
	char *unresolved;               /* a secret read only when needed (the registry's
	                                   password) that could not be: "file:line:col: why";
	                                   value is NULL then */
};

struct conf_header {
	char *name;
	struct conf_secret value;
};

/* One SSH host of an environment. */
struct conf_host {
	char *address;                  /* as written: [user@]host[:port], or an ~/.ssh/config alias */
	char *user;                     /* NULL: from ~/.ssh/config, else the login name */
	char *host;                     /* name, address or alias */
	int port;                       /* 0: from ~/.ssh/config, else 22 */
	char *deploy_dir;               /* this host's own, else NULL (the environment's) */
	char *app_port;                 /* this host's deploy.port, else NULL */
	char *app_url;                  /* this host's deploy.url, else NULL */
	char *labels;                   /* comma-separated words, or NULL */
	/* where it was written: a line of gantry.yml, or of the inventory (file not NULL) */
	const char *file;
	int line, col;
	size_t item;                    /* gantry.yml: its index in hosts: */
};

/* One step of a deploy plan: a command template run in the deploy directory on a host. */
struct conf_step {
	char *name;                     /* shown and recorded */
	char *run;                      /* template over conf_step_vars */
	int64_t timeout_ms;             /* default 10m */
	bool switch_point;              /* the step that switches traffic: no cancel from here on */
	bool once;                      /* run on the first host only (migrations, a scheduler) */
	bool migration;                 /* runs migrations: skipped by a rollback, recorded */
};

/* An HTTP check after ready: GET url+path must answer `status`. */
struct conf_smoke {
	char *path;
	long status;
	char *body;                     /* text the body must contain, or NULL */
};

/* How an environment is deployed (all optional; the default is a compose plan). */
struct conf_deploy {
	struct conf_step *steps;        /* NULL: the default compose plan (see plan.c) */
	size_t steps_len;
	char *services;                 /* compose services that move with the image (default "app") */
	char *migrator;                 /* the migrator's compose service (default "migrator"; "" none) */
	char *infra;                    /* services started before migrating, such as "postgres redis" */
	char *port;                     /* host port written as APP_PORT in deploy.env; NULL: kept */
	char *url;                      /* base URL the host reaches its app at (default: env url) */
	char *image_check;              /* a host command that exits 0 when {image} is there */
	char *running;                  /* a host command listing "SERVICE IMAGE"; "" for none */
	char *retag;                    /* registry tags moved to a build once it is ready here,
	                                   separated by spaces, such as "stable"; "" none */
	int64_t ready_timeout_ms;       /* default 2m */
	int64_t ready_interval_ms;      /* default 2s */
	struct conf_smoke *smoke;
	size_t smoke_len;
	bool auto_rollback;             /* roll back by itself when ready or smoke fails */
	int64_t parallel;               /* hosts run at once after the first (default 1) */
	bool protected_env;             /* typed confirmation (the environment's name) */
	int64_t soak_ms;                /* how long the source must have been ready (default 0) */
};

/* One wave of a rollout: how much of the fleet has the new tag once it is done (a count,
 * or a percentage of the hosts, rounded up), and whether the rollout then waits for an
 * operator's go. */
struct conf_wave {
	int64_t count;                  /* hosts, or 0 when `percent` says */
	int percent;                    /* 1 to 100, or 0 when `count` says */
	bool pause;
};

#define CONF_MAX_WAVES 20

/* A rollout strategy: the hosts in waves, each gated (rollout: in gantry.yml). */
struct conf_rollout {
	struct conf_wave *waves;        /* NULL: no strategy (the hosts as deploy.parallel says) */
	size_t waves_len;
	int64_t parallel;               /* a wave's hosts at once (0: deploy.parallel) */
	int64_t soak_ms;                /* after a wave, its hosts stay ready this long (0: none) */
	int64_t max_failures;           /* a wave's hosts that may fail before the rollout pauses */
	int64_t unhealthy_timeout_ms;   /* a host not ready this long after its switch fails
	                                   (0: the plan's own ready wait) */
};

/* The log sources an environment offers, in this order. */
enum log_source { LOG_APP, LOG_MIGRATOR, LOG_SOURCES };

struct conf_env {
	char *name;
	char *url;                      /* base URL without a trailing slash */
	char *health_path;              /* liveness, default /api/health */
	char *ready_path;               /* readiness, default /api/ready */
	char *version_path;             /* default /api/version */
	char *version_pointer;          /* JSON pointer into the version body, default /version */
	int64_t interval_ms;            /* time between checks */
	int64_t timeout_ms;             /* per request */
	struct conf_header *headers;    /* sent with every request */
	size_t headers_len;
	/* SSH (all optional: an environment without hosts is watched over HTTP only) */
	struct conf_host *hosts;        /* hosts: and hosts_file:'s, in the order written */
	size_t hosts_len;
	char *hosts_file;               /* the inventory, or NULL */
	char *deploy_dir;               /* where deploy.env lives and log commands run */
	size_t target;                  /* where and how it is deployed: an index into
	                                   src/targets.c's kinds (default 0, compose-ssh) */
	char *compose;                  /* the compose command, default "docker compose" */
	char *logs[LOG_SOURCES];        /* command templates, see conf_log_vars */
	int64_t log_tail;               /* lines asked for when a log opens (default 200) */
	int64_t scrollback;             /* lines a log pane keeps (default 10000) */
	char *known_hosts;              /* a known_hosts file checked besides ~/.ssh/known_hosts */
	char *ca_file;                  /* the CAs its https URLs are checked against (PEM), or
	                                   NULL: the system's */
	char *identity_file;            /* the private key to log in with, else NULL */
	bool trust_new_host_keys;       /* explicit trust on first use (default false) */
	int64_t connect_timeout_ms;     /* TCP connect plus SSH handshake (default 10s) */
	int64_t command_timeout_ms;     /* a one-shot host command's deadline (default 30s) */
	struct conf_deploy deploy;
	struct conf_rollout rollout;
	int line;                       /* where the environment starts in the file */
};

/* The OCI registry the images come from. */
struct conf_registry {
	char *url;                      /* API base, http(s)://host[:port], no trailing slash */
	char *host;                     /* how hosts name the images: host[:port] (default: the url's) */
	char *app;                      /* repository of the app image, such as shop/app */
	char *migrator;                 /* repository of the migrator image (default: app's) */
	char *tag_pattern;              /* POSIX extended regex; tags that may be deployed */
	char *username;                 /* basic credentials, also sent to a token service */
	char *token_realm;              /* a token service on another host that may get them */
	struct conf_secret password;    /* value NULL when none */
	int64_t timeout_ms;             /* per request (default 10s) */
	char *ca_file;                  /* the CAs the registry and its token service are
	                                   checked against (PEM), or NULL: the system's */
	int line;
};

struct conf {
	char *path;                     /* the file read, as named */
	char *project;
	char *theme;                    /* NULL: default */
	bool read_only;
	struct conf_registry *registry; /* NULL when not configured */
	struct conf_env *envs;          /* in promotion order */
	size_t envs_len;
};

/* Where the configuration was looked for and found. */
struct conf_lookup {
	char *found;                    /* NULL when nothing was found */
	char *tried[4];                 /* the places looked at, in order */
	size_t tried_len;
};

/* Looks for the file: cli_path, $GANTRY_CONFIG, ./gantry.yml, $XDG_CONFIG_HOME/gantry/config.yml. */
void conf_find(const char *cli_path, struct conf_lookup *lookup);
void conf_lookup_free(struct conf_lookup *lookup);

/* Reads and checks a file; NULL with errs filled on any error (nothing half-read). */
struct conf *conf_load(const char *path, struct schema_errors *errs);
/* The same, from a buffer; `name` is used in messages. */
struct conf *conf_parse(const char *name, const char *buf, size_t len, struct schema_errors *errs);
void conf_free(struct conf *conf);

/* Prints every configuration key path with its meaning, one per line (for docs and tests). */
void conf_print_keys(FILE *out);

/* The variables a log command template may use, NULL-terminated. */
extern const char *const conf_log_vars[];
/* The variables a deploy step template may use, NULL-terminated. */
extern const char *const conf_step_vars[];
/* The variables deploy.image_check may use, NULL-terminated. */
extern const char *const conf_image_check_vars[];
/* The variables deploy.running may use, NULL-terminated. */
extern const char *const conf_running_vars[];

/* True when the configuration holds a secret (the registry's password, a header's). */
bool conf_has_secrets(const struct conf *conf);
/* "app", "migrator" */
const char *conf_log_source_name(enum log_source source);
/* The deploy directory of a host (its own or its environment's). */
const char *conf_host_deploy_dir(const struct conf_env *env, const struct conf_host *host);
/* The app's port on a host (the host's app_port, else deploy.port; NULL: keep deploy.env's)
 * and the URL the host reaches its own app at (app_url, else deploy.url, else url). */
const char *conf_host_app_port(const struct conf_env *env, const struct conf_host *host);
const char *conf_host_app_url(const struct conf_env *env, const struct conf_host *host);

/* The environment with this name, or NULL. */
const struct conf_env *conf_env_by_name(const struct conf *conf, const char *name);

#endif
