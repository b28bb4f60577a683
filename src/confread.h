/* Reading gantry.yml, shared by the files that do it (internal to them): conf.c (the file,
 * its top-level keys and each environment's, the defaults), confvalue.c (the values: URLs,
 * secrets, headers, hosts, templates, counts), confdeploy.c (an environment's deploy
 * section) and confregistry.c (the registry section). Everything else includes conf.h. */
#ifndef GANTRY_CONFREAD_H
#define GANTRY_CONFREAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "conf.h"
#include "schema.h"
#include "yamltree.h"

#define CONF_MAX_FILE_BYTES (1024 * 1024)
#define CONF_MAX_SECRET_BYTES (64 * 1024)
#define CONF_MAX_ENVS 1000

#define DEFAULT_HEALTH_PATH "/api/health"
#define DEFAULT_READY_PATH "/api/ready"
#define DEFAULT_VERSION_PATH "/api/version"
#define DEFAULT_VERSION_POINTER "/version"
#define DEFAULT_INTERVAL_MS 5000
#define DEFAULT_TIMEOUT_MS 3000
#define DEFAULT_COMPOSE "docker compose"
#define DEFAULT_LOG_APP "{compose} logs {follow} --tail={tail} app"
#define DEFAULT_LOG_MIGRATOR "{compose} logs {follow} --tail={tail} migrator"
#define DEFAULT_LOG_TAIL 200
#define DEFAULT_IMAGE_CHECK "docker image inspect {image} >/dev/null 2>&1 || podman image exists {image}"
/* each running container of the compose project: its service and the image it was made
   from (docker's Go template: {{ is a literal brace) */
#define DEFAULT_RUNNING "{compose} ps -q | xargs -r docker inspect --format " \
	"'{{{{if .State.Running}}{{{{index .Config.Labels \"com.docker.compose.service\"}} {{{{.Config.Image}}{{{{end}}'"
#define DEFAULT_SCROLLBACK 10000
#define DEFAULT_CONNECT_TIMEOUT_MS 10000
#define CONF_MAX_HOSTS 1000
#define DEFAULT_TAG_PATTERN "^sha-[0-9a-f]{7,40}$"
#define DEFAULT_REGISTRY_TIMEOUT_MS 10000
#define DEFAULT_STEP_TIMEOUT_MS (10 * 60 * 1000)
#define DEFAULT_READY_TIMEOUT_MS (2 * 60 * 1000)
#define DEFAULT_READY_INTERVAL_MS 2000
#define DEFAULT_SERVICES "app"
#define DEFAULT_MIGRATOR_SERVICE "migrator"
#define CONF_MAX_STEPS 50
#define CONF_MAX_SMOKE 20

/* ---- confvalue.c ---- */

char *read_small_file(const char *path, size_t max, size_t *len, char *why, size_t whysz);
bool parse_secret_when_needed(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
bool parse_headers(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
bool parse_version(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
bool parse_env_name(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
bool url_has_userinfo(const char *url);
bool parse_base_url(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
bool parse_plain_url(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
bool parse_template_of(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field, const char *const *vars);
bool parse_log_template(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
bool parse_count(struct schema_ctx *ctx, const struct ynode *node, int64_t *dst,
    int64_t min, int64_t max);
bool parse_target(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
bool parse_parallel(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
bool parse_tail(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
bool parse_scrollback(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
bool parse_remote_dir(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
bool parse_local_file(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
bool parse_ca_file(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
/* Frees what a host holds. */
void host_clear(struct conf_host *host);
/* [user@]host[:port], or an alias, into host. */
bool parse_address(struct schema_ctx *ctx, const struct ynode *node, struct conf_host *host);
bool parse_port(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
extern const struct schema_field version_fields[];
extern const struct schema_field host_fields[];

/* ---- confhosts.c ---- */

#define CONF_INVENTORY_MAX_BYTES (1024 * 1024)

bool parse_hosts(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
bool parse_hosts_file(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
bool parse_labels(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
/* Once an environment (`at`) is read: at most CONF_MAX_HOSTS hosts, no two with the same
 * login and deploy directory (several tenants may share an address), and hosts for a
 * rollout to go over. */
bool conf_hosts_check(struct schema_ctx *ctx, struct conf_env *env, const struct ynode *at);

/* ---- confrollout.c ---- */

bool parse_rollout(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
extern const struct schema_field rollout_fields[];

/* ---- confdeploy.c ---- */

void steps_free(struct conf_step *steps, size_t n);
void smoke_free(struct conf_smoke *smoke, size_t n);
bool parse_deploy(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
extern const struct schema_field deploy_fields[];

/* ---- confregistry.c ---- */

void conf_registry_free(struct conf_registry *r);
bool parse_registry(struct schema_ctx *ctx, const struct ynode *node, void *target,
    const struct schema_field *field);
extern const struct schema_field registry_fields[];

#endif
