/* The facts of a run above its steps, in the run pane: the tag and why it was chosen, the
 * images, the way back, the waves, the retag, the host shown and where every host
 * stands, and the plan's warnings. */
#include "config.h"

#include "draw.h"
#include "runfacts.h"
#include "ui.h"

#include <stdio.h>
#include <string.h>

/* A label and a value on one row; returns the next row. */
static int fact(struct ui *ui, int y, const char *label, const char *value, enum theme_role role)
{
	draw_text(ui, y, 2, 10, label, THEME_ROLE_header, true);
	draw_text(ui, y, 12, ui->cols - 13, value, role, false);
	return y + 1;
}

/* A warning of the plan as the pane shows it. */
static void warning_line(const struct ui *ui, const char *warning, char *line, size_t linesz)
{
	snprintf(line, linesz, "%s %s", draw_glyph(ui, GLYPH_WARN), warning);
}

/* Where one host of a run of many stands, in a word or two. */
static void host_word(const struct deploy_host *h, char *dst, size_t dstsz)
{
	const char *step = NULL;

	for (size_t k = 0; k < h->steps_len; k++)
		if (h->steps[k].state == STEP_RUNNING)
			step = h->steps[k].name;
	switch (h->state) {
	case HOST_WAITING:
		snprintf(dst, dstsz, "waiting");
		break;
	case HOST_STARTING:
		snprintf(dst, dstsz, "starting");
		break;
	case HOST_RUNNING:
		snprintf(dst, dstsz, "%s%s", step ? "at " : "running", step ? step : "");
		break;
	case HOST_ENDED:
		snprintf(dst, dstsz, "%s", h->went_back ? "went back" : h->result == RUN_RESULT_NONE ?
		    "ended" : run_result_name(h->result));
		for (char *p = dst; *p; p++)
			if (*p == '_')
				*p = ' ';           /* rolled_back: rolled back */
		break;
	case HOST_NOT_STARTED:
		snprintf(dst, dstsz, "not started");
		break;
	}
}

#define HOSTS_ROWS 2    /* the hosts of a run of many, wrapped: at most this many rows */

/* Each host of a run of many with where it stands, on HOSTS_ROWS rows at most; the
 * hosts that do not fit are counted. Returns the next row. */
static int draw_hosts(struct ui *ui, const struct deploy_info *i, int y)
{
	char line[1200], word[100];
	size_t len = 0, shown = 0;
	int room = (ui->cols - 14) * HOSTS_ROWS - 40;      /* what wrapping at words loses */

	line[0] = '\0';
	for (size_t j = 0; j < i->hosts_len; j++) {
		char item[320];
		int n;

		host_word(&i->hosts[j], word, sizeof word);
		n = snprintf(item, sizeof item, "%s%s: %s", j ? " · " : "", i->hosts[j].address, word);
		/* keep room for the count of the rest */
		if (n < 0 || len + (size_t)n + 16 >= sizeof line ||
		    (int)(len + (size_t)n) + (j + 1 < i->hosts_len ? 14 : 0) > room)
			break;
		memcpy(line + len, item, (size_t)n + 1);
		len += (size_t)n;
		shown++;
	}
	if (shown < i->hosts_len)
		snprintf(line + len, sizeof line - len, " · %zu more", i->hosts_len - shown);
	draw_text(ui, y, 2, 10, "hosts", THEME_ROLE_header, true);
	return draw_wrapped(ui, y, 12, y + HOSTS_ROWS, line, THEME_ROLE_muted);
}

