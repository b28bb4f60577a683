/* gantry adopt: the baseline record (what ran before gantry), written on each unit in
 * turn, where no run was recorded meanwhile. */
#include "config.h"

#include "deploystate.h"
#include "sanitize.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void adopt_output(void *arg, const char *data, size_t len, bool is_stderr)
{
	struct deploy *d = arg;

	if (!is_stderr)
		outbuf_add(&d->adopt_out, data, len, HOSTSTATE_MAX_BYTES);
}

static void adopt_written(void *arg, enum unit_end how, int status, const char *message)
{
	struct deploy *d = arg;
	const char *out = outbuf_text(&d->adopt_out);
	char first[200];

	d->adopt_cmd = NULL;
	sanitize_text(out, strcspn(out, "\n"), first, sizeof first, 0);
	outbuf_clear(&d->adopt_out);
	if (how == UNIT_EXITED && status == 0) {
		if (++d->info.host_index < d->info.hosts_len) {
			adopt_write(d);
			return;
		}
		d->info.host_index--;
		d->info.result = RUN_ADOPTED;
		deploy_say(d, "%s's baseline is %s", d->target->name, d->info.tag);
	} else {
		d->info.result = RUN_FAILED;
		deploy_say(d, "on %s: %s", d->info.host, how != UNIT_EXITED ?
		    (message && *message ? message : "the link dropped") : first[0] ? first : "failed");
	}
	deploy_enter(d, STAGE_DONE);
	d->info.ended_ms = loop_clock_ms();
	deploy_emit(d, BUS_ENDED, d->info.host_index, &(struct bus_event){ .result = d->info.result,
	    .text = d->info.status });
	deploy_notify(d);
}

static const struct unit_cmd_ops adopt_ops = {
	.output = adopt_output, .done = adopt_written, .bounded = true,
};

void adopt_write(struct deploy *d)
{
	char message[200];
	struct adopt_spec a = {
		.id = d->adopt_id, .env = d->target->name, .tag = d->adopt.tag, .app_digest = d->adopt.app,
		.migrator_digest = d->adopt.migrator, .operator = d->ctx.operator, .at = deploy_now_s(),
		.message = message,
	};

	snprintf(message, sizeof message, "gantry adopt: app ready, reporting the tag %s names",
	    d->to->words->config);

	if (d->info.host_index == 0) {
		char id[72];

		release_new_id(id, sizeof id, deploy_now_s());
		snprintf(d->adopt_id, sizeof d->adopt_id, "adopt-%s", id);
		d->info.started_ms = loop_clock_ms();
	}
	deploy_copy(d->info.host, sizeof d->info.host, d->info.hosts[d->info.host_index].address);
	deploy_say(d, "recording the baseline on %s", d->info.host);
	d->adopt_cmd = d->to->ops->adopt(d->to, d->info.host_index, &a, &adopt_ops, d);
	deploy_notify(d);
}
