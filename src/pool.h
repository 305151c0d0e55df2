/*
 * pool.h - the ordered worker pool of the trace and bounces commands.
 *
 * The messages of an input are each copied into a slot of their own,
 * worked on by -j threads, each in an arena of its own (the calling thread
 * helps when it has nothing else to do), and handed back in input order by
 * the calling thread, which then reads the next message into the slot.
 * Memory: at most 2 * POOL_BATCH messages, and about two batches' bytes (2
 * * batch_bytes), at a time; the copies kept in free slots for reuse,
 * under two batches' bytes.  With a between step the messages go in
 * batches (at most POOL_BATCH messages and about batch_bytes bytes), each
 * message with its slot's arena: a batch is worked on while the batch
 * before is handed back.
 */
#ifndef SPAMTRACE_POOL_H
#define SPAMTRACE_POOL_H

#include "cli.h"

#define POOL_BATCH	64	/* messages per batch */
#define POOL_THREADS	64	/* at most, whatever -j says */

/* One message, in its slot. */
struct pool_msg {
	struct st_rawmsg rm;	/* rm.data points to data, the slot's copy */
	struct st_arena *a;	/* for work, fresh; NULL when out of memory.
				 * Without a between step it is the thread's
				 * and gone after work: what done reads must
				 * not be in it. */
	void   *item;		/* the command's state (item_size bytes,
				 * zeroed once, kept from message to message) */
	char   *data;		/* the pool's */
	size_t	cap;
};

/* What a command does with each message; ctx is the command's. */
struct pool_ops {
	size_t	item_size;
	size_t	batch_bytes;
	/* In a worker: the work on one message. */
	void	(*work)(void *ctx, struct pool_msg *m);
	/* Optional, in the calling thread, once work is done on the whole
	 * batch (--dns: every lookup of the batch at once); then finish runs
	 * on each message, in the workers. */
	void	(*between)(void *ctx, struct pool_msg *msgs, size_t n);
	void	(*finish)(void *ctx, struct pool_msg *m);
	/* In the calling thread, in input order: the message is done. */
	void	(*done)(void *ctx, struct pool_msg *m);
	/* Optional: frees what an item holds, when the pool is freed. */
	void	(*item_free)(void *item);
};

struct pool;

/* A pool of jobs threads (the calling one included); NULL when out of
 * memory.  ops is copied. */
struct pool *pool_new(const struct pool_ops *ops, void *ctx, int jobs);
/*
 * Every message of path (a message, an mbox, a Maildir, a directory, or -
 * for standard input) through the pool: done has been called for each
 * when this returns.  prog counts messages and bytes over every path of
 * the pool.  A path that cannot be opened or read to its end gets a
 * warning.  Returns EXIT_OK, EXIT_NOINPUT (not opened) or EXIT_PARTIAL (a
 * read error).  Big message copies are freed before it returns.
 */
int	pool_run(struct pool *p, const char *path, struct progress *prog);
/*
 * Runs fn(arg) in one of the pool's threads while the caller goes on (in
 * the calling thread, at once, when there is no other); one job at a time,
 * in order: a second call first sees the first to its end (running it
 * itself if no worker has started it yet, working on messages while a
 * worker runs it).  pool_async_wait() does the same; call it before
 * pool_free().  May be called from done.
 */
void	pool_async(struct pool *p, void (*fn)(void *), void *arg);
void	pool_async_wait(struct pool *p);
void	pool_free(struct pool *p);

#endif
