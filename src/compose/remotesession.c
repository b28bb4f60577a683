/* Setting an SSH session up: its options (~/.ssh/config as OpenSSH reads it, gantry.yml's
 * identity and timeouts), the host's key checked against the known_hosts files (the
 * user's, the environment's, the system's; hashed entries included; an unknown key refused
 * with its fingerprint and the ssh-keyscan line that adds it, a changed one always refused
 * with the file that holds the old key; files others could have written refused), and the
 * shell line a command becomes on the host. */
#include "config.h"

#include "remoteint.h"
#include "template.h"
#include "trust.h"
#include "xmalloc.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* "ssh-ed25519 SHA256:..." for the server's key; false when it cannot be read. */
static bool server_fingerprint(ssh_session s, char *out, size_t outsz)
{
	ssh_key key = NULL;
	unsigned char *hash = NULL;
	size_t hlen = 0;
	char *fp;

	if (ssh_get_server_publickey(s, &key) != SSH_OK)
		return false;
	if (ssh_get_publickey_hash(key, SSH_PUBLICKEY_HASH_SHA256, &hash, &hlen) != 0) {
		ssh_key_free(key);
		return false;
	}
	fp = ssh_get_fingerprint_hash(SSH_PUBLICKEY_HASH_SHA256, hash, hlen);
	snprintf(out, outsz, "%s %s", ssh_key_type_to_char(ssh_key_type(key)), fp ? fp : "?");
	ssh_string_free_char(fp);
	ssh_clean_pubkey_hash(&hash);
	ssh_key_free(key);
	return true;
}

/* The known_hosts name of the target: host, or [host]:port off port 22. */
static void known_name(struct remote_host *h, char *out, size_t outsz)
{
	char *host = NULL;
	unsigned int port = 22;

	ssh_options_get(h->session, SSH_OPTIONS_HOST, &host);
	ssh_options_get_port(h->session, &port);
	if (port == 22)
		snprintf(out, outsz, "%s", host ? host : "?");
	else
		snprintf(out, outsz, "[%s]:%u", host ? host : "?", port);
	ssh_string_free_char(host);
}

/* The known_hosts file that holds a plain entry for `name` (the first of `files`, a NULL
 * may stand for a file not configured); else a file with hashed entries, else the first. */
