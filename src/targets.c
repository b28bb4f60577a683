/* The table of target kinds (src/targets.h), and a target's making from its kind. */
#include "config.h"

#include "target.h"
#include "targets.h"

#include "compose/compose.h"            /* the one file outside src/compose/ that names it */

#include <string.h>

static const struct target_kind *const kinds[] = {
	&target_kind_compose_ssh,       /* the default: gantry.yml's first */
};

#define KINDS (sizeof kinds / sizeof kinds[0])

const struct target_kind *target_kind(size_t index)
{
	return kinds[index < KINDS ? index : 0];
}

size_t target_kinds_len(void)
{
	return KINDS;
}

int target_kind_find(const char *name)
{
	for (size_t i = 0; i < KINDS; i++)
		if (strcmp(kinds[i]->name, name) == 0)
			return (int)i;
	return -1;
}

void target_init(struct target *t, const struct conf *conf, const struct conf_env *env,
    struct loop *loop, struct bus *bus)
{
	const struct target_kind *k = target_kind(env->target);

	*t = (struct target){
		.ops = k->ops, .words = k->words, .conf = conf, .env = env, .loop = loop, .bus = bus,
	};
	if (k->open)
		k->open(t);
}

void target_fini(struct target *t)
{
	const struct target_kind *k = target_kind(t->env->target);

	if (k->close)
		k->close(t);
	t->priv = NULL;
}

const struct target_words *target_words_of(const struct conf_env *env)
{
	return target_kind(env->target)->words;
}
