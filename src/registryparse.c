/* What a registry sends, read: a 401's challenge, a Link header's next page, an image
 * manifest checked against its digest. Pure: the client (registry.c) does the I/O. Every
 * byte is untrusted (fuzzed by tests/fuzz/fuzz_registry.c). */
#include "config.h"

#include "registry.h"
#include "sanitize.h"
#include "sha256.h"
#include "value.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

bool registry_parse_challenge(const char *h, struct registry_challenge *out)
{
	size_t n = 0;

	memset(out, 0, sizeof *out);
	while (*h == ' ')
		h++;
	while (isalpha((unsigned char)h[n]))
		n++;
	if (n == 0 || n >= sizeof out->scheme)
		return false;
	memcpy(out->scheme, h, n);
	h += n;
	/* key=value or key="value", separated by commas */
	while (*h) {
		char key[32], *dst = NULL;
		size_t k = 0, dstsz = 0, v = 0;

		while (*h == ' ' || *h == ',')
			h++;
		if (!*h)
			break;
		while (isalnum((unsigned char)*h) || *h == '_' || *h == '-') {
			if (k + 1 >= sizeof key)
				return false;
			key[k++] = *h++;
		}
		key[k] = '\0';
		if (k == 0 || *h != '=')
			return false;
		h++;
		if (strcasecmp(key, "realm") == 0)
			dst = out->realm, dstsz = sizeof out->realm;
		else if (strcasecmp(key, "service") == 0)
			dst = out->service, dstsz = sizeof out->service;
		else if (strcasecmp(key, "scope") == 0)
			dst = out->scope, dstsz = sizeof out->scope;
		if (*h == '"') {
			h++;
			while (*h && *h != '"') {
				if (*h == '\\' && h[1])
					h++;
				if (dst && v + 1 < dstsz)
					dst[v++] = *h;
				else if (dst)
					return false;   /* longer than any real one: refuse, not cut */
				h++;
			}
			if (*h != '"')
				return false;
			h++;
		} else {
			while (*h && *h != ',' && *h != ' ') {
				if (dst && v + 1 < dstsz)
					dst[v++] = *h;
				else if (dst)
					return false;
				h++;
			}
		}
		if (dst)
			dst[v] = '\0';
	}
	return true;
}

bool registry_parse_link(const char *h, char *out, size_t outsz)
{
	const char *lt = strchr(h, '<'), *gt = lt ? strchr(lt, '>') : NULL;
	size_t n;

	if (!lt || !gt || !strstr(gt, "rel=\"next\""))
		return false;
	n = (size_t)(gt - lt - 1);
	if (n == 0 || n >= outsz || lt[1] != '/')      /* a path on the same registry only */
		return false;
	memcpy(out, lt + 1, n);
	out[n] = '\0';
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)out[i] <= 0x20 || out[i] == 0x7f)
			return false;
	return true;
}

enum registry_error registry_read_manifest(const char *body, size_t len, const char *content_type,
    const char *header_digest, struct registry_result *out, char config_digest[REGISTRY_DIGEST_MAX])
{
	char sum[72];
	json_error_t jerr;
	json_t *root, *version, *config, *cdigest, *mt;
	size_t semi = strcspn(content_type, ";");

	config_digest[0] = '\0';
	sha256_digest(body, len, sum);
	if (header_digest[0] && strcmp(header_digest, sum) != 0) {
		snprintf(out->message, sizeof out->message, "the registry names it %.80s, but the manifest "
		    "it sent hashes to %s; refusing to use it", header_digest, sum);
		return out->error = REGISTRY_BAD_REPLY;
	}
	root = json_loadb(body, len, 0, &jerr);
	version = root ? json_object_get(root, "schemaVersion") : NULL;
	if (!json_is_object(root) || !json_is_integer(version) || json_integer_value(version) != 2) {
		json_decref(root);
		snprintf(out->message, sizeof out->message, "the registry sent something other than an "
		    "image manifest (schema version 2)");
		return out->error = REGISTRY_BAD_REPLY;
	}
	snprintf(out->digest, sizeof out->digest, "%s", sum);
	mt = json_object_get(root, "mediaType");
	if (semi > 0 && semi < sizeof out->media_type)
		/* a header: untrusted like the body */
		sanitize_text(content_type, semi, out->media_type, sizeof out->media_type, SANITIZE_ASCII);
	else if (json_is_string(mt))
		sanitize_text(json_string_value(mt), strlen(json_string_value(mt)), out->media_type,
		    sizeof out->media_type, SANITIZE_ASCII);
	config = json_object_get(root, "config");
	cdigest = json_is_object(config) ? json_object_get(config, "digest") : NULL;
	if (json_is_string(cdigest) && value_digest(json_string_value(cdigest)))
		snprintf(config_digest, REGISTRY_DIGEST_MAX, "%s", json_string_value(cdigest));
	json_decref(root);
	return out->error = REGISTRY_OK;
}
