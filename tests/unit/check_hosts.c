/* The SSH side's pure parts: hosts in gantry.yml, command templates, deploy.env,
 * drift between hosts and the app, the log scrollback, and `gantry logs` arguments. */
#include "config.h"

#include "cli.h"
#include "conf.h"
#include "compose/envfile.h"
#include "exitcode.h"
#include "logbuf.h"
#include "model.h"
#include "template.h"
#include "xmalloc.h"
#include "confparse.h"
#include "suite.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

START_TEST(hosts_are_read_with_defaults)
{
	char err[300];
	struct conf *c = parse("project: p\n"
	    "defaults:\n  deploy_dir: /srv/shop\n  logs: {tail: 50}\n"
	    "environments:\n"
	    "  - name: production\n    url: http://x\n"
	    "    hosts: [deploy@prod-1.example.com:2222, prod-2, '[::1]:22', {address: h3, deploy_dir: /opt/x}]\n",
	    err, sizeof err);

	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_uint_eq(c->envs[0].hosts_len, 4);
	ck_assert_str_eq(c->envs[0].hosts[0].user, "deploy");
	ck_assert_str_eq(c->envs[0].hosts[0].host, "prod-1.example.com");
	ck_assert_int_eq(c->envs[0].hosts[0].port, 2222);
	ck_assert_ptr_null(c->envs[0].hosts[1].user);
	ck_assert_int_eq(c->envs[0].hosts[1].port, 0);
	ck_assert_str_eq(c->envs[0].hosts[2].host, "::1");
	ck_assert_str_eq(conf_host_deploy_dir(&c->envs[0], &c->envs[0].hosts[3]), "/opt/x");
	ck_assert_str_eq(conf_host_deploy_dir(&c->envs[0], &c->envs[0].hosts[0]), "/srv/shop");
	ck_assert_str_eq(c->envs[0].compose, "docker compose");
	ck_assert_str_eq(c->envs[0].logs[LOG_APP], "{compose} logs {follow} --tail={tail} app");
	ck_assert_int_eq(c->envs[0].log_tail, 50);
	ck_assert_int_eq(c->envs[0].scrollback, 10000);
	ck_assert(!c->envs[0].trust_new_host_keys);
	conf_free(c);
}
END_TEST

