/*
 * store.c - the case file (SQLite): open, migrate, record messages,
 * reports and deliveries, list cases, record the user's resolution.
 *
 * Every statement is prepared with bound parameters (the values come from
 * spam).  Writes happen inside the caller's BEGIN IMMEDIATE ... COMMIT;
 * migrations run in their own transactions.  WAL journal, synchronous =
 * FULL, foreign keys on, a busy timeout so two runs wait for each other
 * instead of failing.
 *
 * Limits: addressees listed per case are capped at ST_MAX_REPORT_ADDRESSEES
 * (the report module never makes more).
 *
 * Standards: none beyond SQLite's file format; the layout is in
 * migrations.c.
 */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "spamtrace/limits.h"
#include "spamtrace/store.h"
#include "store_int.h"

struct st_store {
	sqlite3 *db;
	char   *path;
};

static enum st_status
db_err(struct st_store *s, struct st_error *err, const char *what)
{
	return st_error_set(err, ST_EDB, "%s: %s: %s", s->path, what,
	    sqlite3_errmsg(s->db));
}

int
st_store_schema_version(void)
{
	return st_store_migrations[st_store_nmigrations - 1].version;
}

enum st_status
st_store_default_path(char *buf, size_t size, struct st_error *err)
{
	const char *x = getenv("XDG_DATA_HOME"), *h = getenv("HOME");
	int n;

	if (x != NULL && *x == '/')
		n = snprintf(buf, size, "%s/spamtrace/cases.sqlite", x);
	else if (h != NULL && *h)
		n = snprintf(buf, size,
		    "%s/.local/share/spamtrace/cases.sqlite", h);
	else
		return st_error_set(err, ST_EINVAL, "no HOME nor "
		    "XDG_DATA_HOME: give the case file with --db");
	if (n < 0 || (size_t)n >= size)
		return st_error_set(err, ST_EINVAL, "case file path too long");
	return ST_OK;
}

/* mkdir -p of the directory part of path (mode 0700). */
static enum st_status
make_parents(const char *path, struct st_error *err)
{
	char buf[4096], *p;

	if (strlen(path) >= sizeof(buf))
		return st_error_set(err, ST_EINVAL, "case file path too long");
	snprintf(buf, sizeof(buf), "%s", path);
	if ((p = strrchr(buf, '/')) == NULL || p == buf)
		return ST_OK;
	*p = '\0';
	for (p = buf + 1; *p; p++) {
		if (*p != '/')
			continue;
		*p = '\0';
		if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
			int e = errno;

			st_error_set(err, ST_EIO, "%s: cannot make directory: "
			    "%s", buf, strerror(e));
			if (err)
				err->sys_errno = e;
			return ST_EIO;
		}
		*p = '/';
	}
	if (mkdir(buf, 0700) != 0 && errno != EEXIST) {
		int e = errno;

		st_error_set(err, ST_EIO, "%s: cannot make directory: %s",
		    buf, strerror(e));
		if (err)
			err->sys_errno = e;
		return ST_EIO;
	}
	return ST_OK;
}

static enum st_status
exec(struct st_store *s, const char *sql, struct st_error *err)
{
	char *msg = NULL;

	if (sqlite3_exec(s->db, sql, NULL, NULL, &msg) != SQLITE_OK) {
		st_error_set(err, ST_EDB, "%s: %s", s->path,
		    msg ? msg : sqlite3_errmsg(s->db));
		sqlite3_free(msg);
		return ST_EDB;
	}
	return ST_OK;
}

int
st_store_version(struct st_store *s)
{
	sqlite3_stmt *st;
	int v = -1;

	if (sqlite3_prepare_v2(s->db, "PRAGMA user_version", -1, &st,
	    NULL) != SQLITE_OK)
		return -1;
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	return v;
}

static enum st_status
migrate(struct st_store *s, struct st_error *err)
{
	size_t i;
	int v;
	char pragma[64];

	for (i = 0; i < st_store_nmigrations; i++) {
		const struct st_store_migration *m = &st_store_migrations[i];

		if (st_store_begin(s, err) != ST_OK)
			return ST_EDB;
		/* read the version inside the transaction: another run may
		 * have migrated meanwhile */
		v = st_store_version(s);
		if (v < 0) {
			st_store_rollback(s);
			return db_err(s, err, "reading the schema version");
		}
		if (v > st_store_schema_version()) {
			st_store_rollback(s);
			return st_error_set(err, ST_EDB, "%s: schema version "
			    "%d is newer than this spamtrace knows (%d)",
			    s->path, v, st_store_schema_version());
		}
		if (v >= m->version) {
			st_store_rollback(s);
			continue;
		}
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d",
		    m->version);
		if (exec(s, m->sql, err) != ST_OK ||
		    exec(s, pragma, err) != ST_OK) {
			st_store_rollback(s);
			return ST_EDB;
		}
		if (st_store_commit(s, err) != ST_OK)
			return ST_EDB;
	}
	return ST_OK;
}

