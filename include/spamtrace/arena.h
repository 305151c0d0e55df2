/*
 * arena.h - per-message bump allocator.
 *
 * Everything derived from one message (headers, hops, findings, decoded
 * strings) lives in its arena and dies with it; nothing is freed one by one.
 * An arena has a ceiling (ST_MAX_ARENA by default); past it, allocation
 * returns NULL and the caller records ST_ELIMIT for that message.
 */
#ifndef SPAMTRACE_ARENA_H
#define SPAMTRACE_ARENA_H

#include <stddef.h>

struct st_arena;

struct st_arena *st_arena_new(size_t max_bytes);	/* 0: ST_MAX_ARENA */
void	st_arena_free(struct st_arena *a);
void	st_arena_reset(struct st_arena *a);	/* keeps the first block */
void   *st_arena_alloc(struct st_arena *a, size_t n);	/* aligned, zeroed */
/* aligned, not zeroed: for memory the caller fills at once (strings) */
void   *st_arena_alloc_raw(struct st_arena *a, size_t n);
char   *st_arena_strndup(struct st_arena *a, const char *p, size_t n);
char   *st_arena_strdup(struct st_arena *a, const char *s);
char   *st_arena_printf(struct st_arena *a, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;
size_t	st_arena_used(const struct st_arena *a);

/* A growable array in an arena: doubles, copying; old blocks stay in the
 * arena (bounded by the ceiling). */
void   *st_arena_grow(struct st_arena *a, void *old, size_t old_n,
	    size_t new_n, size_t elem);

#endif