START_TEST(bad_hosts_say_where)
{
	char err[300];
	static const struct {
		const char *yaml, *want;
	} cases[] = {
		{ "    hosts: [root@h:99999]\n    deploy_dir: /x\n",
		  "g.yml:5:13: environments[0].hosts[0]: expected a port from 1 to 65535 after ':', got \"99999\"" },
		{ "    hosts: [-oProxyCommand=x]\n    deploy_dir: /x\n",
		  "g.yml:5:13: environments[0].hosts[0]: expected a host such as deploy@prod-1.example.com:22, got \"-oProxyCommand=x\"" },
		{ "    hosts: [a, a]\n    deploy_dir: /x\n",
		  "g.yml:5:16: environments[0].hosts[1]: host a is listed twice with deploy directory /x "
		  "(first at g.yml:5); tenants on one host need deploy_dir= of their own" },
		{ "    hosts: [a, {address: a, deploy_dir: /x}]\n    deploy_dir: /x\n",
		  "g.yml:5:16: environments[0].hosts[1]: host a is listed twice with deploy directory /x "
		  "(first at g.yml:5); tenants on one host need deploy_dir= of their own" },
		{ "    hosts: [a, b]\n    deploy_dir: /x\n    rollout: {waves: [5%, 1%]}\n",
		  "g.yml:7:27: environments[0].rollout.waves[1]: each wave must reach more hosts than the "
		  "one before (sizes are of the whole fleet: [1, 5%, 25%, 100%])" },
		{ "    rollout: {waves: [1, 101%]}\n",
		  "g.yml:5:26: environments[0].rollout.waves[1]: expected a wave's size: a count of hosts "
		  "from 1 to 1000, or a percentage from 1% to 100%, got \"101%\"" },
		{ "    rollout: {waves: [1, {size: 2, paus: true}]}\n",
		  "g.yml:5:36: environments[0].rollout.waves[1].paus: unknown key; did you mean \"pause\"?" },
		{ "    hosts: [{address: a, labels: [eu, 'a,b']}]\n    deploy_dir: /x\n",
		  "g.yml:5:39: environments[0].hosts[0].labels: \"a,b\" is not a label: words of a-z, 0-9, "
		  "'_', '.' and '-'" },
		{ "    rollout: {waves: [1, 100%]}\n",
		  "g.yml:3:5: environments[0]: rollout: needs hosts to roll out over (hosts: or hosts_file:)" },
		{ "    hosts: [a]\n",
		  "g.yml:3:5: environments[0]: deploy_dir is required with hosts: the directory on the host that holds deploy.env (set it here or under defaults)" },
		{ "    hosts: [a]\n    deploy_dir: srv\n",
		  "g.yml:6:17: environments[0].deploy_dir: expected an absolute path on the host, such as /srv/shop" },
		{ "    logs: {app: 'tail {lines} x'}\n",
		  "g.yml:5:17: environments[0].logs.app: unknown variable {lines}; known: {compose} {follow} {tail} {env} {host} {deploy_dir}" },
		{ "    logs: {scrollback: 5}\n",
		  "g.yml:5:24: environments[0].logs.scrollback: expected a whole number from 100 to 1000000, got \"5\"" },
		{ "    trust_new_host_key: true\n",
		  "g.yml:5:5: environments[0].trust_new_host_key: unknown key; did you mean \"trust_new_host_keys\"?" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *text = xasprintf("project: p\nenvironments:\n  - name: e\n    url: http://x\n%s",
		    cases[i].yaml);
		struct conf *c = parse(text, err, sizeof err);

		ck_assert_ptr_null(c);
		ck_assert_str_eq(err, cases[i].want);
		free(text);
	}
}
END_TEST

/* A temporary inventory holding `text`; its path in path (unlinked by the caller). */
static void inventory(char *path, size_t pathsz, const char *text)
{
	int fd;

	snprintf(path, pathsz, "/tmp/gantry-inventory-XXXXXX");
	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* Several tenants on one address, each in its own directory; and an inventory file, read
 * after the hosts listed in gantry.yml, with per-host keys, labels and comments. */
START_TEST(tenants_share_an_address_and_an_inventory_adds_hosts)
{
	char err[400], path[64];
	char *text;
	struct conf *c;

	inventory(path, sizeof path, "# tenants\n"
	    "deploy@10.0.0.5 deploy_dir=/srv/t2 app_port=8082 labels=eu,canary\n"
	    "\n"
	    "  deploy@10.0.0.6:2222   app_url=http://127.0.0.1:8083  # the second\n");
	text = xasprintf("project: p\nenvironments:\n  - name: e\n    url: http://x\n"
	    "    deploy_dir: /srv/t1\n    hosts: [deploy@10.0.0.5]\n    hosts_file: %s\n", path);
	c = parse(text, err, sizeof err);
	ck_assert_msg(c != NULL, "%s", err);
	ck_assert_uint_eq(c->envs[0].hosts_len, 3);
	ck_assert_str_eq(conf_host_deploy_dir(&c->envs[0], &c->envs[0].hosts[0]), "/srv/t1");
	ck_assert_str_eq(c->envs[0].hosts[1].address, "deploy@10.0.0.5");
	ck_assert_str_eq(conf_host_deploy_dir(&c->envs[0], &c->envs[0].hosts[1]), "/srv/t2");
	ck_assert_str_eq(c->envs[0].hosts[1].app_port, "8082");
	ck_assert_str_eq(c->envs[0].hosts[1].labels, "eu,canary");
	ck_assert_int_eq(c->envs[0].hosts[1].line, 2);
	ck_assert_int_eq(c->envs[0].hosts[2].port, 2222);
	ck_assert_int_eq(c->envs[0].hosts[2].col, 3);
	ck_assert_str_eq(c->envs[0].hosts[2].app_url, "http://127.0.0.1:8083");
	conf_free(c);
	free(text);
	unlink(path);
}
END_TEST

/* An inventory's errors point into it, line and column. */
START_TEST(bad_inventory_lines_say_where)
{
	static const struct {
		const char *text, *want;
	} cases[] = {
		{ "a\nb deploydir=/x\n", ":2:3: unknown key \"deploydir\"; did you mean \"deploy_dir\"?" },
		{ "a colour=red\n", ":1:3: unknown key \"colour\"; a line takes deploy_dir=, app_port=, "
		  "app_url= and labels=" },
		{ "a app_port=99999\n", ":1:12: expected a whole number from 1 to 65535, got \"99999\"" },
		{ "a deploy_dir=srv\n", ":1:14: expected an absolute path on the host, such as /srv/shop" },
		{ "-oProxyCommand=x\n", ":1:1: expected a host such as deploy@prod-1.example.com:22, got "
		  "\"-oProxyCommand=x\"" },
		{ "a\n a\n", ":2:2: host a is listed twice with deploy directory /srv/t1 (first at " },
		{ "a labels=EU\n", ":1:10: \"EU\" is not a label: words of a-z, 0-9, '_', '.' and '-', "
		  "separated by commas" },
		{ "a canary\n", ":1:3: \"canary\" is not key=value: a line is an address, then any of "
		  "deploy_dir=, app_port=, app_url=, labels=" },
	};
	char err[500], path[64], want[600];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *text;

		inventory(path, sizeof path, cases[i].text);
		text = xasprintf("project: p\nenvironments:\n  - name: e\n    url: http://x\n"
		    "    deploy_dir: /srv/t1\n    hosts_file: %s\n", path);
		ck_assert_ptr_null(parse(text, err, sizeof err));
		snprintf(want, sizeof want, "%s%s", path, cases[i].want);
		ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "case %zu: %s", i, err);
		free(text);
		unlink(path);
	}
	/* one over the limit, and a file that is not there */
	{
		char *big = xstrdup(""), *text;

		for (int i = 0; i <= 1000; i++) {
			char *more = xasprintf("%sh%d\n", big, i);

			free(big);
			big = more;
		}
		inventory(path, sizeof path, big);
		text = xasprintf("project: p\nenvironments:\n  - name: e\n    url: http://x\n"
		    "    deploy_dir: /srv/t1\n    hosts_file: %s\n", path);
		ck_assert_ptr_null(parse(text, err, sizeof err));
		snprintf(want, sizeof want, "%s:1001:1: at most 1000 hosts per environment", path);
		ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s", err);
		free(text);
		free(big);
		unlink(path);
	}
	ck_assert_ptr_null(parse("project: p\nenvironments:\n  - name: e\n    url: http://x\n"
	    "    deploy_dir: /srv/t1\n    hosts_file: /nonexistent/tenants\n", err, sizeof err));
	ck_assert_str_eq(err, "g.yml:6:17: environments[0].hosts_file: cannot read /nonexistent/tenants: "
	    "No such file or directory; hosts_file names a file of one host a line (see gantry.yml(5))");
}
END_TEST

