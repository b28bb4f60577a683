/* Files gantry reads for itself (its configuration, secrets, themes, CA certificates)
 * are trusted only when another local account cannot have written them, as OpenSSH and
 * git's safe.directory require: owned by this user or root, not writable by group or
 * others. A shared or world-writable directory is never searched for a configuration. */
#ifndef GANTRY_TRUST_H
#define GANTRY_TRUST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

/* An open file (f, read from `path`) gantry may trust; false with `why` saying what is
 * wrong and how to fix it ("it belongs to uid 1001 (mallory), ...; chown ... or ..."). */
bool trust_file(FILE *f, const char *path, char *why, size_t whysz);
/* Opens a file for reading and checks it (trust_file); NULL with `why` otherwise. */
FILE *trust_open(const char *path, char *why, size_t whysz);
/* True when a directory may be searched for a configuration: others cannot write it. */
bool trust_dir(const char *dir);

#endif
