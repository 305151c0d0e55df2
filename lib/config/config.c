/*
 * config.c - the user's configuration file and command-line settings.
 *
 * Format: one "key = value" per line; '#' to the end of a line is a
 * comment; list values are separated by commas or white space and keys
 * may repeat (lists accumulate).  Keys:
 *
 *   trust = 203.0.113.0/24, mx.example.jp, .example.jp
 *   me = user@example.jp
 *   dnsbl = zone.example
 *   resolver = 127.0.0.1:5353
 *   date_skew_tolerance = 86400      (seconds)
 *   time_travel_tolerance = 900      (seconds)
 *   dns_timeout = 3000               (milliseconds)
 *   dynamic_direct = accept | tag | tempfail | reject
 *   backscatter = accept | tag | reject
 *   my_outbound = 203.0.113.0/24, smtp.example.jp
 *   trusted_clients = 127.0.0.0/8
 *   fail_open = yes | no
 *
 * Unknown keys are kept (st_config_get) for modules that add their own.
 * Bounds: ST_MAX_CONFIG_LINE per line, ST_MAX_CONFIG_LINES lines.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "spamtrace/config.h"
#include "spamtrace/limits.h"

void
st_config_init(struct st_config *c)
{
	memset(c, 0, sizeof(*c));
	c->date_skew_tolerance = 86400;
	c->time_travel_tolerance = 900;
	c->dns_timeout_ms = 3000;
	c->dynamic_direct = ST_ACT_TAG;
	c->backscatter = ST_ACT_TAG;
	c->fail_open = true;
}

static void
strlist_free(struct st_strlist *l)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		free(l->v[i]);
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

void
st_config_free(struct st_config *c)
{
	free(c->trust_nets);
	free(c->my_outbound_nets);
	free(c->trusted_clients);
	strlist_free(&c->trust_hosts);
	strlist_free(&c->me);
	strlist_free(&c->dnsbl);
	strlist_free(&c->my_outbound_hosts);
	strlist_free(&c->extra_keys);
	strlist_free(&c->extra_values);
	free(c->resolver);
	memset(c, 0, sizeof(*c));
}

void
st_strlist_add(struct st_strlist *l, const char *s)
{
	char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
	char *d = strdup(s);

	if (v == NULL || d == NULL) {
		free(d);
		if (v != NULL)
			l->v = v;
		return;
	}
	l->v = v;
	l->v[l->n++] = d;
}

bool
st_strlist_has_ci(const struct st_strlist *l, const char *s)
{
	size_t i;

	for (i = 0; i < l->n; i++)
		if (strcasecmp(l->v[i], s) == 0)
			return true;
	return false;
}

bool
st_net_parse(const char *s, struct st_net *n)
{
	char buf[64], *slash;
	unsigned char b[16];
	long bits = -1;

	if (strlen(s) >= sizeof(buf))
		return false;
	memcpy(buf, s, strlen(s) + 1);
	if ((slash = strchr(buf, '/')) != NULL) {
		char *end;

		*slash = '\0';
		errno = 0;
		bits = strtol(slash + 1, &end, 10);
		if (*end != '\0' || end == slash + 1 || bits < 0)
			return false;
	}
	memset(n, 0, sizeof(*n));
	if (inet_pton(AF_INET, buf, b) == 1) {
		if (bits > 32)
			return false;
		n->addr[10] = n->addr[11] = 0xff;
		memcpy(n->addr + 12, b, 4);
		n->prefix = 96 + (int)(bits < 0 ? 32 : bits);
		return true;
	}
	if (inet_pton(AF_INET6, buf, b) == 1) {
		if (bits > 128)
			return false;
		memcpy(n->addr, b, 16);
		n->prefix = (int)(bits < 0 ? 128 : bits);
		return true;
	}
	return false;
}

static bool
ip_bytes(const char *ip, unsigned char out[16])
{
	unsigned char b[16];

	memset(out, 0, 16);
	if (inet_pton(AF_INET, ip, b) == 1) {
		out[10] = out[11] = 0xff;
		memcpy(out + 12, b, 4);
		return true;
	}
	return inet_pton(AF_INET6, ip, out) == 1;
}

bool
st_net_contains(const struct st_net *nets, size_t n, const char *ip)
{
	unsigned char b[16];
	size_t i;

	/* no networks (the usual case): nothing to read the address for */
	if (n == 0 || ip == NULL || *ip == '\0' || !ip_bytes(ip, b))
		return false;
	for (i = 0; i < n; i++) {
		int bits = nets[i].prefix, k;

		for (k = 0; k < bits / 8; k++)
			if (b[k] != nets[i].addr[k])
				break;
		if (k < bits / 8)
			continue;
		if (bits % 8) {
			unsigned char m = (unsigned char)(0xff << (8 - bits % 8));

			if ((b[k] & m) != (nets[i].addr[k] & m))
				continue;
		}
		return true;
	}
	return false;
}

