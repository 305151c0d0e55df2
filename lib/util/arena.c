/*
 * arena.c - per-message bump allocator.
 *
 * Blocks are chained; each allocation is 16-byte aligned and zeroed
 * (st_arena_alloc_raw: not zeroed, for strings written at once).  The
 * total is capped (ST_MAX_ARENA unless the creator says otherwise), so a
 * hostile message can make us fail that message, not exhaust memory.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "spamtrace/arena.h"
#include "spamtrace/limits.h"
#include "util/fmt.h"

#define ARENA_BLOCK	(64 * 1024)
#define ARENA_ALIGN	16

struct block {
	struct block *next;
	size_t	size;		/* usable bytes after the header */
	size_t	used;
	_Alignas(16) unsigned char data[];
};

struct st_arena {
	struct block *head;	/* current block (newest) */
	struct block *first;	/* kept by st_arena_reset() */
	struct block *spare;	/* standard blocks kept for reuse */
	size_t	total;		/* bytes in all blocks */
	size_t	max;
};

static struct block *
block_new(size_t size)
{
	struct block *b = malloc(sizeof(*b) + size);

	if (b == NULL)
		return NULL;
	b->next = NULL;
	b->size = size;
	b->used = 0;
	return b;
}

struct st_arena *
st_arena_new(size_t max_bytes)
{
	struct st_arena *a = calloc(1, sizeof(*a));

	if (a == NULL)
		return NULL;
	a->max = max_bytes ? max_bytes : ST_MAX_ARENA;
	a->first = a->head = block_new(ARENA_BLOCK);
	if (a->first == NULL) {
		free(a);
		return NULL;
	}
	a->total = ARENA_BLOCK;
	return a;
}

void
st_arena_free(struct st_arena *a)
{
	struct block *b, *next;

	if (a == NULL)
		return;
	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	for (b = a->spare; b != NULL; b = next) {
		next = b->next;
		free(b);
	}
	free(a);
}

/*
 * Reset keeps up to ARENA_KEEP standard-size blocks for the next message
 * (a mailbox of similar messages then allocates nothing: no page faults,
 * no malloc); big one-object blocks and the rest are freed.
 */
#define ARENA_KEEP	1

void
st_arena_reset(struct st_arena *a)
{
	struct block *b, *next, *keep = a->spare;
	size_t kept = 0;

	/* spares not used by this message are still spares */
	for (b = keep; b != NULL; b = b->next)
		kept++;
	for (b = a->head; b != NULL; b = next) {
		next = b->next;
		if (b == a->first)
			continue;
		if (b->size == ARENA_BLOCK && kept < ARENA_KEEP) {
			b->next = keep;
			keep = b;
			kept++;
		} else
			free(b);
	}
	a->head = a->first;
	a->first->next = NULL;
	a->first->used = 0;
	a->total = a->first->size;
	a->spare = keep;
}

/*
 * A new block for n bytes (n > 0) that do not fit in the current one.
 * Kept out of st_arena_alloc_raw() so the bump itself saves no registers.
 */
static void *__attribute__((noinline))
alloc_slow(struct st_arena *a, size_t n)
{
	struct block *b;
	size_t want;

	if (n > a->max)
		return NULL;
	want = n > ARENA_BLOCK / 4 ? n : ARENA_BLOCK;
	if (a->total + want > a->max)
		return NULL;
	if (want == ARENA_BLOCK && a->spare != NULL) {
		b = a->spare;
		a->spare = b->next;
		b->next = NULL;
		b->used = 0;
	} else if ((b = block_new(want)) == NULL)
		return NULL;
	a->total += want;
	if (want == n) {
		/* A big object gets a block of its own behind the current
		 * one, so the current block keeps filling. */
		b->next = a->head->next;
		a->head->next = b;
		b->used = n;
		return b->data;
	}
	b->next = a->head;
	a->head = b;
	b->used = n;
	return b->data;
}

/* The bump itself; the memory is not cleared. */
void *
st_arena_alloc_raw(struct st_arena *a, size_t n)
{
	struct block *b = a->head;
	size_t off;

	if (n == 0)
		n = 1;
	off = (b->used + ARENA_ALIGN - 1) & ~(size_t)(ARENA_ALIGN - 1);
	if (n <= a->max && off <= b->size && b->size - off >= n) {
		b->used = off + n;
		return b->data + off;
	}
	return alloc_slow(a, n);
}

void *
st_arena_alloc(struct st_arena *a, size_t n)
{
	void *p = st_arena_alloc_raw(a, n);

	if (p != NULL)
		memset(p, 0, n ? n : 1);
	return p;
}

char *
st_arena_strndup(struct st_arena *a, const char *p, size_t n)
{
	char *s = st_arena_alloc_raw(a, n + 1);

	if (s == NULL)
		return NULL;
	if (n)
		memcpy(s, p, n);
	s[n] = '\0';
	return s;
}

char *
st_arena_strdup(struct st_arena *a, const char *s)
{
	return st_arena_strndup(a, s, strlen(s));
}

char *
st_arena_printf(struct st_arena *a, const char *fmt, ...)
{
	char buf[512], *s;
	va_list ap;
	int n;

	/* most strings are short: format once into the stack, then copy */
	va_start(ap, fmt);
	n = st_vfmt(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	if (n < 0)
		return NULL;
	if ((size_t)n < sizeof(buf))
		return st_arena_strndup(a, buf, (size_t)n);
	if ((s = st_arena_alloc_raw(a, (size_t)n + 1)) == NULL)
		return NULL;
	va_start(ap, fmt);
	st_vfmt(s, (size_t)n + 1, fmt, ap);
	va_end(ap);
	return s;
}

size_t
st_arena_used(const struct st_arena *a)
{
	return a->total;
}

void *
st_arena_grow(struct st_arena *a, void *old, size_t old_n, size_t new_n,
    size_t elem)
{
	void *p;

	if (new_n != 0 && elem > SIZE_MAX / new_n)
		return NULL;
	if ((p = st_arena_alloc_raw(a, new_n * elem)) == NULL)
		return NULL;
	if (old == NULL)
		old_n = 0;
	if (old_n > new_n)
		old_n = new_n;
	if (old_n)
		memcpy(p, old, old_n * elem);
	/* what was not copied is zeroed, as st_arena_alloc() would */
	memset((char *)p + old_n * elem, 0, (new_n - old_n) * elem);
	return p;
}
