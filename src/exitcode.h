/* gantry's exit statuses: one table, for the code, --help and the man page. */
#ifndef GANTRY_EXITCODE_H
#define GANTRY_EXITCODE_H

#define EXIT_CODE_TABLE(X) \
	X(EXIT_OK,        0,  "success; for status, every environment is ready") \
	X(EXIT_NOT_READY, 1,  "status: at least one environment is not ready, down or unknown") \
	X(EXIT_USAGE,     2,  "bad command line") \
	X(EXIT_CONFIG,    3,  "the configuration or the theme is missing or wrong") \
	X(EXIT_REMOTE,    4,  "logs: a host could not be reached, or the log command failed") \
	X(EXIT_REGISTRY,  5,  "the registry could not be reached, refused the credentials, or lacks the tag") \
	X(EXIT_INTERNAL,  70, "internal error (a bug): the message says where")

enum exit_code {
#define EXIT_CODE_ENUM(name, value, doc) name = value,
	EXIT_CODE_TABLE(EXIT_CODE_ENUM)
#undef EXIT_CODE_ENUM
};

#endif