enum st_status
st_store_open(struct st_store **sp, const char *path, struct st_error *err)
{
	struct st_store *s;
	enum st_status rc;
	int fd;

	*sp = NULL;
	if (path == NULL || *path == '\0')
		return st_error_set(err, ST_EINVAL, "no case file path");
	if ((rc = make_parents(path, err)) != ST_OK)
		return rc;
	/* create it private (it holds addresses) before SQLite does */
	if ((fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600)) < 0) {
		int e = errno;

		st_error_set(err, ST_EIO, "%s: %s", path, strerror(e));
		if (err)
			err->sys_errno = e;
		return ST_EIO;
	}
	close(fd);
	if ((s = calloc(1, sizeof(*s))) == NULL ||
	    (s->path = strdup(path)) == NULL) {
		free(s);
		return st_error_set(err, ST_ENOMEM, "out of memory");
	}
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
	    SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		rc = db_err(s, err, "cannot open");
		st_store_close(s);
		return rc;
	}
	sqlite3_busy_timeout(s->db, 10000);
	sqlite3_extended_result_codes(s->db, 1);
	if (exec(s, "PRAGMA journal_mode = WAL", err) != ST_OK ||
	    exec(s, "PRAGMA synchronous = FULL", err) != ST_OK ||
	    exec(s, "PRAGMA foreign_keys = ON", err) != ST_OK) {
		st_store_close(s);
		return ST_EDB;
	}
	/* a file that is not SQLite fails here with a clear message */
	if (st_store_version(s) < 0) {
		rc = db_err(s, err, "not a case file");
		st_store_close(s);
		return rc;
	}
	if ((rc = migrate(s, err)) != ST_OK) {
		st_store_close(s);
		return rc;
	}
	*sp = s;
	return ST_OK;
}

void
st_store_close(struct st_store *s)
{
	if (s == NULL)
		return;
	if (s->db != NULL)
		sqlite3_close(s->db);
	free(s->path);
	free(s);
}

enum st_status
st_store_begin(struct st_store *s, struct st_error *err)
{
	return exec(s, "BEGIN IMMEDIATE", err);
}

enum st_status
st_store_commit(struct st_store *s, struct st_error *err)
{
	if (exec(s, "COMMIT", err) != ST_OK) {
		st_store_rollback(s);
		return ST_EDB;
	}
	return ST_OK;
}

void
st_store_rollback(struct st_store *s)
{
	if (!sqlite3_get_autocommit(s->db))
		sqlite3_exec(s->db, "ROLLBACK", NULL, NULL, NULL);
}

static const char *
nz(const char *s)
{
	return s != NULL ? s : "";
}

static enum st_status
prep(struct st_store *s, const char *sql, sqlite3_stmt **st,
    struct st_error *err)
{
	if (sqlite3_prepare_v2(s->db, sql, -1, st, NULL) != SQLITE_OK)
		return db_err(s, err, "prepare");
	return ST_OK;
}

/* Step a statement that returns no rows, then finalize it. */
static enum st_status
run(struct st_store *s, sqlite3_stmt *st, struct st_error *err)
{
	int rc = sqlite3_step(st);

	sqlite3_finalize(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_err(s, err, "write");
	return ST_OK;
}

static void
bind_text(sqlite3_stmt *st, int i, const char *v)
{
	sqlite3_bind_text(st, i, nz(v), -1, SQLITE_TRANSIENT);
}

enum st_status
st_store_put_message(struct st_store *s, const struct st_store_msg *m,
    int64_t now, int64_t *id, struct st_error *err)
{
	sqlite3_stmt *st;
	enum st_status rc;

	if ((rc = prep(s, "INSERT INTO messages (identity, message_id, path, "
	    "idx, origin_ip, source_ip, org, subject, date, first_seen, "
	    "last_seen) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?10) "
	    "ON CONFLICT (identity) DO UPDATE SET path = ?3, idx = ?4, "
	    "origin_ip = ?5, source_ip = ?6, org = ?7, subject = ?8, "
	    "date = ?9, last_seen = ?10", &st, err)) != ST_OK)
		return rc;
	bind_text(st, 1, m->identity);
	bind_text(st, 2, m->message_id);
	bind_text(st, 3, m->path);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)m->index);
	bind_text(st, 5, m->origin_ip);
	bind_text(st, 6, m->source_ip);
	bind_text(st, 7, m->org);
	bind_text(st, 8, m->subject);
	if (m->has_date)
		sqlite3_bind_int64(st, 9, m->date);
	else
		sqlite3_bind_null(st, 9);
	sqlite3_bind_int64(st, 10, now);
	if ((rc = run(s, st, err)) != ST_OK)
		return rc;
	if ((rc = prep(s, "SELECT id FROM messages WHERE identity = ?1", &st,
	    err)) != ST_OK)
		return rc;
	bind_text(st, 1, m->identity);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return db_err(s, err, "message row");
	}
	*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return ST_OK;
}

