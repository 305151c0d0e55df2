/*
 * pool.c - the ordered worker pool of pool.h.
 *
 * The threads live as long as the pool.  Without a between step the
 * 2 * POOL_BATCH slots are a ring: message k of the pool goes into slot
 * k % POOL_SLOTS; the calling thread reads messages into free slots, the
 * workers take them one at a time as they come, and the calling thread
 * hands them back in input order as soon as each is done, reading the
 * next into the slot it frees.  No thread waits for a batch to end: a
 * worker only sleeps when nothing is read yet, the calling thread only when
 * the ring is full, the next to hand back is not done and no message is
 * left to take (else it takes one itself).
 *
 * With a between step (--dns looks up a whole batch at once) the slots are
 * two batches that take turns: the workers take the messages of the batch
 * submitted; the calling thread meanwhile hands back the batch before and
 * reads the next into its slots, then helps until the batch is done.
 *
 * With one job there is no thread and the calling thread does every step
 * in turn.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "pool.h"

/* A message copy bigger than this is freed at the end of each input. */
#define POOL_KEEP_BYTES	(4u * 1024 * 1024)

#define POOL_SLOTS	(2 * POOL_BATCH)

enum phase { PHASE_WORK, PHASE_FINISH };

struct pool {
	struct pool_ops ops;
	void   *ctx;
	struct pool_msg *msgs;		/* POOL_SLOTS slots */
	char   *items;			/* their items, one allocation */
	pthread_t tid[POOL_THREADS];
	int	nt;			/* threads besides the caller */
	uint64_t nmsg, bytes;		/* for the progress line */

	pthread_mutex_t lock;
	pthread_cond_t work;		/* for the workers: something to do,
					 * or quit */
	pthread_cond_t done;		/* for the caller: something ended */
	int	idle;			/* workers waiting on work */
	bool	waiting;		/* the caller waits on done: for a job,
					 * the batch, or message handed */
	bool	quit;
	/* the ring (no between step), under lock */
	uint64_t filled;		/* messages read into slots */
	uint64_t taken;			/* of them, taken by a thread */
	bool	fin[POOL_SLOTS];	/* worked on, not handed back yet */
	uint64_t handed;		/* handed back */
	size_t	capsum;			/* bytes of the slots' copies */
	struct st_arena *arena;		/* the caller's */
	/* the batch submitted (between step), under lock */
	struct pool_msg *cur;		/* NULL: none */
	size_t	n, next, ndone;
	enum phase phase;
	/* pool_async(), under lock */
	void	(*job)(void *);		/* not started yet */
	void   *jobarg;
	bool	jobbusy;		/* started or not, not ended */
};

/*
 * The work on one message, in any thread, in *a: the slot's arena in
 * batches (the between step and finish read it after the work), else the
 * thread's own.  A thread that reuses its arena message after message
 * keeps it in its core's cache; a slot's is cold by the time the ring
 * comes round to it.
 */
static void
work_one(struct pool *p, struct pool_msg *m, struct st_arena **a)
{
	if (*a == NULL)
		*a = st_arena_new(0);
	else
		st_arena_reset(*a);
	m->a = *a;
	p->ops.work(p->ctx, m);
}

/* Runs the waiting job (p->lock held, and held again on return). */
static void
run_job(struct pool *p)
{
	void (*fn)(void *) = p->job;
	void *arg = p->jobarg;

	p->job = NULL;
	pthread_mutex_unlock(&p->lock);
	fn(arg);
	pthread_mutex_lock(&p->lock);
	p->jobbusy = false;
}

/*
 * Called and returns with p->lock held: does one thing there is to do (a
 * job when jobs, a message of the ring, or one of the batch), the lock let
 * go meanwhile.  false when there was nothing.
 */
