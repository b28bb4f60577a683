/* What gantry knows about each environment, and how fresh that knowledge is. */
#ifndef GANTRY_MODEL_H
#define GANTRY_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "conf.h"
#include "http.h"
#include "hoststate.h"
#include "payload.h"
#include "rolloutstatus.h"
#include "running.h"

enum probe_kind {
	PROBE_LIVE,                     /* /api/health: the process is up */
	PROBE_READY,                    /* /api/ready: database reachable, migrations applied */
	PROBE_VERSION,                  /* /api/version: what it runs */
	PROBE_KINDS
};

enum probe_state {
	PROBE_PENDING = 0,              /* never answered yet */
	PROBE_OK,                       /* 2xx (and, for the version, a version read) */
	PROBE_FAIL,                     /* an HTTP answer that says no: 4xx, 5xx */
	PROBE_TIMEOUT,                  /* no complete answer in time */
	PROBE_DOWN,                     /* connection refused, name not resolved */
	PROBE_BAD,                      /* an answer that is not what a health endpoint says */
	PROBE_TLS,                      /* https whose certificate did not verify, or no TLS */
};

struct probe_result {
	enum probe_state state;
	long http_status;               /* 0 when no HTTP answer arrived */
	int64_t latency_ms;
	char detail[300];               /* sanitized: what went wrong, or the body's summary */
};

enum env_health {
	HEALTH_UNKNOWN = 0,             /* not checked yet */
	HEALTH_READY,                   /* live and ready */
	HEALTH_NOT_READY,               /* live, not ready */
	HEALTH_DOWN,                    /* not live */
};

/* What one SSH host of an environment has deployed (from its deploy.env). */
struct host_status {
	char name[64];                  /* the unit, as its target names it (a host's address) */
	char app_tag[PAYLOAD_TAG_MAX];  /* the tag of APP_IMAGE; "" when not known */
	char migrator_tag[PAYLOAD_TAG_MAX];
	char deploy_error[600];         /* why deploy.env could not be read; "" when it was */
	int64_t deploy_at;              /* monotonic ms of the last good read; 0 never */
	/* the deploy lock, freeze and current run (see hoststate.h), read with deploy.env */
	bool state_known;
	struct host_lock lock;
	struct drive_record driver;     /* a rollout's driver and the request waiting for it, */
	struct drive_request request;   /* as the first host keeps them (src/drive.h) */
	bool lock_stale;
	bool frozen;
	char freeze_by[128], freeze_reason[200];
	int64_t freeze_since;           /* host clock, Unix seconds */
	int64_t host_now;               /* the host's clock when read */
	char current_run[72];
	struct run_summary last_run;    /* the current (last started) run: how it went */
	/* a host with an app_url of its own: the version its app reports */
	bool app_probed;                /* asked at least once */
	char app_version[PAYLOAD_TAG_MAX];      /* "" when none was read */
	char app_version_error[600];
	/* what each service runs, from the unit's container runtime (deploy.running) */
	char app_repo[RUNNING_REPO_MAX];        /* APP_IMAGE's repository; "" when not known */
	char app_digest[RUNNING_DIGEST_MAX];    /* and its digest; "" when it pins none */
	struct running running;         /* owned; emptied when a listing fails */
	bool running_read;              /* listed at least once */
	char running_error[600];        /* why the last listing failed; "" when it did not */
};

/* Disagreements between what is deployed and what runs, worst last. */
enum drift {
	DRIFT_NONE,                     /* all agree, or nothing to compare */
	DRIFT_MIGRATOR,                 /* MIGRATOR_IMAGE's tag is not APP_IMAGE's */
	DRIFT_SERVICES,                 /* a service of the app image runs another tag */
	DRIFT_RUNNING,                  /* deploy.env names another tag than the app reports */
	DRIFT_HOSTS,                    /* the hosts of the environment run different tags */
};

struct env_status {
	const struct conf_env *conf;
	struct host_status *hosts;      /* one per unit of its target (model_set_units) */
	size_t hosts_len;
	struct probe_result probes[PROBE_KINDS];
	char tag[PAYLOAD_TAG_MAX];      /* last version read; "" if never */
	int64_t tag_at;                 /* monotonic ms when it was read */
	enum env_health health;
	int64_t health_since;           /* monotonic ms when health last changed */
	bool health_since_seen;         /* that change was seen; else it is gantry's first
	                                   answer and the state is at least that old */
	int64_t checked_at;             /* monotonic ms when the last round ended; 0 never */
	time_t checked_wall;            /* the same, wall clock */
	int64_t round_started;          /* monotonic ms; 0 when no round is in flight */
	uint64_t rounds;                /* completed rounds */
};

