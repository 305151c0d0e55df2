/*
 * store.h - the case file: a SQLite database of the messages analysed,
 * the reports written and sent, and what became of them.
 *
 * Default location $XDG_DATA_HOME/spamtrace/cases.sqlite (that is
 * ~/.local/share/spamtrace/cases.sqlite); the parent directories are made
 * (mode 0700) and the file is created mode 0600: it holds addresses.
 *
 * The schema is versioned with PRAGMA user_version and brought up to date
 * by numbered migrations (lib/store/migrations.c), each in its own
 * transaction.  The file is in WAL mode with synchronous=FULL; every write
 * the callers make goes inside st_store_begin() (BEGIN IMMEDIATE) ...
 * st_store_commit(), so a crash leaves the file as it was before the
 * transaction or after it, never in between.
 *
 * Deliveries are keyed by (message identity, addressee): a message sent
 * to an addressee is not sent to it again unless the caller forces it.
 * Delivery states:
 *   written  the report exists as a file, nothing sent
 *   sending  a send was started and its outcome never recorded (the run
 *            was interrupted): the report may or may not have gone out
 *   sent     the smarthost accepted it (2xx after DATA)
 *   refused  the smarthost refused it permanently (5xx)
 *   failed   a temporary refusal (4xx) or a network/TLS failure
 */
#ifndef SPAMTRACE_STORE_H
#define SPAMTRACE_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "error.h"

struct st_store;

/* The schema version this library writes (the last migration). */
int	st_store_schema_version(void);

/* $XDG_DATA_HOME/spamtrace/cases.sqlite, or ~/.local/share/... */
enum st_status st_store_default_path(char *buf, size_t size,
	    struct st_error *err);

/* Open (creating file and parent directories) and migrate.  A file made
 * by a newer spamtrace (user_version past ours) is refused (ST_EDB). */
enum st_status st_store_open(struct st_store **sp, const char *path,
	    struct st_error *err);
void	st_store_close(struct st_store *s);
/* PRAGMA user_version of the open file. */
int	st_store_version(struct st_store *s);

enum st_status st_store_begin(struct st_store *s, struct st_error *err);
enum st_status st_store_commit(struct st_store *s, struct st_error *err);
void	st_store_rollback(struct st_store *s);

struct st_store_msg {
	const char *identity;	/* unique key (st_report_incident) */
	const char *message_id, *path;
	size_t	index;
	const char *origin_ip, *source_ip, *org, *subject;
	bool	has_date;
	int64_t	date;
};
/* Insert or refresh a message; *id gets its row id. */
enum st_status st_store_put_message(struct st_store *s,
	    const struct st_store_msg *m, int64_t now, int64_t *id,
	    struct st_error *err);

struct st_store_report {
	const char *key;	/* unique: same key, same case */
	const char *kind;	/* "letter" | "arf" */
	const char *lang, *path, *source_ip, *domain, *subject;
	const char *report_msgid;	/* Message-ID of the report */
	size_t	incidents;
	int64_t	written;
};
/* Insert or refresh a report with its messages and addressees (new
 * addressee/message pairs start as "written"; existing states are
 * kept).  *id gets the case id. */
enum st_status st_store_put_report(struct st_store *s,
	    const struct st_store_report *r, const int64_t *msg_ids,
	    size_t nmsg, const char *const *to, size_t nto, int64_t *id,
	    struct st_error *err);

/* What the case file knows about sending report id to addr: how many of
 * its messages are in each state for that addressee. */
struct st_store_tally {
	size_t	messages, written, sending, sent, refused, failed;
};
enum st_status st_store_tally(struct st_store *s, int64_t report_id,
	    const char *addr, struct st_store_tally *t,
	    struct st_error *err);

/* Record the state of sending report id to addr (and of each of its
 * messages to addr), with the smarthost's reply (may be NULL). */
enum st_status st_store_set_delivery(struct st_store *s, int64_t report_id,
	    const char *addr, const char *state, const char *reply,
	    int64_t when, struct st_error *err);

/* The user's free-text status of a case ("relay closed").  ST_EINVAL when
 * there is no case id. */
enum st_status st_store_resolve(struct st_store *s, int64_t id,
	    const char *text, int64_t when, struct st_error *err);

/* One case as listed (strings valid during the callback only). */
struct st_store_rcpt {
	const char *addr, *status, *smtp_reply;	/* reply NULL: none */
	bool	has_sent;
	int64_t	sent;
};
struct st_store_case {
	int64_t	id;
	const char *kind, *lang, *path, *source_ip, *domain, *subject,
	    *report_msgid;
	const char *message_id;	/* of the (first) reported message */
	size_t	incidents;
	int64_t	written;
	bool	has_sent;	/* latest accepted send */
	int64_t	sent;
	const char *status;	/* written|sending|sent|partial|refused|
				 * failed (from the addressees) */
	const char *smtp_reply;	/* the last reply recorded, or NULL */
	const char *resolution;	/* the user's text, or NULL */
	bool	has_resolved;
	int64_t	resolved;
	struct st_store_rcpt *rcpts;
	size_t	nrcpts;
};
/* Call fn for every case, oldest first; fn returns false to stop. */
enum st_status st_store_cases(struct st_store *s,
	    bool (*fn)(const struct st_store_case *c, void *arg), void *arg,
	    struct st_error *err);

#endif