enum st_status
st_store_put_report(struct st_store *s, const struct st_store_report *r,
    const int64_t *msg_ids, size_t nmsg, const char *const *to, size_t nto,
    int64_t *id, struct st_error *err)
{
	sqlite3_stmt *st;
	enum st_status rc;
	size_t i, k;

	if ((rc = prep(s, "INSERT INTO reports (report_key, kind, lang, path, "
	    "source_ip, domain, subject, report_msgid, incidents, written) "
	    "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10) "
	    "ON CONFLICT (report_key) DO UPDATE SET path = ?4, "
	    "source_ip = ?5, domain = ?6, subject = ?7, report_msgid = ?8, "
	    "incidents = ?9, written = ?10", &st, err)) != ST_OK)
		return rc;
	bind_text(st, 1, r->key);
	bind_text(st, 2, r->kind);
	bind_text(st, 3, r->lang);
	bind_text(st, 4, r->path);
	bind_text(st, 5, r->source_ip);
	bind_text(st, 6, r->domain);
	bind_text(st, 7, r->subject);
	bind_text(st, 8, r->report_msgid);
	sqlite3_bind_int64(st, 9, (sqlite3_int64)r->incidents);
	sqlite3_bind_int64(st, 10, r->written);
	if ((rc = run(s, st, err)) != ST_OK)
		return rc;
	if ((rc = prep(s, "SELECT id FROM reports WHERE report_key = ?1", &st,
	    err)) != ST_OK)
		return rc;
	bind_text(st, 1, r->key);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_finalize(st);
		return db_err(s, err, "report row");
	}
	*id = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);

	for (i = 0; i < nmsg; i++) {
		if ((rc = prep(s, "INSERT OR IGNORE INTO report_messages "
		    "(report_id, message_ref, pos) VALUES (?1, ?2, ?3)", &st,
		    err)) != ST_OK)
			return rc;
		sqlite3_bind_int64(st, 1, *id);
		sqlite3_bind_int64(st, 2, msg_ids[i]);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)i);
		if ((rc = run(s, st, err)) != ST_OK)
			return rc;
	}
	for (k = 0; k < nto; k++) {
		if ((rc = prep(s, "INSERT OR IGNORE INTO report_rcpts "
		    "(report_id, addressee, status, updated) "
		    "VALUES (?1, ?2, 'written', ?3)", &st, err)) != ST_OK)
			return rc;
		sqlite3_bind_int64(st, 1, *id);
		bind_text(st, 2, to[k]);
		sqlite3_bind_int64(st, 3, r->written);
		if ((rc = run(s, st, err)) != ST_OK)
			return rc;
		for (i = 0; i < nmsg; i++) {
			if ((rc = prep(s, "INSERT OR IGNORE INTO deliveries "
			    "(message_ref, addressee, report_id, status, "
			    "updated) VALUES (?1, ?2, ?3, 'written', ?4)",
			    &st, err)) != ST_OK)
				return rc;
			sqlite3_bind_int64(st, 1, msg_ids[i]);
			bind_text(st, 2, to[k]);
			sqlite3_bind_int64(st, 3, *id);
			sqlite3_bind_int64(st, 4, r->written);
			if ((rc = run(s, st, err)) != ST_OK)
				return rc;
		}
	}
	return ST_OK;
}

enum st_status
st_store_tally(struct st_store *s, int64_t report_id, const char *addr,
    struct st_store_tally *t, struct st_error *err)
{
	sqlite3_stmt *st;
	enum st_status rc;
	int step;

