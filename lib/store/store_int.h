/*
 * store_int.h - the migrations table shared by store.c and migrations.c.
 * Not installed.
 */
#ifndef ST_STORE_INT_H
#define ST_STORE_INT_H

#include <stddef.h>

struct st_store_migration {
	int	version;	/* user_version after it */
	const char *name;
	const char *sql;
};

extern const struct st_store_migration st_store_migrations[];
extern const size_t st_store_nmigrations;

#endif
