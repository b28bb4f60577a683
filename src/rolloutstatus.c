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

/* How a unit stands in run `id` (or its way back `back`). */
static enum rollout_stand stand_of(const struct rollout_unit *u, const char *id, const char *back)
{
	if (!u->read)
		return STAND_NOT_READ;
	if (u->alive[0] && (strcmp(u->alive, id) == 0 || strcmp(u->alive, back) == 0))
		return STAND_RUNNING;
	if (strcmp(u->current, back) == 0)
		return STAND_BACK;
	if (strcmp(u->current, id) != 0)
		return STAND_WAITING;
	if (u->result == RUN_RESULT_NONE)
		return STAND_FAILED;    /* started, not alive, no end: cut short */
	return u->result == RUN_SUCCEEDED ? STAND_TOOK : STAND_FAILED;
}

/* The tag of a unit counted among the tags the units run, most units first. */
static void count_tag(const struct rollout_unit *u, struct rollout_status *out)
{
	size_t k;

	if (!u->read) {
		out->not_read++;
		return;
	}
	if (!u->tag[0]) {
		out->no_tag++;
		return;
	}
	for (k = 0; k < out->tags_len && strcmp(out->tags[k].tag, u->tag) != 0; k++)
		;
	if (k == out->tags_len && k == ROLLOUT_TAGS_MAX) {
		out->tags_other++;
		return;
	}
	if (k == out->tags_len) {
		snprintf(out->tags[k].tag, sizeof out->tags[k].tag, "%s", u->tag);
		out->tags_len++;
	}
	out->tags[k].hosts++;
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

/* The first unit's lease, when it is a rollout in waves every unit read holds. */
static bool lease_of(const struct rollout_first *first, rollout_unit_fn unit, const void *arg,
    size_t n, struct rollout_status *out)
{
	const struct host_lock *lock = first->lock;
	struct rollout_unit u;

	if (!lock) {
		for (size_t j = 1; j < n; j++) {
			unit(arg, j, &u);
			if (u.read && u.lease[0]) {
				snprintf(out->problem, sizeof out->problem, "run %s holds the hosts, but the "
				    "first host, which keeps its driver, could not be read", u.lease);
				break;
			}
		}
		return false;
	}
	if (!lock->held || !lock->leased)
		return false;
	if (lock->lease_error[0]) {
		snprintf(out->problem, sizeof out->problem, "the plan kept in the lock is not gantry's "
		    "(%s)", lock->lease_error);
		return false;
	}
	if (!lock->lease.waves.len)
		return false;           /* a run over several hosts, not a rollout in waves */
	if (lock->lease.units != n) {
		snprintf(out->problem, sizeof out->problem, "run %s was planned for %zu hosts; gantry.yml "
		    "lists %zu now", lock->lease.id, lock->lease.units, n);
		return false;
	}
	for (size_t j = 0; j < n; j++) {
		unit(arg, j, &u);
		/* none there: let go already at the end, or broken; another run's: not one rollout */
		if (u.read && u.lease[0] && strcmp(u.lease, lock->lease.id) != 0) {
			snprintf(out->problem, sizeof out->problem, "the hosts hold the locks of different "
			    "runs (host %zu: %s)", j + 1, u.lease[0] ? u.lease : "none");
			return false;
		}
	}
	return true;
}

void rollout_status_of(const struct rollout_first *first, rollout_unit_fn unit, const void *arg,
    size_t n, enum rollout_stand *stands, struct rollout_status *out)
{
	struct rollout_unit u;

	memset(out, 0, sizeof *out);
	for (size_t j = 0; j < n; j++) {
		unit(arg, j, &u);
		count_tag(&u, out);
		if (stands)
			stands[j] = u.read ? STAND_WAITING : STAND_NOT_READ;
	}
	if (!lease_of(first, unit, arg, n, out))
		return;
	out->active = true;
	out->lease = first->lock->lease;
	lease_back_id(out->lease.id, out->back_id, sizeof out->back_id);
	out->driver = *first->driver;
	out->request = *first->request;
	out->driven = drive_live(first->driver, first->host_now);
	out->heard_s = first->driver->present ? first->host_now - first->driver->beat : 0;
	for (size_t j = 0; j < n; j++) {
		size_t w = waves_of(&out->lease.waves, j);
		enum rollout_stand st;

		unit(arg, j, &u);
		st = stand_of(&u, out->lease.id, out->back_id);
		if (stands)
			stands[j] = st;
		out->stands[st]++;
		if (w >= WAVES_MAX)
			continue;
		out->wave_units[w]++;
		out->wave_took[w] += st == STAND_TOOK;
		out->wave_failed[w] += st == STAND_FAILED;
		out->wave_running[w] += st == STAND_RUNNING;
		out->wave_back[w] += st == STAND_BACK;
		if (st != STAND_WAITING && st != STAND_NOT_READ)
			out->wave = w + 1;
	}
	if (out->driven && out->driver.wave > out->wave && out->driver.wave <= out->lease.waves.len)
		out->wave = out->driver.wave;   /* between waves: the driver's word */
	if (!out->wave)
		out->wave = 1;
}