	memset(t, 0, sizeof(*t));
	if ((rc = prep(s, "SELECT d.status FROM report_messages rm "
	    "LEFT JOIN deliveries d ON d.message_ref = rm.message_ref "
	    "AND d.addressee = ?2 WHERE rm.report_id = ?1", &st, err)) !=
	    ST_OK)
		return rc;
	sqlite3_bind_int64(st, 1, report_id);
	bind_text(st, 2, addr);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(st, 0);

		t->messages++;
		if (v == NULL || strcmp(v, "written") == 0)
			t->written++;
		else if (strcmp(v, "sending") == 0)
			t->sending++;
		else if (strcmp(v, "sent") == 0)
			t->sent++;
		else if (strcmp(v, "refused") == 0)
			t->refused++;
		else
			t->failed++;
	}
	sqlite3_finalize(st);
	if (step != SQLITE_DONE)
		return db_err(s, err, "reading deliveries");
	return ST_OK;
}

enum st_status
st_store_set_delivery(struct st_store *s, int64_t report_id,
    const char *addr, const char *state, const char *reply, int64_t when,
    struct st_error *err)
{
	sqlite3_stmt *st;
	enum st_status rc;
	bool sent = strcmp(state, "sent") == 0;

	if ((rc = prep(s, "INSERT INTO report_rcpts (report_id, addressee, "
	    "status, sent, smtp_reply, updated) VALUES (?1, ?2, ?3, ?4, ?5, "
	    "?6) ON CONFLICT (report_id, addressee) DO UPDATE SET "
	    "status = ?3, sent = coalesce(?4, sent), "
	    "smtp_reply = coalesce(?5, smtp_reply), updated = ?6", &st,
	    err)) != ST_OK)
		return rc;
	sqlite3_bind_int64(st, 1, report_id);
	bind_text(st, 2, addr);
	bind_text(st, 3, state);
	if (sent)
		sqlite3_bind_int64(st, 4, when);
	else
		sqlite3_bind_null(st, 4);
	if (reply != NULL)
		bind_text(st, 5, reply);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_int64(st, 6, when);
	if ((rc = run(s, st, err)) != ST_OK)
		return rc;

	if ((rc = prep(s, "INSERT INTO deliveries (message_ref, addressee, "
	    "report_id, status, sent, smtp_reply, updated) "
	    "SELECT message_ref, ?2, ?1, ?3, ?4, ?5, ?6 FROM report_messages "
	    "WHERE report_id = ?1 AND true "
	    "ON CONFLICT (message_ref, addressee) DO UPDATE SET "
	    "report_id = ?1, status = ?3, sent = coalesce(?4, sent), "
	    "smtp_reply = coalesce(?5, smtp_reply), updated = ?6", &st,
	    err)) != ST_OK)
		return rc;
	sqlite3_bind_int64(st, 1, report_id);
	bind_text(st, 2, addr);
	bind_text(st, 3, state);
	if (sent)
		sqlite3_bind_int64(st, 4, when);
	else
		sqlite3_bind_null(st, 4);
	if (reply != NULL)
		bind_text(st, 5, reply);
	else
		sqlite3_bind_null(st, 5);
	sqlite3_bind_int64(st, 6, when);
	if ((rc = run(s, st, err)) != ST_OK)
		return rc;

	if (reply != NULL) {
		if ((rc = prep(s, "UPDATE reports SET smtp_reply = ?2 "
		    "WHERE id = ?1", &st, err)) != ST_OK)
			return rc;
		sqlite3_bind_int64(st, 1, report_id);
		bind_text(st, 2, reply);
		if ((rc = run(s, st, err)) != ST_OK)
			return rc;
	}
	return ST_OK;
}

enum st_status
st_store_resolve(struct st_store *s, int64_t id, const char *text,
    int64_t when, struct st_error *err)
{
	sqlite3_stmt *st;
	enum st_status rc;

	if ((rc = prep(s, "UPDATE reports SET resolution = ?2, resolved = ?3 "
	    "WHERE id = ?1", &st, err)) != ST_OK)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	bind_text(st, 2, text);
	sqlite3_bind_int64(st, 3, when);
	if ((rc = run(s, st, err)) != ST_OK)
		return rc;
	if (sqlite3_changes(s->db) == 0)
		return st_error_set(err, ST_EINVAL, "no case %lld",
		    (long long)id);
	return ST_OK;
}