static bool
run_one(struct pool *p, bool jobs, struct st_arena **ta)
{
	if (jobs && p->job != NULL) {
		run_job(p);
		if (p->waiting)
			pthread_cond_signal(&p->done);
		return true;
	}
	if (p->taken < p->filled) {
		uint64_t i = p->taken++;
		size_t k = (size_t)(i % POOL_SLOTS);

		pthread_mutex_unlock(&p->lock);
		work_one(p, &p->msgs[k], ta);
		p->msgs[k].a = NULL;	/* the thread's: not the slot's */
		pthread_mutex_lock(&p->lock);
		p->fin[k] = true;
		/* the caller waits only for the next to hand back */
		if (p->waiting && i == p->handed)
			pthread_cond_signal(&p->done);
		return true;
	}
	if (p->cur != NULL && p->next < p->n) {
		struct pool_msg *m = &p->cur[p->next++];
		enum phase ph = p->phase;

		pthread_mutex_unlock(&p->lock);
		if (ph == PHASE_WORK)
			work_one(p, m, &m->a);
		else
			p->ops.finish(p->ctx, m);
		pthread_mutex_lock(&p->lock);
		if (++p->ndone == p->n && p->waiting)
			pthread_cond_signal(&p->done);
		return true;
	}
	return false;
}

static void *
worker(void *arg)
{
	struct pool *p = arg;
	struct st_arena *a = NULL;	/* this thread's */

	pthread_mutex_lock(&p->lock);
	while (!p->quit) {
		if (run_one(p, true, &a))
			continue;
		p->idle++;
		pthread_cond_wait(&p->work, &p->lock);
		p->idle--;
	}
	pthread_mutex_unlock(&p->lock);
	st_arena_free(a);
	return NULL;
}

/* Under lock: the caller sleeps until a worker ends something. */
static void
wait_done(struct pool *p)
{
	p->waiting = true;
	pthread_cond_wait(&p->done, &p->lock);
	p->waiting = false;
}

static void
submit(struct pool *p, struct pool_msg *msgs, size_t n, enum phase ph)
{
	pthread_mutex_lock(&p->lock);
	p->cur = msgs;
	p->n = n;
	p->next = p->ndone = 0;
	p->phase = ph;
	if (p->idle > 0)
		pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
}

/* The calling thread helps with the submitted batch until it is done. */
static void
help_and_wait(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	while (run_one(p, false, &p->arena))
		;
	while (p->ndone < p->n)
		wait_done(p);
	p->cur = NULL;
	pthread_mutex_unlock(&p->lock);
}

struct pool *
pool_new(const struct pool_ops *ops, void *ctx, int jobs)
{
	struct pool *p;
	size_t k, stride;

	if ((p = calloc(1, sizeof(*p))) == NULL)
		return NULL;
	p->ops = *ops;
	p->ctx = ctx;
	/* items are laid out one after the other, each aligned for anything */
	stride = (ops->item_size + _Alignof(max_align_t) - 1) /
	    _Alignof(max_align_t) * _Alignof(max_align_t);
	if ((p->msgs = calloc(POOL_SLOTS, sizeof(*p->msgs))) == NULL ||
	    (stride > 0 &&
	    (p->items = calloc(POOL_SLOTS, stride)) == NULL)) {
		free(p->msgs);
		free(p);
		return NULL;
	}
	for (k = 0; stride > 0 && k < POOL_SLOTS; k++)
		p->msgs[k].item = p->items + k * stride;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->work, NULL);
	pthread_cond_init(&p->done, NULL);
	if (jobs > POOL_THREADS)
		jobs = POOL_THREADS;
	for (p->nt = 0; p->nt < jobs - 1; p->nt++)
		if (pthread_create(&p->tid[p->nt], NULL, worker, p) != 0)
			break;
	return p;
}

/*
 * Reads the next message of in into m (the reader's buffer is reused: a
 * copy); false, with *st what stopped it, at the end or on an error.
 */
static bool
read_one(struct pool *p, struct st_input *in, struct pool_msg *m,
    enum st_status *st)
{
	struct st_rawmsg rm;