START_TEST(templates_expand_known_variables_only)
{
	static const char *const names[] = { "compose", "tail", NULL };
	struct template_var vars[] = { { "compose", "docker compose" }, { "tail", "20" } };
	char why[200];
	char *out;

	ck_assert(template_check("{compose} logs --tail={tail} app", names, why, sizeof why));
	ck_assert(!template_check("{compose} {nope}", names, why, sizeof why));
	ck_assert_str_eq(why, "unknown variable {nope}; known: {compose} {tail}");
	/* the shell's own braces pass through */
	ck_assert(template_check("echo ${HOME} { a; } {{tail}", names, why, sizeof why));
	out = template_expand("{compose} logs --tail={tail} ${X} {{x} {A}", vars, 2);
	ck_assert_str_eq(out, "docker compose logs --tail=20 ${X} {x} {A}");
	free(out);
	out = template_shell_quote("/srv/it's here");
	ck_assert_str_eq(out, "'/srv/it'\\''s here'");
	free(out);
}
END_TEST

START_TEST(deploy_env_is_read)
{
	struct deploy_env de;
	char why[200], tag[80];
	const char *good = "# comment\nexport APP_IMAGE=reg:5000/shop/app:sha-1a2b3c4  # now\r\n"
	    "MIGRATOR_IMAGE = \"reg:5000/shop/migrator:sha-1a2b3c4\"\nAPP_PORT=8080\n\n";

	ck_assert(deployenv_parse(good, strlen(good), &de, why, sizeof why));
	ck_assert_str_eq(de.app_image, "reg:5000/shop/app:sha-1a2b3c4");
	ck_assert_str_eq(de.migrator_image, "reg:5000/shop/migrator:sha-1a2b3c4");
	deployenv_image_tag(de.app_image, tag, sizeof tag);
	ck_assert_str_eq(tag, "sha-1a2b3c4");
	deployenv_image_tag("reg:5000/shop/app", tag, sizeof tag);
	ck_assert_str_eq(tag, "latest");
	deployenv_image_tag("ghcr.io/o/app@sha256:0123456789abcdef0123", tag, sizeof tag);
	ck_assert_str_eq(tag, "@sha256:0123456789ab");
	/* hostile and broken files */
	ck_assert(deployenv_parse("APP_IMAGE=\"a\x1b]0;x\x07:b\"\n", 21, &de, why, sizeof why));
	ck_assert_str_eq(de.app_image, "a:b");
	ck_assert(!deployenv_parse("APP_PORT=1\n", 11, &de, why, sizeof why));
	ck_assert_str_eq(why, "deploy.env names no APP_IMAGE");
	ck_assert(!deployenv_parse("<html>\n", 7, &de, why, sizeof why));
	ck_assert_str_eq(why, "deploy.env line 1 is not KEY=VALUE");
	ck_assert(!deployenv_parse("APP_IMAGE='x\n", 13, &de, why, sizeof why));
	ck_assert(!deployenv_parse("APP_IMAGE=a\0b", 13, &de, why, sizeof why));
}
END_TEST

