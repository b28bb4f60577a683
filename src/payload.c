/* Reading what an app's endpoints answer: the running version, and a one-line summary. */
#include "config.h"

#include "payload.h"
#include "sanitize.h"
#include "xmalloc.h"

#include <ctype.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Follows an RFC 6901 pointer; NULL (with err) when a step is missing. */
static json_t *json_pointer_get(json_t *root, const char *pointer, char *err, size_t errsz)
{
	json_t *cur = root;
	const char *p = pointer;

	while (*p) {
		char token[256];
		size_t t = 0;

		if (*p != '/') {
			snprintf(err, errsz, "bad JSON pointer");
			return NULL;
		}
		p++;
		while (*p && *p != '/') {
			char c = *p++;

			if (c == '~') {
				if (*p == '0')
					c = '~';
				else if (*p == '1')
					c = '/';
				else {
					snprintf(err, errsz, "bad ~ escape in the JSON pointer");
					return NULL;
				}
				p++;
			}
			if (t + 1 >= sizeof token) {
				snprintf(err, errsz, "JSON pointer step too long");
				return NULL;
			}
			token[t++] = c;
		}
		token[t] = '\0';
		if (json_is_object(cur)) {
			cur = json_object_get(cur, token);
		} else if (json_is_array(cur)) {
			char *end;
			unsigned long idx = strtoul(token, &end, 10);

			cur = (*token && *end == '\0' && isdigit((unsigned char)token[0])) ?
			    json_array_get(cur, idx) : NULL;
		} else {
			cur = NULL;
		}
		if (!cur) {
			char shown[64];

			sanitize_text(pointer, strlen(pointer), shown, sizeof shown, 0);
			snprintf(err, errsz, "the JSON has nothing at %s", shown);
			return NULL;
		}
	}
	return cur;
}

/* Names a JSON value's type for messages. */
static const char *json_type_name(const json_t *v)
{
	switch (json_typeof(v)) {
	case JSON_OBJECT:
		return "an object";
	case JSON_ARRAY:
		return "a list";
	case JSON_TRUE:
	case JSON_FALSE:
		return "a boolean";
	case JSON_NULL:
		return "null";
	default:
		return "a value";
	}
}

/* True when a body looks like an HTML document. */
static bool looks_like_html(const char *body, size_t len)
{
	size_t i = 0;

	while (i < len && isspace((unsigned char)body[i]))
		i++;
	return i < len && body[i] == '<';
}

/* Copies the first non-blank line of a body, sanitized and trimmed. */
static void first_line(const char *body, size_t len, char *out, size_t outsz)
{
	size_t start = 0, end;

	while (start < len && isspace((unsigned char)body[start]))
		start++;
	end = start;
	while (end < len && body[end] != '\n' && body[end] != '\r')
		end++;
	while (end > start && isspace((unsigned char)body[end - 1]))
		end--;
	sanitize_text(body + start, end - start, out, outsz, 0);
}

bool payload_version(const char *body, size_t len, const char *pointer,
    char *out, size_t outsz, char *err, size_t errsz)
{
	json_error_t jerr;
	json_t *root, *v;
	bool ok = false;

	out[0] = '\0';
	err[0] = '\0';
	if (len == 0) {
		snprintf(err, errsz, "empty body");
		return false;
	}
	root = json_loadb(body, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES | JSON_ALLOW_NUL, &jerr);
	if (!root) {
		if (pointer[0] == '\0' && !looks_like_html(body, len)) {
			first_line(body, len, out, outsz);
			if (out[0])
				return true;
			snprintf(err, errsz, "empty body");
			return false;
		}
		if (looks_like_html(body, len))
			snprintf(err, errsz, "expected JSON, got an HTML page");
		else
			snprintf(err, errsz, "malformed JSON at line %d column %d", jerr.line, jerr.column);
		return false;
	}
	v = json_pointer_get(root, pointer, err, errsz);
	if (!v) {
		/* err set */
	} else if (json_is_string(v)) {
		sanitize_text(json_string_value(v), json_string_length(v), out, outsz, 0);
		ok = out[0] != '\0';
		if (!ok)
			snprintf(err, errsz, "the version is an empty string");
	} else if (json_is_integer(v)) {
		snprintf(out, outsz, "%lld", (long long)json_integer_value(v));
		ok = true;
	} else if (json_is_real(v)) {
		snprintf(out, outsz, "%g", json_real_value(v));
		ok = true;
	} else {
		snprintf(err, errsz, "expected a string at %.60s, got %s", pointer[0] ? pointer : "the top",
		    json_type_name(v));
	}
	json_decref(root);
	return ok;
}

/* Finds the text of <title> in an HTML page. */
static bool html_title(const char *body, size_t len, char *out, size_t outsz)
{
	for (size_t i = 0; i + 7 <= len; i++) {
		if (strncasecmp(body + i, "<title>", 7) == 0) {
			size_t start = i + 7, end = start;

			while (end < len && body[end] != '<')
				end++;
			first_line(body + start, end - start, out, outsz);
			return out[0] != '\0';
		}
	}
	return false;
}

void payload_summary(const char *body, size_t len, char *out, size_t outsz)
{
	static const char *const fields[] = { "reason", "error", "message", "detail", "status" };
	json_t *root;

	out[0] = '\0';
	if (len == 0)
		return;
	root = json_loadb(body, len, JSON_DECODE_ANY | JSON_ALLOW_NUL, NULL);
	if (root) {
		if (json_is_object(root)) {
			for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
				json_t *v = json_object_get(root, fields[i]);

				if (json_is_string(v) && json_string_length(v) > 0) {
					sanitize_text(json_string_value(v), json_string_length(v), out, outsz, 0);
					break;
				}
			}
		}
		json_decref(root);
		if (out[0])
			return;
	}
	if (looks_like_html(body, len)) {
		if (!html_title(body, len, out, outsz))
			snprintf(out, outsz, "an HTML page");
		return;
	}
	first_line(body, len, out, outsz);
}
