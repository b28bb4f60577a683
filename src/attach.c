/* Following a run this gantry did not start: the one the target's state names, alive
 * or ended, replayed from its start. */
#include "config.h"

#include "deploystate.h"
#include "deployenv.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void attach_describe(struct deploy *d, const struct attach_run *run)
{
	deploy_copy(d->info.tag, sizeof d->info.tag, run->tag);
	deploy_copy(d->info.app_digest, sizeof d->info.app_digest, run->app_digest);
	deploy_copy(d->info.migrator_digest, sizeof d->info.migrator_digest, run->migrator_digest);
	deploy_copy(d->info.source, sizeof d->info.source, run->source);
	deploy_copy(d->info.rollback_tag, sizeof d->info.rollback_tag, run->rollback_tag);
	deploy_copy(d->info.operator, sizeof d->info.operator, run->operator);
	d->info.kind = strcmp(run->action, "promote") == 0 ? DEPLOY_PROMOTE :
	    strcmp(run->action, "rollback") == 0 ? DEPLOY_ROLLBACK : DEPLOY_DEPLOY;
	d->info.action = deploy_kind_name(d->info.kind);
	d->info.attached = true;
}

void attach_follow(struct deploy *d)
{
	const struct host_state *st = &d->target_state;
	const struct history_run *run;
	struct deploy_host *h;
	size_t j;

	if (!d->target_read) {
		deploy_refuse(d, "%s", d->target_err);
		return;
	}
	/* a run over several hosts whose lease is held: the environment's, carried on */
	if (envrun_carry_on(d))
		return;
	if (st->has_deploy_env)
		deployenv_image_tag(st->deploy_env.app_image, d->info.current, sizeof d->info.current);
	run = st->current[0] ? history_find(&st->history, st->current) : NULL;
	if (!run) {
		deploy_refuse(d, "%s has no run recorded", d->target->name);
		return;
	}
	if (run->corrupt) {
		deploy_refuse(d, "%s's history holds a run whose id, tag or digests are not what gantry writes "
		    "(id \"%s\"): the record is corrupt or was planted, so it is not followed; look at "
		    ".gantry/history.jsonl on %s", d->target->name, run->id,
		    d->info.hosts[run->host_index < d->info.hosts_len ? run->host_index : 0].address);
		return;
	}
	/* a run meant for more hosts than recorded it never succeeded: the hosts left behind */
	d->replay_reached = run->hosts;
	for (size_t k = 0; run->units > run->hosts && k < d->info.hosts_len; k++) {
		enum run_result r;
		size_t used = strlen(d->info.left_behind);

		if (!history_run_on(run, k, &r) && used + 80 < sizeof d->info.left_behind)
			snprintf(d->info.left_behind + used, sizeof d->info.left_behind - used, "%s%s",
			    used ? ", " : "", d->info.hosts[k].address);
	}
	deploy_copy(d->info.run_id, sizeof d->info.run_id, run->id);
	attach_describe(d, &(struct attach_run){ run->action, run->tag, run->app_digest,
	    run->migrator_digest, run->source, run->operator, run->rollback_tag });
	if (d->ctx.conf->registry) {
		const struct conf_registry *reg = d->ctx.conf->registry;
		char *ref = release_image_ref(reg, reg->app, run->tag, run->app_digest);

		deploy_copy(d->info.app_image, sizeof d->info.app_image, ref);
		free(ref);
		ref = release_image_ref(reg, reg->migrator, run->tag, run->migrator_digest);
		deploy_copy(d->info.migrator_image, sizeof d->info.migrator_image, ref);
		free(ref);
	}
	/* follow the run where it is alive, else where it ended worst */
	j = st->lock.held && st->lock.runner_alive ? st->current_host : run->host_index;
	if (j >= d->info.hosts_len)
		j = 0;
	h = &d->info.hosts[j];
	h->steps = xcalloc(run->planned + run->rollback_planned + 1, sizeof *h->steps);
	for (size_t i = 0; i < run->planned; i++)
		deploy_copy(h->steps[h->steps_len++].name, sizeof h->steps[0].name, run->step_names[i]);
	h->rollback_base = h->steps_len;
	for (size_t i = 0; i < run->rollback_planned; i++) {
		struct deploy_step *s = &h->steps[h->steps_len++];

		deploy_copy(s->name, sizeof s->name, run->rollback_names[i]);
		s->rollback = true;
	}
	h->state = HOST_RUNNING;
	d->info.running = 1;
	deploy_enter(d, STAGE_RUN);
	rollout_focus(d);
	deploy_say(d, "%s on %s", run->result != RUN_RESULT_NONE ? "replaying the run" :
	    "re-attached to the run", d->info.host);
	deploy_emit(d, BUS_STARTED, j, NULL);
	d->jobs[j].run = d->to->ops->follow(d->to, j, d->info.run_id, &rollout_run_ops, &d->jobs[j]);
	deploy_notify(d);
}
