/* What each service of a compose host runs: deploy.running, run under the runner on the
 * host, its "SERVICE IMAGE" lines read into a typed list. */
#include "config.h"

#include "outbuf.h"
#include "runner.h"
#include "services.h"
#include "template.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
	    c == '_' || c == '.' || c == '-';
}

/* an image reference's characters: name components, registry port, tag and digest */
static bool image_char(char c)
{
	return name_char(c) || c == '/' || c == ':' || c == '@';
}

static bool all(const char *s, size_t n, bool (*ok)(char))
{
	for (size_t i = 0; i < n; i++)
		if (!ok(s[i]))
			return false;
	return true;
}

static int by_name(const void *a, const void *b)
{
	const struct running_service *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : strcmp(x->tag, y->tag);
}

bool running_parse(const char *buf, size_t len, struct running *out, char *why, size_t whysz)
{
	size_t line = 0;

	running_free(out);
	out->list = xcalloc(RUNNING_MAX, sizeof *out->list);
	for (const char *p = buf, *end = buf + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *eol = nl ? nl : end, *sp;
		size_t n = (size_t)(eol - p);
		struct running_service *s;
		char image[DEPLOYENV_IMAGE_MAX];

		line++;
		if (n && p[n - 1] == '\r')
			n--;
		sp = memchr(p, ' ', n);
		if (n == 0) {
			p = eol + 1;
			continue;               /* a stopped container's empty line */
		}
		if (!sp || sp == p || (size_t)(sp - p) >= RUNNING_NAME_MAX || !all(p, (size_t)(sp - p), name_char) ||
		    n - (size_t)(sp - p) - 1 == 0 || n - (size_t)(sp - p) - 1 >= sizeof image ||
		    !all(sp + 1, n - (size_t)(sp - p) - 1, image_char)) {
			snprintf(why, whysz, "deploy.running's line %zu is not \"SERVICE IMAGE\"", line);
			running_free(out);
			return false;
		}
		if (out->len == RUNNING_MAX) {
			snprintf(why, whysz, "deploy.running listed more than %d containers", RUNNING_MAX);
			running_free(out);
			return false;
		}
		s = &out->list[out->len++];
		snprintf(s->name, sizeof s->name, "%.*s", (int)(sp - p), p);
		snprintf(image, sizeof image, "%.*s", (int)(n - (size_t)(sp - p) - 1), sp + 1);
		running_image_repo(image, s->repo, sizeof s->repo);
		deployenv_image_tag(image, s->tag, sizeof s->tag);
		deployenv_image_digest(image, s->digest, sizeof s->digest);
		p = eol + 1;
	}
	qsort(out->list, out->len, sizeof *out->list, by_name);
	out->list = xrealloc(out->list, (out->len ? out->len : 1) * sizeof *out->list);
	return true;
}

char *running_command(const struct conf_env *env, size_t j)
{
	char *dir, *cmd;

	if (!env->deploy.running || !env->deploy.running[0])
		return NULL;
	dir = template_shell_quote(conf_host_deploy_dir(env, &env->hosts[j]));
	struct template_var vars[] = { { "compose", env->compose }, { "deploy_dir", dir } };
	cmd = template_expand(env->deploy.running, vars, sizeof vars / sizeof *vars);
	free(dir);
	return cmd;
}

/* One host's read: the command's output, read when it ends. */
struct services_cmd {
	struct unit_cmd base;           /* stopping it stops the runner's command */
	struct unit_cmd *cmd;
	struct outbuf out;
	unit_running_fn done;
	void *arg;
};

static void services_free(struct services_cmd *c)
{
	outbuf_clear(&c->out);
	free(c);
}

static void services_stop(struct unit_cmd *cmd)
{
	struct services_cmd *c = (struct services_cmd *)cmd;

	unit_cmd_stop(c->cmd);
	services_free(c);
}

static const struct unit_cmd_class services_class = { .stop = services_stop };

static void services_output(void *arg, const char *data, size_t len, bool is_stderr)
{
	struct services_cmd *c = arg;

	if (!is_stderr)
		outbuf_add(&c->out, data, len, RUNNING_READ_MAX);
}

static void services_done(void *arg, enum unit_end how, int status, const char *message)
{
	struct services_cmd *c = arg;
	struct running run = { 0 };
	char why[600], parse_why[400];

	c->cmd = NULL;
	if (how != UNIT_EXITED)
		snprintf(why, sizeof why, "%s", message && *message ? message : "the link dropped");
	else if (status != 0)
		snprintf(why, sizeof why, "deploy.running failed on the host (exit %d)", status);
	else if (c->out.len >= RUNNING_READ_MAX)
		snprintf(why, sizeof why, "deploy.running printed more than %d bytes", RUNNING_READ_MAX);
	else if (!running_parse(outbuf_text(&c->out), c->out.len, &run, parse_why, sizeof parse_why))
		snprintf(why, sizeof why, "%s", parse_why);
	else
		why[0] = '\0';
	c->done(c->arg, why[0] ? NULL : &run, why[0] ? why : NULL);
	running_free(&run);
	services_free(c);
}

static const struct unit_cmd_ops services_ops = {
	.output = services_output, .done = services_done, .bounded = true,
};

struct unit_cmd *services_read(struct remote_host *host, const struct conf_env *env, size_t j,
    unit_running_fn done, void *arg)
{
	char *line = running_command(env, j);
	struct services_cmd *c;

	if (!line)
		return NULL;
	c = xcalloc(1, sizeof *c);
	c->base.cls = &services_class;
	c->done = done;
	c->arg = arg;
	c->cmd = runner_run(host, RUNNER_TIED, (const char *const[]){ line }, 1, &services_ops, c);
	free(line);
	if (!c->cmd) {
		services_free(c);
		return NULL;
	}
	return &c->base;
}
