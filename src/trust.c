/* Files another local account could have planted are not read. */
#include "config.h"

#include "trust.h"

#include <errno.h>
#include <pwd.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

bool trust_file(FILE *f, const char *path, char *why, size_t whysz)
{
	struct stat st;

	if (fstat(fileno(f), &st) != 0) {
		snprintf(why, whysz, "%s", strerror(errno));
		return false;
	}
	if (st.st_uid != geteuid() && st.st_uid != 0) {
		const struct passwd *pw = getpwuid(st.st_uid);

		snprintf(why, whysz, "it belongs to uid %u%s%s%s, not to you (uid %u) or root, so "
		    "another account could have written it: not read; copy it to a file of your own",
		    (unsigned)st.st_uid, pw ? " (" : "", pw ? pw->pw_name : "", pw ? ")" : "",
		    (unsigned)geteuid());
		return false;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		snprintf(why, whysz, "other users can write it (mode %03o): not read; chmod go-w %s",
		    (unsigned)(st.st_mode & 0777), path);
		return false;
	}
	return true;
}

FILE *trust_open(const char *path, char *why, size_t whysz)
{
	FILE *f = fopen(path, "rb");

	if (!f) {
		snprintf(why, whysz, "%s", strerror(errno));
		return NULL;
	}
	if (!trust_file(f, path, why, whysz)) {
		fclose(f);
		errno = EACCES;
		return NULL;
	}
	return f;
}

bool trust_dir(const char *dir)
{
	struct stat st;

	return stat(dir, &st) == 0 && !(st.st_mode & S_IWOTH) &&
	    (!(st.st_mode & S_IWGRP) || st.st_uid == geteuid());
}
