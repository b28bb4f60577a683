/* A hostile SSH server for the tests: a real SSH server (libssh's server side) on
 * loopback that answers every command the way a compromised host could. It accepts the
 * client's public key, and for each exec reads MODEFILE to decide what to send:
 *
 *   signal    output and errors full of terminal escapes, then an exit-signal whose
 *             name and message are escapes too
 *   garbage   the same output, then exit status 0
 *   hang      nothing, ever (the channel stays open)
 *   refuse    the session channel is refused
 *
 *   sshevil HOSTKEY PORT MODEFILE     listens on 127.0.0.1:PORT; prints "ready" once
 *                                     it does
 * One process per connection (fork); the listener runs until killed. */
#include <libssh/libssh.h>
#include <libssh/server.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define EVIL_OUT "\x1b]0;owned-by-stdout\x07\x1b[2J\x1b[5mhello from the host\x1b[0m\r\n" \
	"@@gantry-state@@ end\n\x9b" "31mC1 CSI\n"
#define EVIL_ERR "\x1b]0;owned-by-stderr\x07\x1b[H\x1b[2Jbash: you have been pwned\n"
#define EVIL_SIGNAL "\x1b]0;owned-by-signal\x07KILL\x1b[2J"
#define EVIL_MESSAGE "\x1b]0;owned-by-errmsg\x07\x1b[2Jboom"

static const char *mode_file;

static void mode(char *buf, size_t size)
{
	FILE *f = fopen(mode_file, "r");

	buf[0] = '\0';
	if (f) {
		if (!fgets(buf, (int)size, f))
			buf[0] = '\0';
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = '\0';
}

static void answer(ssh_channel ch, const char *how)
{
	if (strcmp(how, "hang") == 0)
		return;
	ssh_channel_write(ch, EVIL_OUT, sizeof EVIL_OUT - 1);
	ssh_channel_write_stderr(ch, EVIL_ERR, sizeof EVIL_ERR - 1);
	if (strcmp(how, "signal") == 0)
		ssh_channel_request_send_exit_signal(ch, EVIL_SIGNAL, 0, EVIL_MESSAGE, "");
	else
		ssh_channel_request_send_exit_status(ch, 0);
	ssh_channel_send_eof(ch);
	ssh_channel_close(ch);
}

static int authenticate(ssh_session s)
{
	ssh_message m;

	while ((m = ssh_message_get(s))) {
		if (ssh_message_type(m) == SSH_REQUEST_AUTH &&
		    ssh_message_subtype(m) == SSH_AUTH_METHOD_PUBLICKEY) {
			enum ssh_publickey_state_e st = ssh_message_auth_publickey_state(m);

			if (st == SSH_PUBLICKEY_STATE_NONE) {
				ssh_message_auth_reply_pk_ok_simple(m);
			} else if (st == SSH_PUBLICKEY_STATE_VALID) {
				ssh_message_auth_reply_success(m, 0);
				ssh_message_free(m);
				return 0;
			} else {
				ssh_message_reply_default(m);
			}
		} else {
			ssh_message_auth_set_methods(m, SSH_AUTH_METHOD_PUBLICKEY);
			ssh_message_reply_default(m);
		}
		ssh_message_free(m);
	}
	return -1;
}

static void serve(ssh_session s)
{
	ssh_message m;
	char how[32];

	if (ssh_handle_key_exchange(s) != SSH_OK || authenticate(s) != 0)
		return;
	while ((m = ssh_message_get(s))) {
		int type = ssh_message_type(m), sub = ssh_message_subtype(m);

		mode(how, sizeof how);
		if (type == SSH_REQUEST_CHANNEL_OPEN && sub == SSH_CHANNEL_SESSION &&
		    strcmp(how, "refuse") != 0) {
			ssh_message_channel_request_open_reply_accept(m);
		} else if (type == SSH_REQUEST_CHANNEL && sub == SSH_CHANNEL_REQUEST_EXEC) {
			ssh_channel ch = ssh_message_channel_request_channel(m);

			ssh_message_channel_request_reply_success(m);
			answer(ch, how);
		} else {
			ssh_message_reply_default(m);
		}
		ssh_message_free(m);
	}
}

int main(int argc, char **argv)
{
	ssh_bind sb;
	int port;

	if (argc != 4) {
		fprintf(stderr, "usage: sshevil HOSTKEY PORT MODEFILE\n");
		return 2;
	}
	mode_file = argv[3];
	signal(SIGCHLD, SIG_IGN);
	sb = ssh_bind_new();
	ssh_bind_options_set(sb, SSH_BIND_OPTIONS_BINDADDR, "127.0.0.1");
	port = atoi(argv[2]);
	ssh_bind_options_set(sb, SSH_BIND_OPTIONS_BINDPORT, &port);
	ssh_bind_options_set(sb, SSH_BIND_OPTIONS_HOSTKEY, argv[1]);
	if (ssh_bind_listen(sb) != SSH_OK) {
		fprintf(stderr, "sshevil: %s\n", ssh_get_error(sb));
		return 1;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		ssh_session s = ssh_new();

		if (ssh_bind_accept(sb, s) != SSH_OK) {
			ssh_free(s);
			continue;
		}
		if (fork() == 0) {
			ssh_bind_free(sb);
			serve(s);
			ssh_disconnect(s);
			ssh_free(s);
			_exit(0);
		}
		ssh_free(s);
	}
}