START_TEST(drift_between_hosts_and_app)
{
	char err[300], tag[80], why[300];
	struct conf *c = parse("project: p\nenvironments:\n  - name: e\n    url: http://x\n"
	    "    deploy_dir: /d\n    hosts: [a, b]\n", err, sizeof err);
	struct model *m = model_new(c, 0);
	struct env_status *e = &m->envs[0];

	ck_assert_int_eq(model_drift(e, tag, sizeof tag, why, sizeof why), DRIFT_NONE);
	ck_assert_str_eq(tag, "");
	strcpy(e->hosts[0].app_tag, "sha-1111111");
	strcpy(e->hosts[1].app_tag, "sha-1111111");
	strcpy(e->tag, "sha-1111111");
	ck_assert_int_eq(model_drift(e, tag, sizeof tag, why, sizeof why), DRIFT_NONE);
	ck_assert_str_eq(tag, "sha-1111111");
	strcpy(e->tag, "sha-2222222");
	ck_assert_int_eq(model_drift(e, tag, sizeof tag, why, sizeof why), DRIFT_RUNNING);
	ck_assert_str_eq(why, "deploy.env names sha-1111111 but the app reports sha-2222222");
	strcpy(e->hosts[1].app_tag, "sha-2222222");
	ck_assert_int_eq(model_drift(e, tag, sizeof tag, why, sizeof why), DRIFT_HOSTS);
	ck_assert_str_eq(why, "hosts run different tags: a's deploy.env names sha-1111111, b's names "
	    "sha-2222222");
	/* each host's own app, where it has one: what runs beats what deploy.env says */
	strcpy(e->hosts[1].app_tag, "sha-1111111");
	strcpy(e->tag, "sha-1111111");
	strcpy(e->hosts[0].app_version, "sha-1111111");
	strcpy(e->hosts[1].app_version, "sha-1111111");
	ck_assert_int_eq(model_drift(e, tag, sizeof tag, why, sizeof why), DRIFT_NONE);
	strcpy(e->hosts[1].app_version, "sha-0000000");
	ck_assert_int_eq(model_drift(e, tag, sizeof tag, why, sizeof why), DRIFT_HOSTS);
	ck_assert_str_eq(why, "hosts run different tags: a runs sha-1111111, b runs sha-0000000");
	e->hosts[0].app_version[0] = '\0';
	ck_assert_int_eq(model_drift(e, tag, sizeof tag, why, sizeof why), DRIFT_RUNNING);
	ck_assert_str_eq(why, "b: deploy.env names sha-1111111 but its app reports sha-0000000");
	ck_assert_str_eq(model_drift_name(DRIFT_RUNNING), "running");
	/* the skew: tag by tag, the commonest first (a host's own app first), and the unknown */
	ck_assert_uint_eq(model_skew(e, why, sizeof why), 2);
	ck_assert_str_eq(why, "sha-0000000 on 1, sha-1111111 on 1");
	e->hosts[1].app_version[0] = '\0';
	ck_assert_uint_eq(model_skew(e, why, sizeof why), 1);
	ck_assert_str_eq(why, "sha-1111111 on 2");
	e->hosts[0].app_tag[0] = '\0';
	strcpy(e->hosts[0].deploy_error, "no deploy.env in /d");
	ck_assert_uint_eq(model_skew(e, why, sizeof why), 1);
	ck_assert_str_eq(why, "sha-1111111 on 1; 1 with errors");
	e->hosts[1].app_tag[0] = '\0';
	ck_assert_uint_eq(model_skew(e, why, sizeof why), 0);
	ck_assert_str_eq(why, "1 not read yet, 1 with errors");
	model_free(m);
	conf_free(c);
}
END_TEST