/* The facts of the plan above the steps; returns the next row. */
int runfacts_draw(struct ui *ui, const struct deploy_info *i, int y, int bottom)
{
	char line[600];

	if (i->attached)
		snprintf(line, sizeof line, "%s   (run %s)", i->tag, i->run_id);
	else if (i->still_runs[0])
		snprintf(line, sizeof line, "%s   (%s runs %s now; %s names %s, whose run stopped "
		    "before the switch)", i->tag, i->env, i->still_runs, i->config, i->current);
	else if (i->current[0])
		snprintf(line, sizeof line, "%s   (%s runs %s now%s)", i->tag, i->env, i->current,
		    i->redeploy ? ": the same tag" : "");
	else
		snprintf(line, sizeof line, "%s   (%s has no %s yet)", i->tag, i->env, i->config);
	y = fact(ui, y, "tag", line, THEME_ROLE_text);
	if (i->kind == DEPLOY_PROMOTE && i->chosen[0] && !i->attached) {
		snprintf(line, sizeof line, "%s; %s's app reports %s, its %s names %s", i->chosen,
		    i->source, i->source_version[0] ? i->source_version : "no version", i->config,
		    i->source_env_tag[0] ? i->source_env_tag : "nothing");
		draw_text(ui, y, 2, 10, "chosen", THEME_ROLE_header, true);
		y = draw_wrapped(ui, y, 12, y + 2, line, THEME_ROLE_muted);
	}
	if (i->proven[0] && !i->attached) {
		draw_text(ui, y, 2, 10, "proven", THEME_ROLE_header, true);
		y = draw_wrapped(ui, y, 12, y + 2, i->proven, THEME_ROLE_muted);
	}
	if (i->adopting[0] && !i->attached) {
		snprintf(line, sizeof line, "%s has no run recorded: %s, which it runs ready, is recorded "
		    "first as its baseline", i->env, i->adopting);
		draw_text(ui, y, 2, 10, "adopt", THEME_ROLE_header, true);
		y = draw_wrapped(ui, y, 12, y + 2, line, THEME_ROLE_muted);
	}
	y = fact(ui, y, "app", i->app_image, THEME_ROLE_muted);
	y = fact(ui, y, "migrator", i->migrator_image, THEME_ROLE_muted);
	if (i->rollback_tag[0])
		snprintf(line, sizeof line, "automatic, to %s, if ready or a smoke check fails", i->rollback_tag);
	else if (i->emergency)
		snprintf(line, sizeof line, "none: a host that fails stays where it is, and says so");
	else
		snprintf(line, sizeof line, "by hand (b after a failure)");
	y = fact(ui, y, "rollback", line, THEME_ROLE_text);
	if (i->waves) {
		snprintf(line, sizeof line, "%zu: %s", i->waves, i->waves_plan);
		y = fact(ui, y, "waves", line, THEME_ROLE_text);
	}
	if (i->emergency) {
		snprintf(line, sizeof line, "EMERGENCY: every one of its %zu hosts at once; why: %s",
		    i->hosts_len, i->reason);
		y = fact(ui, y, "emergency", line, THEME_ROLE_error);
	}
	if (i->retag[0]) {
		if (i->retagged)
			snprintf(line, sizeof line, "%s now name%s %s in the registry", i->retag,
			    strchr(i->retag, ' ') ? "" : "s", i->tag);
		else if (i->retag_error[0])
			snprintf(line, sizeof line, "%s not moved: %s", i->retag, i->retag_error);
		else
			snprintf(line, sizeof line, "%s moved to %s in the registry once every host is ready",
			    i->retag, i->tag);
		y = fact(ui, y, "retag", line, i->retag_error[0] ? THEME_ROLE_degraded : THEME_ROLE_text);
	}
	if (i->hosts_len > 1 && (i->parallel > 1 || i->waves)) {
		size_t done = 0, waiting = 0;
		char how[80];

		for (size_t j = 0; j < i->hosts_len; j++) {
			done += i->hosts[j].state == HOST_ENDED;
			waiting += i->hosts[j].state == HOST_WAITING;
		}
		if (i->waves)
			snprintf(how, sizeof how, "wave %zu of %zu, %zu at a time", i->wave, i->waves,
			    i->parallel);
		else
			snprintf(how, sizeof how, "the first alone, then %zu at a time", i->parallel);
		snprintf(line, sizeof line, "%s (host %zu of %zu; %zu running, %zu done, %zu waiting: %s)",
		    i->host, i->host_index + 1, i->hosts_len, i->running, done, waiting, how);
	} else if (i->hosts_len > 1)
		snprintf(line, sizeof line, "%s (host %zu of %zu, one after another)", i->host,
		    i->host_index + 1, i->hosts_len);
	else
		snprintf(line, sizeof line, "%s", i->host);
	y = fact(ui, y, "host", line, THEME_ROLE_text);
	if (i->hosts_len > 1)
		y = draw_hosts(ui, i, y);
	for (size_t w = 0; w < i->verdict.warnings_len && y < bottom; w++) {
		warning_line(ui, i->verdict.warnings[w], line, sizeof line);
		y = draw_wrapped(ui, y, 2, bottom, line, THEME_ROLE_degraded);
	}
	return y;
}

/* The most rows draw_facts takes: its five facts, the retag row, two for each wrapped
 * one, the warnings wrapped as it draws them. */
int runfacts_rows(const struct ui *ui, const struct deploy_info *i)
{
	int rows = 5;
	char line[600];

	if (i->kind == DEPLOY_PROMOTE && i->chosen[0] && !i->attached)
		rows += 2;
	if (i->proven[0] && !i->attached)
		rows += 2;
	if (i->adopting[0] && !i->attached)
		rows += 2;
	if (i->retag[0])
		rows++;
	if (i->waves || i->emergency)
		rows++;
	if (i->hosts_len > 1)
		rows += HOSTS_ROWS;
	for (size_t w = 0; w < i->verdict.warnings_len; w++) {
		warning_line(ui, i->verdict.warnings[w], line, sizeof line);
		rows += draw_wrapped_rows(ui, 2, line);
	}
	return rows;
}

