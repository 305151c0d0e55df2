/*
 * cache.c - the persistent DNS cache: table dns_cache in a SQLite file.
 *
 * DESCRIPTION
 *	Keeps definitive answers (records, NXDOMAIN, NODATA) across runs,
 *	each until its TTL runs out (never longer than ST_DNS_MAX_TTL).
 *	Answers with TTL 0, timeouts and failures are never stored.  The
 *	file may be shared with other modules (the case file): only the
 *	table dns_cache is touched, created IF NOT EXISTS:
 *
 *	  dns_cache(name TEXT, type INTEGER, status INTEGER, data BLOB,
 *	            expires INTEGER, PRIMARY KEY (name, type))
 *
 *	name is lower case; status an enum dns_rstatus; data the items
 *	separated by NUL bytes; expires a Unix time.  Rows are read back
 *	through the same validation as answers from the network (the file
 *	is data, not trusted code).  Expired rows are deleted on open.
 *	The answers of one batch are kept in memory and written at its end
 *	in one short transaction (dns_disk_commit()), so the file is never
 *	locked while we wait for the network (it may be the case file,
 *	which other commands write too).
 *
 * LIMITS
 *	Items per row as for answers (DNS_MAX_ITEMS), item length
 *	ST_DNS_NAME_BUF.  SQLite waits up to 2 s for a busy file.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <arpa/inet.h>
#include <sqlite3.h>

#include "dns/dns_int.h"

struct pending {
	struct pending *next;
	char   *name;
	int	type, status;
	char   *blob;		/* NULL when no items */
	size_t	len;
	long long expires;
};

