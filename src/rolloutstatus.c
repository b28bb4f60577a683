/* Where an environment's rollout in waves stands (src/rolloutstatus.h). */
#include "config.h"

#include "rolloutstatus.h"

#include <stdio.h>
#include <string.h>

static const char *const stand_words[] = {
#define ROLLOUT_STAND_WORD(name, word) word,
	ROLLOUT_STANDS(ROLLOUT_STAND_WORD)
#undef ROLLOUT_STAND_WORD
};

const char *rollout_stand_name(enum rollout_stand s)
{
	return (size_t)s < STANDS ? stand_words[s] : "?";
}

const char *rollout_state_word(const struct rollout_status *s)
{
	return s->driven ? drive_state_name(s->driver.state) : "left";
}

/* How unit j stands in run `id` (or its way back), by the merged history. */
static enum rollout_stand stand_of(const struct history *h, const struct rollout_status *s,
    const struct rollout_host *u, size_t j)
{
	const struct history_run *run = history_find(h, s->lease.id);
	const struct history_run *back = history_find(h, s->back_id);
	enum run_result r;

	if (!u->read)
		return STAND_NOT_READ;
	if (u->alive[0] && (strcmp(u->alive, s->lease.id) == 0 || strcmp(u->alive, s->back_id) == 0))
		return STAND_RUNNING;
	if (back && history_run_on(back, j, &r))
		return STAND_BACK;
	if (run && history_run_on(run, j, &r))
		return r == RUN_SUCCEEDED ? STAND_TOOK : STAND_FAILED;
	return STAND_WAITING;
}

/* The tags the units run, most units first. */
static void count_tags(const struct rollout_host *hosts, size_t n, struct rollout_status *out)
{
	for (size_t j = 0; j < n; j++) {
		size_t k;

		if (!hosts[j].read) {
			out->not_read++;
			continue;
		}
		if (!hosts[j].tag[0]) {
			out->no_tag++;
			continue;
		}
		for (k = 0; k < out->tags_len && strcmp(out->tags[k].tag, hosts[j].tag) != 0; k++)
			;
		if (k == out->tags_len && k == ROLLOUT_TAGS_MAX) {
			out->tags_other++;
			continue;
		}
		if (k == out->tags_len) {
			snprintf(out->tags[k].tag, sizeof out->tags[k].tag, "%s", hosts[j].tag);
			out->tags_len++;
		}
		out->tags[k].hosts++;
		/* kept sorted: most units first, then the first seen */
		while (k > 0 && out->tags[k].hosts > out->tags[k - 1].hosts) {
			char t[sizeof out->tags[0].tag];
			size_t c = out->tags[k].hosts;

			memcpy(t, out->tags[k].tag, sizeof t);
			out->tags[k] = out->tags[k - 1];
			memcpy(out->tags[k - 1].tag, t, sizeof t);
			out->tags[k - 1].hosts = c;
			k--;
		}
	}
}

void rollout_status_of(const struct host_state *merged, struct rollout_host *hosts, size_t n,
    struct rollout_status *out)
{
	const struct host_lock *lock = &merged->lock;

	memset(out, 0, sizeof *out);
	count_tags(hosts, n, out);
	for (size_t j = 0; j < n; j++) {
		hosts[j].wave = 0;
		hosts[j].stand = hosts[j].read ? STAND_WAITING : STAND_NOT_READ;
	}
	if (!lock->held || !lock->leased)
		return;
	if (lock->lease_error[0] || lock->leases_differ) {
		snprintf(out->problem, sizeof out->problem, "%s", lock->lease_error[0] ?
		    lock->lease_error : "the hosts hold the locks of different runs or plans");
		return;
	}
	if (!lock->lease.waves.len)
		return;                 /* a run over several hosts, not a rollout in waves */
	if (lock->lease.units != n) {
		snprintf(out->problem, sizeof out->problem, "run %s was planned for %zu hosts; gantry.yml "
		    "lists %zu now", lock->lease.id, lock->lease.units, n);
		return;
	}
	out->active = true;
	out->lease = lock->lease;
	lease_back_id(out->lease.id, out->back_id, sizeof out->back_id);
	out->driver = merged->driver;
	out->request = merged->request;
	out->driven = drive_live(&merged->driver, merged->host_now);
	out->heard_s = merged->driver.present ? merged->host_now - merged->driver.beat : 0;
	for (size_t j = 0; j < n; j++) {
		size_t w = waves_of(&out->lease.waves, j);

		hosts[j].wave = w + 1;
		hosts[j].stand = stand_of(&merged->history, out, &hosts[j], j);
		out->stands[hosts[j].stand]++;
		if (w >= WAVES_MAX)
			continue;
		out->wave_units[w]++;
		out->wave_took[w] += hosts[j].stand == STAND_TOOK;
		out->wave_failed[w] += hosts[j].stand == STAND_FAILED;
		out->wave_running[w] += hosts[j].stand == STAND_RUNNING;
		out->wave_back[w] += hosts[j].stand == STAND_BACK;
		if (hosts[j].stand != STAND_WAITING && hosts[j].stand != STAND_NOT_READ)
			out->wave = w + 1;
	}
	if (out->driven && out->driver.wave > out->wave && out->driver.wave <= out->lease.waves.len)
		out->wave = out->driver.wave;   /* between waves: the driver's word */
	if (!out->wave)
		out->wave = 1;
}