	if ((*st = st_input_next(in, &rm)) != ST_OK)
		return false;
	if (rm.len > m->cap) {
		char *nd = realloc(m->data, rm.len);

		if (nd == NULL) {
			rm.error = ST_ENOMEM;
			snprintf(rm.errmsg, sizeof(rm.errmsg),
			    "out of memory");
			rm.len = 0;
		} else {
			p->capsum += rm.len - m->cap;
			m->data = nd;
			m->cap = rm.len;
		}
	}
	if (rm.len)
		memcpy(m->data, rm.data, rm.len);
	m->rm = rm;
	m->rm.data = m->data;
	return true;
}

/*
 * Reads up to one batch of in into msgs; *st is what stopped it: ST_OK at
 * a full batch.  Returns the count.
 */
static size_t
read_batch(struct pool *p, struct st_input *in, struct pool_msg *msgs,
    enum st_status *st)
{
	size_t n = 0, bytes = 0;

	*st = ST_OK;
	while (n < POOL_BATCH && bytes < p->ops.batch_bytes &&
	    read_one(p, in, &msgs[n], st))
		bytes += msgs[n++].rm.len;
	return n;
}

/* Hands back a finished batch, in input order. */
static void
hand_back(struct pool *p, struct st_input *in, struct pool_msg *msgs,
    size_t n, struct progress *prog)
{
	size_t k;

	for (k = 0; k < n; k++)
		p->ops.done(p->ctx, &msgs[k]);
	p->nmsg += n;
	progress_update(prog, p->nmsg, p->bytes + st_input_bytes_read(in));
}

/* Every message of in through the batches (a between step); returns what
 * stopped the reading. */
static enum st_status
run_batches(struct pool *p, struct st_input *in, struct progress *prog)
{
	struct pool_msg *set[2] = { p->msgs, p->msgs + POOL_BATCH };
	size_t n[2] = { 0, 0 };
	enum st_status st;
	int cur = 0;

	n[cur] = read_batch(p, in, set[cur], &st);
	while (n[cur] > 0) {
		submit(p, set[cur], n[cur], PHASE_WORK);
		/* meanwhile: the batch before, then the next in its slots */
		if (n[!cur] > 0)
			hand_back(p, in, set[!cur], n[!cur], prog);
		n[!cur] = st == ST_OK ? read_batch(p, in, set[!cur], &st) : 0;
		help_and_wait(p);
		p->ops.between(p->ctx, set[cur], n[cur]);
		submit(p, set[cur], n[cur], PHASE_FINISH);
		help_and_wait(p);
		cur = !cur;
	}
	if (n[!cur] > 0)
		hand_back(p, in, set[!cur], n[!cur], prog);
	return st;
}

/* Sleeping workers are woken when this many messages wait for them (or
 * when the caller stops reading): one wake-up per message costs more than
 * the message on a busy machine. */
#define POOL_WAKE	(POOL_BATCH / 4)

/*
 * Every message of in through the ring; returns what stopped the reading.
 * The caller's order of preference: hand back the next message when it is
 * done, read one more while a slot is free and the messages in the ring
 * hold less than two batches' bytes, take a message to work on, sleep.
 */