START_TEST(scrollback_stays_bounded)
{
	struct logbuf *lb = logbuf_new(100, 1000);

	for (int i = 0; i < 1000; i++) {
		char *t = xasprintf("line %d", i);

		logbuf_push(lb, 0, LOG_OUT, t, strlen(t));
	}
	ck_assert_uint_eq(lb->len, 100);
	ck_assert_uint_eq(lb->dropped, 900);
	ck_assert_str_eq(logbuf_get(lb, 0)->text, "line 900");
	ck_assert_uint_eq(logbuf_get(lb, 99)->seq, 1000);
	ck_assert_uint_eq(logbuf_index_of(lb, 950), 49);
	ck_assert_uint_eq(logbuf_index_of(lb, 3), 0);
	/* the byte bound binds too: 10 lines of 100 bytes fill 1000 */
	for (int i = 0; i < 20; i++) {
		char *t = xmalloc(101);

		memset(t, 'x', 100);
		t[100] = '\0';
		logbuf_push(lb, 1, LOG_ERR, t, 100);
	}
	ck_assert_uint_eq(lb->len, 10);
	ck_assert(lb->bytes <= 1000);
	logbuf_free(lb);
}
END_TEST

START_TEST(logs_command_line)
{
	struct cli_options o;
	char err[200];
	char *a1[] = { "gantry", "-c", "x.yml", "logs", "production", "migrator", "-f", "--host", "prod-1", NULL };
	char *a2[] = { "gantry", "logs", NULL };
	char *a3[] = { "gantry", "logs", "staging", "db", NULL };
	char *a4[] = { "gantry", "logs", "staging", "--host=h", NULL };

	ck_assert_int_eq(cli_parse(9, a1, &o, err, sizeof err), 0);
	ck_assert(o.command == CLI_LOGS && o.follow && o.log_source == LOG_MIGRATOR);
	ck_assert_str_eq(o.env, "production");
	ck_assert_str_eq(o.host, "prod-1");
	ck_assert_int_eq(cli_parse(2, a2, &o, err, sizeof err), EXIT_USAGE);
	ck_assert_str_eq(err, "logs: which environment? usage: gantry logs ENV [app|migrator] [-f] [--host HOST]");
	ck_assert_int_eq(cli_parse(4, a3, &o, err, sizeof err), EXIT_USAGE);
	ck_assert_int_eq(cli_parse(4, a4, &o, err, sizeof err), 0);
	ck_assert(o.log_source == LOG_APP && !o.follow);
	ck_assert_str_eq(o.host, "h");
}
END_TEST