struct dns_disk {
	sqlite3 *db;
	sqlite3_stmt *get, *put;
	struct pending *pend;
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS dns_cache ("
    " name TEXT NOT NULL, type INTEGER NOT NULL,"
    " status INTEGER NOT NULL, data BLOB, expires INTEGER NOT NULL,"
    " PRIMARY KEY (name, type));";

enum st_status
dns_disk_open(struct dns_disk **dp, const char *path, struct st_error *err)
{
	struct dns_disk *dk;
	char sql[96];

	*dp = NULL;
	if ((dk = calloc(1, sizeof(*dk))) == NULL)
		return st_error_set(err, ST_ENOMEM, "out of memory");
	if (sqlite3_open_v2(path, &dk->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_busy_timeout(dk->db, 2000);
	if (sqlite3_exec(dk->db, schema, NULL, NULL, NULL) != SQLITE_OK)
		goto fail;
	snprintf(sql, sizeof(sql), "DELETE FROM dns_cache WHERE expires <= "
	    "%lld;", (long long)time(NULL));
	(void)sqlite3_exec(dk->db, sql, NULL, NULL, NULL);
	if (sqlite3_prepare_v2(dk->db, "SELECT status, data, expires FROM "
	    "dns_cache WHERE name = ?1 AND type = ?2 AND expires > ?3", -1,
	    &dk->get, NULL) != SQLITE_OK ||
	    sqlite3_prepare_v2(dk->db, "INSERT OR REPLACE INTO dns_cache "
	    "(name, type, status, data, expires) VALUES (?1, ?2, ?3, ?4, ?5)",
	    -1, &dk->put, NULL) != SQLITE_OK)
		goto fail;
	*dp = dk;
	return ST_OK;
fail:
	st_error_set(err, ST_EDB, "dns cache %s: %s", path,
	    dk->db ? sqlite3_errmsg(dk->db) : "cannot open");
	dns_disk_close(dk);
	return ST_EDB;
}

void
dns_disk_commit(struct dns_disk *dk)
{
	struct pending *p, *next;
	bool txn;

	if (dk == NULL || dk->pend == NULL)
		return;
	txn = sqlite3_exec(dk->db, "BEGIN IMMEDIATE;", NULL, NULL, NULL) ==
	    SQLITE_OK;
	for (p = dk->pend; p != NULL; p = next) {
		next = p->next;
		sqlite3_reset(dk->put);
		sqlite3_bind_text(dk->put, 1, p->name, -1, SQLITE_STATIC);
		sqlite3_bind_int(dk->put, 2, p->type);
		sqlite3_bind_int(dk->put, 3, p->status);
		if (p->blob != NULL)
			sqlite3_bind_blob(dk->put, 4, p->blob, (int)p->len,
			    SQLITE_STATIC);
		else
			sqlite3_bind_null(dk->put, 4);
		sqlite3_bind_int64(dk->put, 5, p->expires);
		(void)sqlite3_step(dk->put);
		sqlite3_reset(dk->put);
		sqlite3_clear_bindings(dk->put);
		free(p->name);
		free(p->blob);
		free(p);
	}
	dk->pend = NULL;
	if (txn)
		(void)sqlite3_exec(dk->db, "COMMIT;", NULL, NULL, NULL);
}

void
dns_disk_close(struct dns_disk *dk)
{
	if (dk == NULL)
		return;
	dns_disk_commit(dk);
	sqlite3_finalize(dk->get);
	sqlite3_finalize(dk->put);
	sqlite3_close(dk->db);
	free(dk);
}

/* An item read back from the file must be what an answer could give. */
static bool
item_ok(int type, const char *s, size_t len)
{
	unsigned char b[16];
	char tmp[INET6_ADDRSTRLEN];
	size_t i;

	switch (type) {
	case DNS_T_PTR:
		return st_dns_valid_hostname(s, len);
	case DNS_T_A:
	case DNS_T_AAAA:
		if (len >= sizeof(tmp))
			return false;
		memcpy(tmp, s, len);
		tmp[len] = '\0';
		return inet_pton(type == DNS_T_A ? AF_INET : AF_INET6, tmp,
		    b) == 1;
	case DNS_T_TXT:
		if (len > ST_DNS_MAX_TXT_LEN)
			return false;
		for (i = 0; i < len; i++)
			if ((unsigned char)s[i] < 0x20 ||
			    (unsigned char)s[i] >= 0x7f)
				return false;
		return true;
	}
	return false;
}

bool
dns_disk_get(struct dns_disk *dk, const char *name, int type,
    struct dns_rrset *rs)
{
	const char *data, *p, *end;
	long long now = (long long)time(NULL), expires;
	int status, len;
	bool ok = false;

	if (dk == NULL)
		return false;
	sqlite3_reset(dk->get);
	sqlite3_bind_text(dk->get, 1, name, -1, SQLITE_STATIC);
	sqlite3_bind_int(dk->get, 2, type);
	sqlite3_bind_int64(dk->get, 3, now);
	if (sqlite3_step(dk->get) != SQLITE_ROW)
		goto out;
	status = sqlite3_column_int(dk->get, 0);
	data = sqlite3_column_blob(dk->get, 1);
	len = sqlite3_column_bytes(dk->get, 1);
	expires = sqlite3_column_int64(dk->get, 2);
	if (status != DNS_R_OK && status != DNS_R_NXDOMAIN &&
	    status != DNS_R_NODATA)
		goto out;
	dns_rrset_clear(rs);
	rs->status = (enum dns_rstatus)status;
	rs->has_ttl = true;
	rs->ttl = (uint32_t)(expires - now > ST_DNS_MAX_TTL ? ST_DNS_MAX_TTL :
	    expires - now);
	for (p = data, end = data ? data + len : NULL; p != NULL && p < end;) {
		const char *z = memchr(p, '\0', (size_t)(end - p));
		size_t l = z ? (size_t)(z - p) : (size_t)(end - p);

		if (l > 0 && item_ok(type, p, l))
			dns_rrset_add(rs, p, l, DNS_MAX_ITEMS);
		p += l + 1;
	}
	if (rs->status == DNS_R_OK && rs->n == 0) {
		dns_rrset_clear(rs);	/* a damaged row: ask again */
		goto out;
	}
	ok = true;
out:
	sqlite3_reset(dk->get);
	sqlite3_clear_bindings(dk->get);
	return ok;
}

void
dns_disk_put(struct dns_disk *dk, const char *name, int type,
    const struct dns_rrset *rs)
{
	char *blob = NULL;
	size_t i, len = 0, o = 0;
	uint32_t ttl;
	struct pending *p;

	if (dk == NULL || !rs->has_ttl || rs->ttl == 0 ||
	    (rs->status != DNS_R_OK && rs->status != DNS_R_NXDOMAIN &&
	    rs->status != DNS_R_NODATA))
		return;
	ttl = rs->ttl > ST_DNS_MAX_TTL ? ST_DNS_MAX_TTL : rs->ttl;
	for (i = 0; i < rs->n; i++)
		len += strlen(rs->item[i]) + 1;
	if (len > 0 && (blob = malloc(len)) == NULL)
		return;
	for (i = 0; i < rs->n; i++) {
		size_t l = strlen(rs->item[i]) + 1;

		memcpy(blob + o, rs->item[i], l);
		o += l;
	}
	if ((p = calloc(1, sizeof(*p))) == NULL ||
	    (p->name = strdup(name)) == NULL) {
		free(p);
		free(blob);
		return;		/* not kept: asked again next run */
	}
	p->type = type;
	p->status = (int)rs->status;
	p->blob = blob;
	p->len = len > 0 ? len - 1 : 0;	/* no NUL after the last item */
	p->expires = (long long)time(NULL) + ttl;
	p->next = dk->pend;
	dk->pend = p;
}