static enum st_status
add_net(struct st_net **v, size_t *n, const struct st_net *net)
{
	struct st_net *nv = realloc(*v, (*n + 1) * sizeof(*nv));

	if (nv == NULL)
		return ST_ENOMEM;
	*v = nv;
	nv[(*n)++] = *net;
	return ST_OK;
}

/* A list entry: network/address or host name. */
static enum st_status
add_host_or_net(struct st_net **nets, size_t *nn, struct st_strlist *hosts,
    const char *v)
{
	struct st_net net;

	if (st_net_parse(v, &net))
		return add_net(nets, nn, &net);
	if (hosts == NULL)
		return ST_EINVAL;
	st_strlist_add(hosts, v);
	return ST_OK;
}

enum st_status
st_config_add_trust(struct st_config *c, const char *arg, struct st_error *err)
{
	if (*arg == '\0' || strchr(arg, ' '))
		return st_error_set(err, ST_EINVAL, "bad --trust value '%s'",
		    arg);
	return add_host_or_net(&c->trust_nets, &c->ntrust_nets,
	    &c->trust_hosts, arg);
}

static enum st_status
parse_action(const char *v, enum st_action *a, bool tempfail_ok)
{
	if (strcasecmp(v, "accept") == 0)
		*a = ST_ACT_ACCEPT;
	else if (strcasecmp(v, "tag") == 0)
		*a = ST_ACT_TAG;
	else if (strcasecmp(v, "tempfail") == 0 && tempfail_ok)
		*a = ST_ACT_TEMPFAIL;
	else if (strcasecmp(v, "reject") == 0)
		*a = ST_ACT_REJECT;
	else
		return ST_EINVAL;
	return ST_OK;
}

static enum st_status
parse_int(const char *v, int *out, long lo, long hi)
{
	char *end;
	long x;

	errno = 0;
	x = strtol(v, &end, 10);
	if (errno || *end != '\0' || end == v || x < lo || x > hi)
		return ST_EINVAL;
	*out = (int)x;
	return ST_OK;
}

/* Apply key = one item (lists are split by the caller). */
static enum st_status
set_item(struct st_config *c, const char *key, const char *v)
{
	if (strcmp(key, "trust") == 0)
		return add_host_or_net(&c->trust_nets, &c->ntrust_nets,
		    &c->trust_hosts, v);
	if (strcmp(key, "me") == 0) {
		st_strlist_add(&c->me, v);
		return ST_OK;
	}
	if (strcmp(key, "dnsbl") == 0) {
		st_strlist_add(&c->dnsbl, v);
		return ST_OK;
	}
	if (strcmp(key, "my_outbound") == 0)
		return add_host_or_net(&c->my_outbound_nets,
		    &c->nmy_outbound_nets, &c->my_outbound_hosts, v);
	if (strcmp(key, "trusted_clients") == 0)
		return add_host_or_net(&c->trusted_clients,
		    &c->ntrusted_clients, NULL, v);
	return ST_EINVAL;
}

static bool
is_list_key(const char *key)
{
	return strcmp(key, "trust") == 0 || strcmp(key, "me") == 0 ||
	    strcmp(key, "dnsbl") == 0 || strcmp(key, "my_outbound") == 0 ||
	    strcmp(key, "trusted_clients") == 0;
}

enum st_status
st_config_set(struct st_config *c, const char *key, const char *value,
    struct st_error *err)
{
	enum st_status rc = ST_OK;

	if (is_list_key(key)) {
		char *copy = strdup(value), *tok, *save = NULL;

		if (copy == NULL)
			return st_error_set(err, ST_ENOMEM, "out of memory");
		for (tok = strtok_r(copy, ", \t", &save); tok != NULL;
		    tok = strtok_r(NULL, ", \t", &save))
			if ((rc = set_item(c, key, tok)) != ST_OK) {
				st_error_set(err, rc, "%s: bad value '%s'",
				    key, tok);
				break;
			}
		free(copy);
		return rc;
	}
	if (strcmp(key, "resolver") == 0) {
		free(c->resolver);
		c->resolver = strdup(value);
	} else if (strcmp(key, "date_skew_tolerance") == 0)
		rc = parse_int(value, &c->date_skew_tolerance, 0, 86400 * 365);
	else if (strcmp(key, "time_travel_tolerance") == 0)
		rc = parse_int(value, &c->time_travel_tolerance, 0, 86400 * 365);
	else if (strcmp(key, "dns_timeout") == 0)
		rc = parse_int(value, &c->dns_timeout_ms, 1, 600000);
	else if (strcmp(key, "dynamic_direct") == 0)
		rc = parse_action(value, &c->dynamic_direct, true);
	else if (strcmp(key, "backscatter") == 0)
		rc = parse_action(value, &c->backscatter, false);
	else if (strcmp(key, "fail_open") == 0) {
		if (strcasecmp(value, "yes") == 0 ||
		    strcasecmp(value, "true") == 0 || strcmp(value, "1") == 0)
			c->fail_open = true;
		else if (strcasecmp(value, "no") == 0 ||
		    strcasecmp(value, "false") == 0 || strcmp(value, "0") == 0)
			c->fail_open = false;
		else
			rc = ST_EINVAL;
	} else {
		st_strlist_add(&c->extra_keys, key);
		st_strlist_add(&c->extra_values, value);
	}
	if (rc != ST_OK)
		return st_error_set(err, rc, "%s: bad value '%s'", key, value);
	return ST_OK;
}

