/* deploy.env as a compose host holds it, read. */
#include "config.h"

#include "envfile.h"
#include "sanitize.h"

#include <stdio.h>
#include <string.h>

/* Copies a value, unquoting '...' or "..." (with \" and \\ inside double quotes). */
static bool unquote(const char *v, size_t len, char *out, size_t outsz)
{
	char tmp[DEPLOYENV_IMAGE_MAX * 2];
	size_t n = 0;

	if (len >= 2 && (v[0] == '"' || v[0] == '\'')) {
		char q = v[0];
		size_t i;

		for (i = 1; i < len && v[i] != q; i++) {
			if (q == '"' && v[i] == '\\' && i + 1 < len)
				i++;
			if (n + 1 >= sizeof tmp)
				return false;
			tmp[n++] = v[i];
		}
		if (i >= len)
			return false;           /* no closing quote */
	} else {
		/* an unquoted value ends at a comment */
		for (size_t i = 0; i < len && !(v[i] == '#' && i > 0 && (v[i - 1] == ' ' || v[i - 1] == '\t')); i++) {
			if (n + 1 >= sizeof tmp)
				return false;
			tmp[n++] = v[i];
		}
		while (n > 0 && (tmp[n - 1] == ' ' || tmp[n - 1] == '\t'))
			n--;
	}
	sanitize_text(tmp, n, out, outsz, 0);
	return true;
}

bool deployenv_parse(const char *buf, size_t len, struct deploy_env *out, char *why, size_t whysz)
{
	const char *p = buf, *end = buf + len;
	int line = 0;

	memset(out, 0, sizeof *out);
	if (len > DEPLOYENV_MAX_BYTES) {
		snprintf(why, whysz, "deploy.env is larger than %d bytes", DEPLOYENV_MAX_BYTES);
		return false;
	}
	if (memchr(buf, '\0', len)) {
		snprintf(why, whysz, "deploy.env holds NUL bytes: not a text file");
		return false;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p)), *eq, *k, *kend, *v, *vend;
		char *dst = NULL;

		if (!nl)
			nl = end;
		line++;
		k = p;
		vend = nl;
		if (vend > k && vend[-1] == '\r')
			vend--;
		p = nl < end ? nl + 1 : end;
		while (k < vend && (*k == ' ' || *k == '\t'))
			k++;
		if (k == vend || *k == '#')
			continue;
		if ((size_t)(vend - k) > 7 && strncmp(k, "export ", 7) == 0)
			k += 7;
		eq = memchr(k, '=', (size_t)(vend - k));
		if (!eq) {
			snprintf(why, whysz, "deploy.env line %d is not KEY=VALUE", line);
			return false;
		}
		kend = eq;
		while (kend > k && (kend[-1] == ' ' || kend[-1] == '\t'))
			kend--;
		v = eq + 1;
		while (v < vend && (*v == ' ' || *v == '\t'))
			v++;
		if ((size_t)(kend - k) == 9 && strncmp(k, "APP_IMAGE", 9) == 0)
			dst = out->app_image;
		else if ((size_t)(kend - k) == 14 && strncmp(k, "MIGRATOR_IMAGE", 14) == 0)
			dst = out->migrator_image;
		if (dst && !unquote(v, (size_t)(vend - v), dst, DEPLOYENV_IMAGE_MAX)) {
			snprintf(why, whysz, "deploy.env line %d: the value is too long or its quote is not closed",
			    line);
			return false;
		}
	}
	if (!out->app_image[0]) {
		snprintf(why, whysz, "deploy.env names no APP_IMAGE");
		return false;
	}
	return true;
}

