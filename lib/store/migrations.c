/*
 * migrations.c - the case file's schema, as numbered migrations.
 *
 * Migration N brings a file from user_version N-1 to N.  Never edit a
 * migration that has shipped: add the next one.  Each runs in its own
 * BEGIN IMMEDIATE transaction together with "PRAGMA user_version = N"
 * (store.c), so a file is always at one version or the next.
 *
 * Times are Unix seconds (UTC); states are those of store.h.
 */
#include <stddef.h>

#include "store_int.h"

static const char m001_init[] =
"CREATE TABLE messages (\n"
"  id          INTEGER PRIMARY KEY,\n"
"  identity    TEXT NOT NULL UNIQUE,      -- Message-ID + origin, or a digest\n"
"  message_id  TEXT NOT NULL DEFAULT '',\n"
"  path        TEXT NOT NULL DEFAULT '',  -- where it was read\n"
"  idx         INTEGER NOT NULL DEFAULT 0,-- position in an mbox/Maildir\n"
"  origin_ip   TEXT NOT NULL DEFAULT '',\n"
"  source_ip   TEXT NOT NULL DEFAULT '',\n"
"  org         TEXT NOT NULL DEFAULT '',\n"
"  subject     TEXT NOT NULL DEFAULT '',\n"
"  date        INTEGER,                   -- its Date: header\n"
"  first_seen  INTEGER NOT NULL,\n"
"  last_seen   INTEGER NOT NULL\n"
");\n"
"CREATE TABLE reports (\n"
"  id           INTEGER PRIMARY KEY,       -- the case id\n"
"  report_key   TEXT NOT NULL UNIQUE,\n"
"  kind         TEXT NOT NULL CHECK (kind IN ('letter', 'arf')),\n"
"  lang         TEXT NOT NULL DEFAULT 'en',\n"
"  path         TEXT NOT NULL DEFAULT '',  -- the .eml written\n"
"  source_ip    TEXT NOT NULL DEFAULT '',\n"
"  domain       TEXT NOT NULL DEFAULT '',\n"
"  subject      TEXT NOT NULL DEFAULT '',\n"
"  report_msgid TEXT NOT NULL DEFAULT '',\n"
"  incidents    INTEGER NOT NULL DEFAULT 0,\n"
"  written      INTEGER NOT NULL,\n"
"  smtp_reply   TEXT,                      -- the last reply recorded\n"
"  resolution   TEXT,                      -- the user's free text\n"
"  resolved     INTEGER\n"
");\n"
"CREATE TABLE report_messages (\n"
"  report_id   INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,\n"
"  message_ref INTEGER NOT NULL REFERENCES messages(id),\n"
"  pos         INTEGER NOT NULL,\n"
"  PRIMARY KEY (report_id, message_ref)\n"
");\n"
"CREATE TABLE report_rcpts (\n"
"  report_id   INTEGER NOT NULL REFERENCES reports(id) ON DELETE CASCADE,\n"
"  addressee   TEXT NOT NULL,\n"
"  status      TEXT NOT NULL DEFAULT 'written' CHECK (status IN\n"
"              ('written', 'sending', 'sent', 'refused', 'failed')),\n"
"  sent        INTEGER,\n"
"  smtp_reply  TEXT,\n"
"  updated     INTEGER NOT NULL,\n"
"  PRIMARY KEY (report_id, addressee)\n"
");\n"
"-- one row per (message, addressee): the key that stops a second send\n"
"CREATE TABLE deliveries (\n"
"  message_ref INTEGER NOT NULL REFERENCES messages(id),\n"
"  addressee   TEXT NOT NULL,\n"
"  report_id   INTEGER REFERENCES reports(id) ON DELETE SET NULL,\n"
"  status      TEXT NOT NULL CHECK (status IN\n"
"              ('written', 'sending', 'sent', 'refused', 'failed')),\n"
"  sent        INTEGER,\n"
"  smtp_reply  TEXT,\n"
"  updated     INTEGER NOT NULL,\n"
"  UNIQUE (message_ref, addressee)\n"
");\n"
"CREATE INDEX deliveries_report ON deliveries(report_id);\n";

static const char m002_indexes[] =
"CREATE INDEX messages_origin ON messages(origin_ip);\n"
"CREATE INDEX report_messages_message ON report_messages(message_ref);\n";

const struct st_store_migration st_store_migrations[] = {
	{ 1, "init", m001_init },
	{ 2, "indexes", m002_indexes },
};
const size_t st_store_nmigrations =
    sizeof(st_store_migrations) / sizeof(st_store_migrations[0]);