const char *
st_config_get(const struct st_config *c, const char *key)
{
	size_t i;

	for (i = c->extra_keys.n; i-- > 0;)
		if (strcmp(c->extra_keys.v[i], key) == 0)
			return c->extra_values.v[i];
	return NULL;
}

enum st_status
st_config_parse(struct st_config *c, const char *buf, size_t len,
    const char *name, struct st_error *err)
{
	const char *p = buf, *e = buf + len;
	size_t lineno = 0;
	char line[ST_MAX_CONFIG_LINE + 1];

	while (p < e) {
		const char *nl = memchr(p, '\n', (size_t)(e - p));
		size_t n = (size_t)((nl ? nl : e) - p);
		char *k, *v, *eq, *hash, *t;
		enum st_status rc;

		lineno++;
		if (lineno > ST_MAX_CONFIG_LINES)
			return st_error_set(err, ST_ELIMIT,
			    "%s: more than %d lines", name,
			    ST_MAX_CONFIG_LINES);
		if (n > ST_MAX_CONFIG_LINE)
			return st_error_set(err, ST_ELIMIT,
			    "%s:%zu: line too long", name, lineno);
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl ? nl + 1 : e;
		if (memchr(line, '\0', n) != NULL)
			return st_error_set(err, ST_EPARSE,
			    "%s:%zu: NUL byte", name, lineno);
		if ((hash = strchr(line, '#')) != NULL)
			*hash = '\0';
		for (k = line; isspace((unsigned char)*k); k++)
			;
		if (*k == '\0')
			continue;
		if ((eq = strchr(k, '=')) == NULL)
			return st_error_set(err, ST_EPARSE,
			    "%s:%zu: expected 'key = value'", name, lineno);
		*eq = '\0';
		for (t = eq; t > k && isspace((unsigned char)t[-1]); t--)
			;
		*t = '\0';
		for (v = eq + 1; isspace((unsigned char)*v); v++)
			;
		for (t = v + strlen(v); t > v && isspace((unsigned char)t[-1]);
		    t--)
			;
		*t = '\0';
		if (*k == '\0')
			return st_error_set(err, ST_EPARSE,
			    "%s:%zu: empty key", name, lineno);
		if ((rc = st_config_set(c, k, v, err)) != ST_OK) {
			char tmp[sizeof(err->msg)];

			if (err) {
				snprintf(tmp, sizeof(tmp), "%s:%zu: %s", name,
				    lineno, err->msg);
				memcpy(err->msg, tmp, sizeof(tmp));
			}
			return rc;
		}
	}
	return ST_OK;
}

enum st_status
st_config_load(struct st_config *c, const char *path, struct st_error *err)
{
	FILE *f = fopen(path, "rb");
	char *buf;
	size_t n;
	enum st_status rc;

	if (f == NULL) {
		if (err)
			err->sys_errno = errno;
		return st_error_set(err, ST_EIO, "%s: %s", path,
		    strerror(errno));
	}
	if ((buf = malloc(4 * 1024 * 1024)) == NULL) {
		fclose(f);
		return st_error_set(err, ST_ENOMEM, "out of memory");
	}
	n = fread(buf, 1, 4 * 1024 * 1024, f);
	fclose(f);
	rc = st_config_parse(c, buf, n, path, err);
	free(buf);
	return rc;
}

/*
 * Add what the command line set (src) to a configuration read from files
 * (dst): lists are appended, a resolver given replaces the file's.  The
 * command line comes last, so it wins where a value is single.
 */
enum st_status
st_config_merge(struct st_config *dst, const struct st_config *src)
{
	size_t i;

	for (i = 0; i < src->me.n; i++)
		st_strlist_add(&dst->me, src->me.v[i]);
	for (i = 0; i < src->trust_hosts.n; i++)
		st_strlist_add(&dst->trust_hosts, src->trust_hosts.v[i]);
	for (i = 0; i < src->dnsbl.n; i++)
		st_strlist_add(&dst->dnsbl, src->dnsbl.v[i]);
	for (i = 0; i < src->ntrust_nets; i++)
		if (add_net(&dst->trust_nets, &dst->ntrust_nets,
		    &src->trust_nets[i]) != ST_OK)
			return ST_ENOMEM;
	if (src->resolver != NULL) {
		free(dst->resolver);
		if ((dst->resolver = strdup(src->resolver)) == NULL)
			return ST_ENOMEM;
	}
	return ST_OK;
}