/* Whether the registry answers (src/registrywatch.c). */
enum registry_health { REGISTRY_UNCHECKED, REGISTRY_UP, REGISTRY_DOWN };

struct registry_status {
	bool configured;                /* the configuration names a registry */
	enum registry_health health;
	char detail[400];               /* DOWN: why, sanitized */
	int64_t since;                  /* monotonic ms when health last changed */
};

struct model {
	const struct conf *conf;
	struct registry_status registry;
	struct env_status *envs;        /* parallel to conf->envs */
	size_t envs_len;
	int64_t started_at;             /* monotonic ms */
	/* The last sweep (a round of every environment, asked at once: the start, or r) and
	   how long it took, from its first request to its last answer; -1 before the first. */
	int64_t sweep_ms;
};

struct model *model_new(const struct conf *conf, int64_t now);
/* Environment `env` has n units (its target's): its host_status are made anew, empty, for
 * the caller to name. */
void model_set_units(struct model *model, size_t env, size_t n);
void model_free(struct model *model);

/* Classifies one answer into a result; for PROBE_VERSION fills `tag` on success. */
void model_classify(enum probe_kind kind, const struct http_response *resp,
    const struct conf_env *env, struct probe_result *out, char *tag, size_t tagsz);

/* Ends a round: derives health from the probes and moves the clocks. */
void model_round_done(struct env_status *env, int64_t now, time_t wall);

/* True when the last completed round is older than three intervals. */
bool model_is_stale(const struct model *model, const struct env_status *env, int64_t now);

/* How old the data is: time since the last completed round (or since start). */
int64_t model_age(const struct model *model, const struct env_status *env, int64_t now);

/* The oldest completed round across environments (wall clock), 0 if any has none. */
time_t model_refreshed_wall(const struct model *model);

/* True when every environment has completed at least one round. */
bool model_all_checked(const struct model *model);
/* True when every host's deploy.env was read or failed (and its own app, if it has an
 * app_url, answered or failed). */
bool model_hosts_read(const struct model *model);

/* What an environment runs, from its sources cross-checked: each host's deploy.env, the
 * version the app reports (and each host's own app, where it has an app_url). The
 * deployed tag the hosts agree on ("" when unknown or they disagree), and the drift, with
 * the sentence every view shows for it (dashboard, wallboard, status). */
/* The environment's last run in words ("deploy sha-2222222 failed at step 4, 5m ago"),
 * from its hosts' records (the worst a host recorded for it); false when none is known.
 * `now` is Unix seconds. */
bool model_last_run(const struct env_status *env, int64_t now, char *out, size_t outsz,
    bool *bad);
/* The rollout in waves that holds env, from what its hosts said (src/rolloutstatus.h);
 * `stands`, when not NULL, gets how each host stands (hosts_len of them). */
void model_rollout(const struct env_status *env, struct rollout_status *out,
    enum rollout_stand *stands);
/* When a rollout in waves holds env: where it stands in one line ("rollout RUN: PAUSED in
 * wave 2 of 3 by alice@laptop's gantry: why; 3 of 6 hosts took sha-..."), true. */
bool model_rollout_words(const struct env_status *env, char *out, size_t outsz);
/* A run over several hosts left unfinished: its lease holds a host and no host runs it
 * now. False when there is none; else `out` says whose run it is, how far it got (the
 * hosts whose last run is it, or its way back) and the hosts left behind. */
bool model_unfinished(const struct env_status *env, char *out, size_t outsz);
enum drift model_drift(const struct env_status *env, char *deployed, size_t deployedsz,
    char *why, size_t whysz);

/* "none", "migrator", "running", "hosts": the drift's name in status --json. */
const char *model_drift_name(enum drift drift);

/* How a fleet's units stand, tag by tag, the commonest first, with those not known:
 * "sha-2222222 on 5, sha-1111111 on 1; 1 not read yet, 2 with errors". Returns how many
 * tags the units run. */
size_t model_skew(const struct env_status *env, char *out, size_t outsz);

/* Words for states, as the dashboard and `gantry status` print them. */
const char *model_health_name(enum env_health health);
void model_probe_word(const struct probe_result *result, enum probe_kind kind,
    char *out, size_t outsz);
const char *model_probe_state_name(enum probe_state state);

#endif