static void known_hosts_holding(const char *name, const char *const files[], char *out,
    size_t outsz)
{
	const char *hashed = NULL;
	char line[4096];

	snprintf(out, outsz, "%s", files[0]);
	for (size_t i = 0; i < 3; i++) {
		FILE *f = files[i] ? fopen(files[i], "r") : NULL;

		if (!f)
			continue;
		while (fgets(line, sizeof line, f)) {
			char *hosts = line + strspn(line, " \t"), *end, *tok, *save = NULL;

			if (hosts[0] == '|') {
				hashed = hashed ? hashed : files[i];
				continue;
			}
			if (hosts[0] == '@')            /* @cert-authority, @revoked: the next field */
				hosts += strcspn(hosts, " \t") + strspn(hosts + strcspn(hosts, " \t"), " \t");
			end = hosts + strcspn(hosts, " \t");
			*end = '\0';
			for (tok = strtok_r(hosts, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
				if (strcmp(tok, name) == 0) {
					snprintf(out, outsz, "%s", files[i]);
					fclose(f);
					return;
				}
			}
		}
		fclose(f);
	}
	if (hashed)
		snprintf(out, outsz, "%s", hashed);
}

/* Checks the server's key; false after failing the host. */
bool host_check_key(struct remote_host *h)
{
	char fp[200] = "an unreadable key", name[300], keyscan[400];
	enum ssh_known_hosts_e known = ssh_session_is_known_server(h->session);
	char *host = NULL;
	unsigned int port = 22;
	/* where a key is added: the environment's file, unless it cannot hold one */
	const char *file = h->env->known_hosts && strcmp(h->env->known_hosts, "/dev/null") != 0 ?
	    h->env->known_hosts : "~/.ssh/known_hosts";

	if (known == SSH_KNOWN_HOSTS_OK)
		return true;
	server_fingerprint(h->session, fp, sizeof fp);
	known_name(h, name, sizeof name);
	ssh_options_get(h->session, SSH_OPTIONS_HOST, &host);
	ssh_options_get_port(h->session, &port);
	if (port == 22)
		snprintf(keyscan, sizeof keyscan, "ssh-keyscan %s >> %s", host ? host : "HOST", file);
	else
		snprintf(keyscan, sizeof keyscan, "ssh-keyscan -p %u %s >> %s", port, host ? host : "HOST", file);
	ssh_string_free_char(host);
	switch (known) {
	case SSH_KNOWN_HOSTS_UNKNOWN:
	case SSH_KNOWN_HOSTS_NOT_FOUND:
		/* trust on first use: only when the configuration asks, never in read-only mode
		 * (which writes nothing, known_hosts included) */
		if (h->env->trust_new_host_keys && !h->remote->read_only) {
			if (ssh_session_update_known_hosts(h->session) == SSH_OK)
				return true;
			host_fail(h, LINK_KEY_UNKNOWN, "%s: could not record its key %s in ~/.ssh/known_hosts: %s",
			    name, fp, ssh_get_error(h->session));
			return false;
		}
		host_fail(h, LINK_KEY_UNKNOWN, "%s offers host key %s, which is in no known_hosts file; "
		    "not connecting. If that is the host's key, add it: %s%s", name, fp, keyscan,
		    h->remote->read_only ? "" : " (or set trust_new_host_keys: true)");
		return false;
	case SSH_KNOWN_HOSTS_CHANGED:
	case SSH_KNOWN_HOSTS_OTHER: {
		char user_file[600], where[700];

		snprintf(user_file, sizeof user_file, "%s/.ssh/known_hosts", h->remote->home);
		known_hosts_holding(name, (const char *const[]){ user_file, h->env->known_hosts,
		    "/etc/ssh/ssh_known_hosts", NULL }, where, sizeof where);
		host_fail(h, LINK_KEY_CHANGED, "%s now offers host key %s, not the one %s holds: "
		    "someone may be intercepting the connection; not connecting. If the host was "
		    "reinstalled, remove the old key with ssh-keygen -f %s -R '%s' and add the new one: %s",
		    name, fp, where, where, name, keyscan);
		return false;
	}
	default:
		host_fail(h, LINK_KEY_UNKNOWN, "%s: known_hosts could not be read: %s", name,
		    ssh_get_error(h->session));
		return false;
	}
}

/* The known_hosts files that check host keys are trusted only when no other account
 * could have written them (src/trust.h): a key planted there would let any server in.
 * False after failing the host. A file that is not there holds no key. */
bool known_hosts_trusted(struct remote_host *h, const char *const files[])
{
	for (size_t i = 0; files[i]; i++) {
		FILE *f = fopen(files[i], "r");
		char why[400];
		bool ok;

		if (!f)
			continue;
		ok = trust_file(f, files[i], why, sizeof why);
		fclose(f);
		if (!ok) {
			host_fail(h, LINK_KEY_UNKNOWN, "%s is not trusted to check host keys: %s; not "
			    "connecting", files[i], why);
			return false;
		}
	}
	return true;
}

/* Reads ~/.ssh/config (and the system's) into the session, as OpenSSH would. */
bool session_options(struct remote_host *h)
{
	struct remote *r = h->remote;
	char path[600];
	struct stat st;
	int no = 0;
	long timeout = (long)((h->env->connect_timeout_ms + 999) / 1000);
	int port = h->conf->port;

	ssh_options_set(h->session, SSH_OPTIONS_HOST, h->conf->host);
	if (h->conf->user)
		ssh_options_set(h->session, SSH_OPTIONS_USER, h->conf->user);
	if (port)
		ssh_options_set(h->session, SSH_OPTIONS_PORT, &port);
	snprintf(path, sizeof path, "%s/.ssh", r->home);
	ssh_options_set(h->session, SSH_OPTIONS_SSH_DIR, path);
	snprintf(path, sizeof path, "%s/.ssh/known_hosts", r->home);
	if (!known_hosts_trusted(h, (const char *const[]){ path, h->env->known_hosts ?
	    h->env->known_hosts : "/etc/ssh/ssh_known_hosts", NULL }))
		return false;
	ssh_options_set(h->session, SSH_OPTIONS_KNOWNHOSTS, path);
	ssh_options_set(h->session, SSH_OPTIONS_GLOBAL_KNOWNHOSTS,
	    h->env->known_hosts ? h->env->known_hosts : "/etc/ssh/ssh_known_hosts");
	ssh_options_set(h->session, SSH_OPTIONS_TIMEOUT, &timeout);
	snprintf(path, sizeof path, "%s/.ssh/config", r->home);
	if (stat(path, &st) == 0 && ssh_options_parse_config(h->session, path) != 0) {
		host_fail(h, LINK_UNREACHABLE, "%s: cannot be read; fix it, then press r", path);
		return false;
	}
	if (stat("/etc/ssh/ssh_config", &st) == 0)
		ssh_options_parse_config(h->session, "/etc/ssh/ssh_config");
	/* strict host key checking whatever an SSH config says ("StrictHostKeyChecking no"):
	 * gantry checks every key itself, and trusts a new one only with trust_new_host_keys */
	{
		int strict = 1;

		ssh_options_set(h->session, SSH_OPTIONS_STRICTHOSTKEYCHECK, &strict);
	}
	/* identity_file comes first; IdentityFile from the SSH configs and the agent after it */
	if (h->env->identity_file)
		ssh_options_set(h->session, SSH_OPTIONS_IDENTITY, h->env->identity_file);
	/* our own choices stand: nothing more is read at connect time */
	ssh_options_set(h->session, SSH_OPTIONS_PROCESS_CONFIG, &no);
	return true;
}

bool remote_starts_with_assignment(const char *command)
{
	const char *p = command;

	while (*p == ' ')
		p++;
	if (!((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || *p == '_'))
		return false;
	while ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') ||
	    *p == '_')
		p++;
	return *p == '=';
}

/* The command as the host's shell gets it: in the deploy directory. */
char *full_command(const struct remote_host *h, const char *command)
{
	char *dir = template_shell_quote(conf_host_deploy_dir(h->env, h->conf));
	/* exec: the signal sent on stop reaches the command itself, not a shell above it;
	 * a list or pipeline keeps its shell (exec would cut it short); a command that starts
	 * with VAR=value (a compose of "DOCKER_HOST=... docker compose") runs through env,
	 * as exec takes no assignments */
	bool list = strpbrk(command, ";&|()\n") != NULL;
	/* a list in braces: nothing of it runs when the directory is not there */
	char *full = list ? xasprintf("cd %s && {\n%s\n}", dir, command) :
	    xasprintf("cd %s && %s%s", dir, remote_starts_with_assignment(command) ? "exec env " :
	    "exec ", command);

	free(dir);
	return full;
}