static const char *
col_text(sqlite3_stmt *st, int i)
{
	return (const char *)sqlite3_column_text(st, i);
}

enum st_status
st_store_cases(struct st_store *s,
    bool (*fn)(const struct st_store_case *c, void *arg), void *arg,
    struct st_error *err)
{
	sqlite3_stmt *st, *rs;
	enum st_status rc;
	int step;

	if ((rc = prep(s, "SELECT r.id, r.kind, r.lang, r.path, r.source_ip, "
	    "r.domain, r.subject, r.report_msgid, r.incidents, r.written, "
	    "r.smtp_reply, r.resolution, r.resolved, "
	    "(SELECT m.message_id FROM report_messages rm JOIN messages m "
	    " ON m.id = rm.message_ref WHERE rm.report_id = r.id "
	    " ORDER BY rm.pos LIMIT 1) "
	    "FROM reports r ORDER BY r.id", &st, err)) != ST_OK)
		return rc;
	if ((rc = prep(s, "SELECT addressee, status, sent, smtp_reply "
	    "FROM report_rcpts WHERE report_id = ?1 ORDER BY rowid", &rs,
	    err)) != ST_OK) {
		sqlite3_finalize(st);
		return rc;
	}
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		struct st_store_case c;
		struct st_store_rcpt rc_[ST_MAX_REPORT_ADDRESSEES];
		char *keep[ST_MAX_REPORT_ADDRESSEES][3];
		size_t n = 0, i, nsent = 0, nsending = 0, nrefused = 0,
		    nfailed = 0;
		bool go;

		memset(&c, 0, sizeof(c));
		c.id = sqlite3_column_int64(st, 0);
		c.kind = nz(col_text(st, 1));
		c.lang = nz(col_text(st, 2));
		c.path = nz(col_text(st, 3));
		c.source_ip = nz(col_text(st, 4));
		c.domain = nz(col_text(st, 5));
		c.subject = nz(col_text(st, 6));
		c.report_msgid = nz(col_text(st, 7));
		c.incidents = (size_t)sqlite3_column_int64(st, 8);
		c.written = sqlite3_column_int64(st, 9);
		c.smtp_reply = col_text(st, 10);
		c.resolution = col_text(st, 11);
		c.has_resolved = sqlite3_column_type(st, 12) != SQLITE_NULL;
		c.resolved = sqlite3_column_int64(st, 12);
		c.message_id = nz(col_text(st, 13));

		sqlite3_reset(rs);
		sqlite3_bind_int64(rs, 1, c.id);
		while (sqlite3_step(rs) == SQLITE_ROW &&
		    n < ST_MAX_REPORT_ADDRESSEES) {
			const char *a = col_text(rs, 0), *stt = col_text(rs, 1),
			    *rp = col_text(rs, 3);

			keep[n][0] = strdup(nz(a));
			keep[n][1] = strdup(nz(stt));
			keep[n][2] = rp ? strdup(rp) : NULL;
			rc_[n].addr = nz(keep[n][0]);
			rc_[n].status = nz(keep[n][1]);
			rc_[n].smtp_reply = keep[n][2];
			rc_[n].has_sent = sqlite3_column_type(rs, 2) !=
			    SQLITE_NULL;
			rc_[n].sent = sqlite3_column_int64(rs, 2);
			if (rc_[n].has_sent && (!c.has_sent ||
			    rc_[n].sent > c.sent)) {
				c.has_sent = true;
				c.sent = rc_[n].sent;
			}
			if (strcmp(rc_[n].status, "sent") == 0)
				nsent++;
			else if (strcmp(rc_[n].status, "sending") == 0)
				nsending++;
			else if (strcmp(rc_[n].status, "refused") == 0)
				nrefused++;
			else if (strcmp(rc_[n].status, "failed") == 0)
				nfailed++;
			n++;
		}
		c.rcpts = rc_;
		c.nrcpts = n;
		c.status = nsending ? "sending" :
		    (n > 0 && nsent == n) ? "sent" :
		    nsent > 0 ? "partial" :
		    nrefused > 0 ? "refused" :
		    nfailed > 0 ? "failed" : "written";
		go = fn(&c, arg);
		for (i = 0; i < n; i++) {
			free(keep[i][0]);
			free(keep[i][1]);
			free(keep[i][2]);
		}
		if (!go) {
			step = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(rs);
	sqlite3_finalize(st);
	if (step != SQLITE_DONE)
		return db_err(s, err, "listing cases");
	return ST_OK;
}
