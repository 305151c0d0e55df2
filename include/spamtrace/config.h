/*
 * config.h - the user's configuration: trusted hosts and networks, own
 * addresses, DNS blocklists, tolerances, milter actions.
 *
 * File format (documented in spamtrace(1)): one "key = value" per line,
 * '#' starts a comment, values may be comma-separated lists and keys may
 * repeat (lists accumulate).  Read from /etc/spamtrace.conf,
 * ~/.config/spamtrace/config and --config FILE in that order.
 */
#ifndef SPAMTRACE_CONFIG_H
#define SPAMTRACE_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct st_net {
	uint8_t	addr[16];	/* IPv4 as ::ffff:a.b.c.d */
	int	prefix;		/* in bits, over the 128-bit form */
};

struct st_strlist {
	char  **v;
	size_t	n;
};

enum st_action { ST_ACT_ACCEPT, ST_ACT_TAG, ST_ACT_TEMPFAIL, ST_ACT_REJECT };

struct st_config {
	struct st_net *trust_nets;	/* trust = NET */
	size_t	ntrust_nets;
	struct st_strlist trust_hosts;	/* trust = host or .domain */
	struct st_strlist me;		/* me = addr (repeatable) */
	struct st_strlist dnsbl;	/* dnsbl = zone */
	char   *resolver;		/* resolver = IP[:PORT] */
	int	date_skew_tolerance;	/* seconds, default 86400 */
	int	time_travel_tolerance;	/* seconds, default 900 */
	int	dns_timeout_ms;		/* default 3000 */
	/* milter */
	enum st_action dynamic_direct, backscatter;
	struct st_net *my_outbound_nets;
	size_t	nmy_outbound_nets;
	struct st_strlist my_outbound_hosts;
	struct st_net *trusted_clients;
	size_t	ntrusted_clients;
	bool	fail_open;
	/* Unknown keys are kept so other modules can read them. */
	struct st_strlist extra_keys, extra_values;
};

void	st_config_init(struct st_config *c);
void	st_config_free(struct st_config *c);
/* Read one file; a missing file is ST_EIO (callers may ignore it for the
 * default locations).  Bad lines fail with the file and line named. */
enum st_status st_config_load(struct st_config *c, const char *path,
	    struct st_error *err);
/* Parse a buffer (for tests and fuzzing); name is used in messages. */
enum st_status st_config_parse(struct st_config *c, const char *buf,
	    size_t len, const char *name, struct st_error *err);
/* Apply one "key = value" pair, as from the command line. */
enum st_status st_config_set(struct st_config *c, const char *key,
	    const char *value, struct st_error *err);
/* Append the lists of src (command-line settings) to dst; a resolver in
 * src replaces dst's. */
enum st_status st_config_merge(struct st_config *dst,
	    const struct st_config *src);
/* Add a --trust argument: a CIDR network, an address or a host name. */
enum st_status st_config_add_trust(struct st_config *c, const char *arg,
	    struct st_error *err);

bool	st_net_parse(const char *s, struct st_net *n);
bool	st_net_contains(const struct st_net *nets, size_t n, const char *ip);
void	st_strlist_add(struct st_strlist *l, const char *s);
bool	st_strlist_has_ci(const struct st_strlist *l, const char *s);
const char *st_config_get(const struct st_config *c, const char *key);

#endif
