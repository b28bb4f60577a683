/* The registry, asked whether it answers, on the loop. */
#include "config.h"

#include "registrywatch.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>

struct registrywatch {
	struct loop *loop;
	struct registry *reg;
	struct model *model;
	struct registry_op *op;         /* the check in flight, or NULL */
	uint64_t timer;
	registrywatch_fn changed;
	void *arg;
};

static void check(struct registrywatch *rw);

static void fire(struct loop *loop, void *arg)
{
	struct registrywatch *rw = arg;

	(void)loop;
	rw->timer = 0;
	check(rw);
}

static void answered(const struct registry_result *res, void *arg)
{
	struct registrywatch *rw = arg;
	struct registry_status *st = &rw->model->registry;
	enum registry_health was = st->health;

	rw->op = NULL;
	st->health = res->error == REGISTRY_OK ? REGISTRY_UP : REGISTRY_DOWN;
	snprintf(st->detail, sizeof st->detail, "%s", st->health == REGISTRY_DOWN ? res->message : "");
	if (st->health != was)
		st->since = loop_clock_ms();
	rw->timer = loop_timer_add(rw->loop, REGISTRYWATCH_EVERY_MS, fire, rw);
	if (rw->changed)
		rw->changed(rw->arg);
}

static void check(struct registrywatch *rw)
{
	if (!rw->reg || rw->op)
		return;
	if (rw->timer) {
		loop_timer_cancel(rw->loop, rw->timer);
		rw->timer = 0;
	}
	rw->op = registry_ping(rw->reg, answered, rw);
}

struct registrywatch *registrywatch_new(struct loop *loop, struct registry *reg,
    struct model *model)
{
	struct registrywatch *rw = xcalloc(1, sizeof *rw);

	rw->loop = loop;
	rw->reg = reg;
	rw->model = model;
	model->registry.configured = reg != NULL;
	return rw;
}

void registrywatch_set_listener(struct registrywatch *rw, registrywatch_fn changed, void *arg)
{
	rw->changed = changed;
	rw->arg = arg;
}

void registrywatch_start(struct registrywatch *rw)
{
	check(rw);
}

void registrywatch_refresh(struct registrywatch *rw)
{
	check(rw);
}

void registrywatch_free(struct registrywatch *rw)
{
	if (!rw)
		return;
	if (rw->op)
		registry_cancel(rw->op);
	if (rw->timer)
		loop_timer_cancel(rw->loop, rw->timer);
	free(rw);
}
