/* gantry's exit statuses: one table, for the code, --help and the man page. */
#ifndef GANTRY_EXITCODE_H
#define GANTRY_EXITCODE_H

#define EXIT_CODE_TABLE(X) \
	X(EXIT_OK,        0,  "success; for status, every environment is ready") \
	X(EXIT_NOT_READY, 1,  "status: at least one environment is not ready, down or unknown, or has a host whose state or services could not be read") \
	X(EXIT_USAGE,     2,  "bad command line") \
	X(EXIT_CONFIG,    3,  "the configuration or the theme is missing or wrong") \
	X(EXIT_REMOTE,    4,  "logs, history, attach: a host could not be reached, or its command failed") \
	X(EXIT_REGISTRY,  5,  "the registry could not be reached, refused the credentials, or lacks the tag; after a deploy that succeeded: deploy.retag's tags could not be moved") \
	X(EXIT_REFUSED,   6,  "promote, rollback, emergency-rollback, deploy, rollout, freeze, unfreeze, unlock: refused (a guard, a lock, a freeze, a step running, read-only mode, no confirmation, no rollout to pause, resume or abort); nothing ran") \
	X(EXIT_FAILED,    7,  "promote, rollback, emergency-rollback, deploy, rollout, attach: the run failed, was cancelled or rolled back, is partial (it did not reach every host), or could not be followed to its end") \
	X(EXIT_CHECK,     8,  "check: at least one check failed (its line says what to do)") \
	X(EXIT_PAUSED,    9,  "promote, deploy, rollout, attach: a rollout in waves paused with no terminal to ask (or no answer); it stays paused under its lease until `gantry rollout resume|abort ENV`") \
	X(EXIT_INTERNAL,  70, "internal error (a bug): the message says where")

enum exit_code {
#define EXIT_CODE_ENUM(name, value, doc) name = value,
	EXIT_CODE_TABLE(EXIT_CODE_ENUM)
#undef EXIT_CODE_ENUM
};

#endif
