/* Turns untrusted bytes into text that is safe to put on a terminal. */
#include "config.h"

#include "sanitize.h"
#include "xmalloc.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Decodes one UTF-8 sequence at s (n bytes available). Returns its length, or 0 if invalid. */
static size_t utf8_decode(const unsigned char *s, size_t n, uint32_t *cp)
{
	uint32_t c;
	size_t need;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	} else if (s[0] >= 0xC2 && s[0] <= 0xDF) {
		need = 2;
		c = s[0] & 0x1F;
	} else if (s[0] >= 0xE0 && s[0] <= 0xEF) {
		need = 3;
		c = s[0] & 0x0F;
	} else if (s[0] >= 0xF0 && s[0] <= 0xF4) {
		need = 4;
		c = s[0] & 0x07;
	} else {
		return 0;
	}
	if (n < need)
		return 0;
	for (size_t i = 1; i < need; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		c = (c << 6) | (s[i] & 0x3F);
	}
	/* overlong forms, surrogates and code points past Unicode */
	if ((need == 3 && c < 0x800) || (need == 4 && c < 0x10000) || c > 0x10FFFF ||
	    (c >= 0xD800 && c <= 0xDFFF))
		return 0;
	*cp = c;
	return need;
}

/* Skips an escape sequence that starts at in[i] (ESC or 8-bit CSI); returns the index after it. */
static size_t skip_escape(const unsigned char *in, size_t len, size_t i, bool csi)
{
	unsigned char kind;

	if (!csi) {
		i++;                     /* ESC */
		if (i >= len)
			return i;
		kind = in[i];
		if (kind == '[') {
			csi = true;
			i++;
		} else if (kind == ']' || kind == 'P' || kind == 'X' || kind == '^' || kind == '_') {
			/* string sequences end at BEL or ST (ESC \), or 8-bit ST in UTF-8 form */
			for (i++; i < len; i++) {
				if (in[i] == 0x07)
					return i + 1;
				if (in[i] == 0x1B && i + 1 < len && in[i + 1] == '\\')
					return i + 2;
				if (in[i] == 0x1B)
					return i;  /* a new escape aborts the string */
				if (in[i] == 0xC2 && i + 1 < len && in[i + 1] == 0x9C)
					return i + 2;
			}
			return i;
		} else {
			/* intermediates, then one final byte */
			while (i < len && in[i] >= 0x20 && in[i] <= 0x2F)
				i++;
			return i < len ? i + 1 : i;
		}
	}
	/* CSI: parameter bytes, intermediate bytes, final byte */
	while (i < len && in[i] >= 0x20 && in[i] <= 0x3F)
		i++;
	while (i < len && in[i] >= 0x20 && in[i] <= 0x2F)
		i++;
	if (i < len && in[i] >= 0x40 && in[i] <= 0x7E)
		i++;
	return i;
}

/* True for code points that must never reach a terminal: controls and bidi overrides. */
static bool codepoint_is_hidden(uint32_t cp)
{
	return cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp <= 0x9F) ||
	    (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069) ||
	    cp == 0x200E || cp == 0x200F || cp == 0x061C || cp == 0xFEFF;
}

size_t sanitize_text(const char *input, size_t len, char *out, size_t outsz, unsigned flags)
{
	const unsigned char *in = (const unsigned char *)input;
	static const char replacement[] = "\xEF\xBF\xBD";
	size_t o = 0, i = 0;

	if (outsz == 0)
		return 0;
	while (i < len) {
		uint32_t cp = 0;
		size_t n;
		const char *emit;
		size_t emit_len;
		char ascii;

		if (in[i] >= 0x20 && in[i] < 0x7F) {   /* a run of printable ASCII, as is */
			size_t run = 1;

			while (i + run < len && in[i + run] >= 0x20 && in[i + run] < 0x7F)
				run++;
			if (o + run + 1 > outsz)
				run = outsz - 1 - o;
			memcpy(out + o, in + i, run);
			o += run;
			i += run;
			if (o + 1 == outsz)
				break;
			continue;
		}
		if (in[i] == 0x1B) {
			i = skip_escape(in, len, i, false);
			continue;
		}
		n = utf8_decode(in + i, len - i, &cp);
		if (n == 2 && cp == 0x9B) {     /* 8-bit CSI in UTF-8 form */
			i = skip_escape(in, len, i + 2, true);
			continue;
		}
		if (n == 0) {
			emit = replacement;
			emit_len = 3;
			n = 1;
		} else if (cp == '\t' || cp == '\n' || cp == '\r') {
			emit = " ";
			emit_len = 1;
		} else if (codepoint_is_hidden(cp)) {
			i += n;
			continue;
		} else {
			emit = (const char *)in + i;
			emit_len = n;
		}
		if ((flags & SANITIZE_ASCII) && (unsigned char)emit[0] >= 0x80) {
			ascii = '?';
			emit = &ascii;
			emit_len = 1;
		}
		if (o + emit_len + 1 > outsz)
			break;
		memcpy(out + o, emit, emit_len);
		o += emit_len;
		i += n;
	}
	out[o] = '\0';
	return o;
}

char *sanitize_dup(const char *in, size_t len, size_t max_bytes, unsigned flags)
{
	size_t cap = len * 3 + 1;       /* every byte may become U+FFFD */
	char *out;

	if (cap > max_bytes + 1)
		cap = max_bytes + 1;
	out = xmalloc(cap);
	sanitize_text(in, len, out, cap, flags);
	return out;
}

bool sanitize_is_clean(const char *s)
{
	size_t len = strlen(s);
	char *copy = sanitize_dup(s, len, len, 0);
	bool same = strcmp(copy, s) == 0;

	free(copy);
	return same;
}
