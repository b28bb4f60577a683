/* A host command's framed reply. The command prints its parts as sections: a marker
 * line naming the part, then the part. Parts gantry prints itself (a clock, a size, a
 * flag) are plain lines; every part that comes out of a file on the host is
 * hex-encoded on the host, so no byte of a file can ever read as a marker, a flag or
 * another file: a planted line in deploy.env cannot forge a lock or hide a history. */
#ifndef GANTRY_HOSTREPLY_H
#define GANTRY_HOSTREPLY_H

#include <stdbool.h>
#include <stddef.h>

#define HOSTREPLY_MARK "@@gantry-state@@ "

struct hostreply_part {
	const char *name;               /* in: the part's name */
	bool hex;                       /* in: hex-encoded on the host */
	bool present;                   /* out: the reply had it */
	char *data;                     /* out: the part, decoded, NUL-terminated (owned) */
	size_t len;
};

/* Splits a reply into the parts named in `parts` (which must end with one named "end",
 * the reply's last). What comes before the first marker (a login shell's greeting) is
 * skipped. False, with why, when the reply was cut short, names a part twice or one
 * not asked for, or a hex part holds anything but hex: the reply is not gantry's. */
bool hostreply_parse(const char *buf, size_t len, struct hostreply_part *parts, size_t n,
    char *why, size_t whysz);
void hostreply_free(struct hostreply_part *parts, size_t n);

#endif
