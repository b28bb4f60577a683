/* A rollout's driver on a compose host (src/compose/hostdrive.h). */
#include "config.h"

#include "hostdrive.h"
#include "hostreply.h"
#include "outbuf.h"
#include "runner.h"
#include "sanitize.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DRIVE_REPLY_MAX (4 * DRIVE_MAX_BYTES + 512)

enum {
#define PART_ENUM(name, word, hex) PART_##name,
	RUNNER_DRIVE_PARTS(PART_ENUM)
#undef PART_ENUM
	PARTS
};

static const struct hostreply_part drive_parts[PARTS] = {
#define PART_ROW(part, word, is_hex) [PART_##part] = { .name = word, .hex = is_hex },
	RUNNER_DRIVE_PARTS(PART_ROW)
#undef PART_ROW
};

struct beat_cmd {
	struct unit_cmd base;           /* stopping it stops the runner's command */
	struct unit_cmd *cmd;
	struct outbuf out;
	unit_drive_fn done;
	void *arg;
};

static void beat_free(struct beat_cmd *c)
{
	outbuf_clear(&c->out);
	free(c);
}

static void beat_stop(struct unit_cmd *cmd)
{
	struct beat_cmd *c = (struct beat_cmd *)cmd;

	unit_cmd_stop(c->cmd);
	beat_free(c);
}

static const struct unit_cmd_class beat_class = { .stop = beat_stop };

static void beat_output(void *arg, const char *data, size_t len, bool is_stderr)
{
	struct beat_cmd *c = arg;

	if (!is_stderr)
		outbuf_add(&c->out, data, len, DRIVE_REPLY_MAX);
}

/* The runner's own words when it refused (its first line), sanitized. */
static void said(const struct beat_cmd *c, char *out, size_t outsz, const char *otherwise)
{
	const char *t = outbuf_text(&c->out);
	size_t n = strcspn(t, "\n");

	if (n == 0) {
		snprintf(out, outsz, "%s", otherwise);
		return;
	}
	sanitize_text(t, n, out, outsz, 0);
}

static void beat_done(void *arg, enum unit_end how, int status, const char *message)
{
	struct beat_cmd *c = arg;
	struct hostreply_part parts[PARTS];
	struct drive_record other;
	struct drive_request req;
	char why[400];
	bool parsed;

	c->cmd = NULL;
	memcpy(parts, drive_parts, sizeof parts);
	if (how != UNIT_EXITED) {
		c->done(c->arg, DRIVE_FAILED, NULL, NULL, message && *message ? message :
		    "the link dropped");
		beat_free(c);
		return;
	}
	if (status == UNIT_EXIT_NOT_NEEDED || (status != 0 && status != UNIT_EXIT_LOCKED)) {
		said(c, why, sizeof why, "the runner failed");
		if (status != UNIT_EXIT_NOT_NEEDED)
			snprintf(why + strlen(why), sizeof why - strlen(why), " (exit %d)", status);
		c->done(c->arg, status == UNIT_EXIT_NOT_NEEDED ? DRIVE_GONE : DRIVE_FAILED, NULL, NULL,
		    why);
		beat_free(c);
		return;
	}
	parsed = hostreply_parse(outbuf_text(&c->out), c->out.len, parts, PARTS, why, sizeof why);
	if (parsed && status == UNIT_EXIT_LOCKED) {
		if (parts[PART_DRIVER].present &&
		    drive_record_parse(parts[PART_DRIVER].data, parts[PART_DRIVER].len, &other))
			c->done(c->arg, DRIVE_TAKEN, &other, NULL, NULL);
		else
			c->done(c->arg, DRIVE_FAILED, NULL, NULL, "another driver's record is not gantry's");
	} else if (parsed) {
		bool has = parts[PART_REQUEST].present && parts[PART_REQUEST].len > 0 &&
		    drive_request_parse(parts[PART_REQUEST].data, parts[PART_REQUEST].len, &req);

		c->done(c->arg, DRIVE_HELD, NULL, has ? &req : NULL, NULL);
	} else {
		c->done(c->arg, DRIVE_FAILED, NULL, NULL, why);
	}
	hostreply_free(parts, PARTS);
	beat_free(c);
}

static const struct unit_cmd_ops beat_ops = {
	.output = beat_output, .done = beat_done, .bounded = true,
};

struct unit_cmd *hostdrive_beat(struct remote_host *host, const char *run,
    const struct drive_record *rec, const char *ack, unit_drive_fn done, void *arg)
{
	struct beat_cmd *c = xcalloc(1, sizeof *c);
	char *text = drive_record_text(rec);

	c->base.cls = &beat_class;
	c->done = done;
	c->arg = arg;
	c->cmd = runner_run(host, RUNNER_DRIVE, (const char *const[]){ run, rec->token, text,
	    ack ? ack : "" }, 4, &beat_ops, c);
	free(text);
	if (!c->cmd) {
		beat_free(c);
		return NULL;
	}
	return &c->base;
}

struct unit_cmd *hostdrive_ask(struct remote_host *host, const char *run,
    const struct drive_request *req, const struct unit_cmd_ops *ops, void *arg)
{
	char *text = drive_request_text(req);
	struct unit_cmd *c = runner_run(host, RUNNER_ASK, (const char *const[]){ run, text }, 2,
	    ops, arg);

	free(text);
	return c;
}