static enum st_status
run_ring(struct pool *p, struct st_input *in, struct progress *prog)
{
	enum st_status st = ST_OK;
	size_t inring = 0;		/* bytes of the messages in the ring */
	bool eof = false;

	pthread_mutex_lock(&p->lock);
	for (;;) {
		size_t k = (size_t)(p->handed % POOL_SLOTS);

		if (p->handed < p->taken && p->fin[k]) {
			struct pool_msg *m = &p->msgs[k];

			p->fin[k] = false;
			pthread_mutex_unlock(&p->lock);
			p->ops.done(p->ctx, m);
			inring -= m->rm.len;
			/* the copies kept in free slots stay under two
			 * batches' bytes in all, whatever the sizes */
			if (p->capsum > 2 * p->ops.batch_bytes) {
				p->capsum -= m->cap;
				free(m->data);
				m->data = NULL;
				m->cap = 0;
			}
			progress_update(prog, ++p->nmsg,
			    p->bytes + st_input_bytes_read(in));
			pthread_mutex_lock(&p->lock);
			p->handed++;
			continue;
		}
		if (!eof && p->filled - p->handed < POOL_SLOTS &&
		    inring < 2 * p->ops.batch_bytes) {
			struct pool_msg *m = &p->msgs[p->filled % POOL_SLOTS];

			/* a free slot: no other thread looks at it */
			pthread_mutex_unlock(&p->lock);
			if (!read_one(p, in, m, &st))
				eof = true;
			else
				inring += m->rm.len;
			pthread_mutex_lock(&p->lock);
			if (!eof && ++p->filled - p->taken >= POOL_WAKE &&
			    p->idle > 0)
				pthread_cond_broadcast(&p->work);
			continue;
		}
		if (eof && p->handed == p->filled)
			break;
		if (p->idle > 0 && p->taken < p->filled)
			pthread_cond_broadcast(&p->work);
		if (!run_one(p, false, &p->arena))
			wait_done(p);
	}
	pthread_mutex_unlock(&p->lock);
	return st;
}

int
pool_run(struct pool *p, const char *path, struct progress *prog)
{
	struct st_input *in;
	struct st_error err;
	enum st_status st;
	size_t k;

	if (st_input_open(&in, path, &err) != ST_OK) {
		cli_warn("%s", err.msg);
		return EXIT_NOINPUT;
	}
	if (p->ops.between != NULL)
		st = run_batches(p, in, prog);
	else
		st = run_ring(p, in, prog);
	p->bytes += st_input_bytes_read(in);
	/* every message is handed back before in (which their rm.path
	 * points into) is closed */
	st_input_close(in);
	if (st != ST_EOF)
		cli_warn("%s: read error", path);
	/* give the memory of big messages back between inputs */
	for (k = 0; k < POOL_SLOTS; k++) {
		struct pool_msg *m = &p->msgs[k];

		if (m->cap > POOL_KEEP_BYTES) {
			p->capsum -= m->cap;
			free(m->data);
			m->data = NULL;
			m->cap = 0;
		}
	}
	return st == ST_EOF ? EXIT_OK : EXIT_PARTIAL;
}

/*
 * Under lock: until the job is over.  One no worker has started yet is
 * run here (a worker may be busy, or not on a CPU, for longer than the job
 * takes); while a worker runs it, the caller works on messages.
 */
static void
job_finish(struct pool *p)
{
	while (p->jobbusy) {
		if (p->job != NULL)
			run_job(p);
		else if (!run_one(p, false, &p->arena))
			wait_done(p);
	}
}

void
pool_async(struct pool *p, void (*fn)(void *), void *arg)
{
	if (p->nt == 0) {
		fn(arg);
		return;
	}
	pthread_mutex_lock(&p->lock);
	job_finish(p);
	p->job = fn;
	p->jobarg = arg;
	p->jobbusy = true;
	if (p->idle > 0)
		pthread_cond_signal(&p->work);
	pthread_mutex_unlock(&p->lock);
}

void
pool_async_wait(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	job_finish(p);
	pthread_mutex_unlock(&p->lock);
}

void
pool_free(struct pool *p)
{
	size_t k;
	int t;

	if (p == NULL)
		return;
	pthread_mutex_lock(&p->lock);
	p->quit = true;
	pthread_cond_broadcast(&p->work);
	pthread_mutex_unlock(&p->lock);
	for (t = 0; t < p->nt; t++)
		pthread_join(p->tid[t], NULL);
	pthread_cond_destroy(&p->work);
	pthread_cond_destroy(&p->done);
	pthread_mutex_destroy(&p->lock);
	for (k = 0; k < POOL_SLOTS; k++) {
		struct pool_msg *m = &p->msgs[k];

		if (p->ops.item_free != NULL)
			p->ops.item_free(m->item);
		if (m->a != NULL)
			st_arena_free(m->a);
		free(m->data);
	}
	st_arena_free(p->arena);
	free(p->items);
	free(p->msgs);
	free(p);
}