/* '' from a script whose variable was unset is a usage error, not an environment or a tag */
START_TEST(empty_words_are_usage_errors)
{
	struct cli_options o;
	char err[300];
	char *a1[] = { "gantry", "deploy", "staging", "", NULL };
	char *a2[] = { "gantry", "history", "", NULL };
	char *a3[] = { "gantry", "promote", "", "production", NULL };

	ck_assert_int_eq(cli_parse(4, a1, &o, err, sizeof err), EXIT_USAGE);
	ck_assert_msg(strncmp(err, "deploy: an empty tag", 20) == 0, "%s", err);
	ck_assert_int_eq(cli_parse(3, a2, &o, err, sizeof err), EXIT_USAGE);
	ck_assert_msg(strncmp(err, "history: an empty environment name", 34) == 0, "%s", err);
	ck_assert_int_eq(cli_parse(4, a3, &o, err, sizeof err), EXIT_USAGE);
}
END_TEST

/* The command line as git and kubectl users expect: global options after the command,
 * "--" ends the options, short ones bundle, help CMD, and a near miss is named. */
START_TEST(command_line_conventions)
{
	struct cli_options o;
	char err[600];
	char *a1[] = { "gantry", "status", "--json", "-c", "f.yml", "--read-only", NULL };
	char *a2[] = { "gantry", "rollback", "production", "-yn", NULL };
	char *a3[] = { "gantry", "freeze", "production", "-mcalm down", NULL };
	char *a4[] = { "gantry", "freeze", "-m", "x", "--", "-staging", NULL };
	char *a5[] = { "gantry", "help", "deploy", NULL };
	char *a6[] = { "gantry", "stat", NULL };
	char *a7[] = { "gantry", "deploy", "production", "sha-1", "--dryrun", NULL };
	char *a8[] = { "gantry", "history", "production", "--config=g.yml", NULL };

	ck_assert_int_eq(cli_parse(6, a1, &o, err, sizeof err), 0);
	ck_assert(o.command == CLI_STATUS && o.json && o.read_only);
	ck_assert_str_eq(o.config_path, "f.yml");
	ck_assert_int_eq(cli_parse(4, a2, &o, err, sizeof err), 0);
	ck_assert(o.command == CLI_ROLLBACK && o.yes && o.dry_run);
	ck_assert_int_eq(cli_parse(4, a3, &o, err, sizeof err), 0);
	ck_assert_str_eq(o.message, "calm down");
	ck_assert_int_eq(cli_parse(6, a4, &o, err, sizeof err), 0);
	ck_assert_str_eq(o.env, "-staging");
	ck_assert_int_eq(cli_parse(3, a5, &o, err, sizeof err), 0);
	ck_assert(o.command == CLI_COMMAND_HELP && o.help_for == cli_cmd_of(CLI_DEPLOY));
	ck_assert_int_eq(cli_parse(2, a6, &o, err, sizeof err), EXIT_USAGE);
	ck_assert_msg(strstr(err, "unknown command \"stat\"; did you mean \"status\"?"), "%s", err);
	ck_assert_int_eq(cli_parse(5, a7, &o, err, sizeof err), EXIT_USAGE);
	ck_assert_msg(strstr(err, "unknown option --dryrun (did you mean --dry-run?)"), "%s", err);
	ck_assert_int_eq(cli_parse(4, a8, &o, err, sizeof err), 0);
	ck_assert_str_eq(o.config_path, "g.yml");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("hosts");
	TCase *tc = tcase_create("hosts");

	tcase_add_test(tc, hosts_are_read_with_defaults);
	tcase_add_test(tc, bad_hosts_say_where);
	tcase_add_test(tc, tenants_share_an_address_and_an_inventory_adds_hosts);
	tcase_add_test(tc, bad_inventory_lines_say_where);
	tcase_add_test(tc, templates_expand_known_variables_only);
	tcase_add_test(tc, deploy_env_is_read);
	tcase_add_test(tc, drift_between_hosts_and_app);
	tcase_add_test(tc, scrollback_stays_bounded);
	tcase_add_test(tc, logs_command_line);
	tcase_add_test(tc, empty_words_are_usage_errors);
	tcase_add_test(tc, command_line_conventions);
	suite_add_tcase(s, tc);
	return run_suite(s);
}
