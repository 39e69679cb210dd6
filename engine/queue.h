/*
 * A bounded queue of slots between one producer thread and one consumer
 * thread.  The slots themselves (buffers, batches) live in the caller's
 * array; the queue hands out their indexes.  A slot is the producer's
 * from bq_wait_free until bq_publish and the consumer's from bq_wait_full
 * until bq_release, so the work on a slot (inflate, parse, deflate and
 * write) runs outside the lock, and memory stays bounded by the slots.
 * The record reader's gzip and parsing threads and the writer's deflate
 * thread use it.
 */
#ifndef DAG_QUEUE_H
#define DAG_QUEUE_H

#include <pthread.h>
#include <stddef.h>

struct bqueue {
	pthread_mutex_t mu;
	pthread_cond_t cv;
	size_t n;		/* slots */
	size_t head;		/* the slot the producer fills next */
	size_t tail;		/* the slot the consumer reads next */
	size_t count;		/* published, not yet released */
	int closed;		/* the producer publishes no more */
	int stopped;		/* the consumer wants no more */
	int error;		/* the first bq_fail code, or 0 */
};

/* An empty queue of n slots (n >= 1). */
void bq_init(struct bqueue *q, size_t n);
void bq_destroy(struct bqueue *q);

/*
 * Producer: the index of the slot to fill, waiting while every slot is
 * published and unreleased; -1 once the consumer stopped.
 */
long bq_wait_free(struct bqueue *q);
/* Producer: hand the slot from bq_wait_free to the consumer. */
void bq_publish(struct bqueue *q);
/* Producer: nothing more comes; the consumer drains what was published. */
void bq_close(struct bqueue *q);
/* Producer: wait until the consumer has released every published slot. */
void bq_wait_empty(struct bqueue *q);

/*
 * Consumer: the index of the oldest published slot, waiting while there
 * is none; -1 once the producer closed and every slot was released.
 */
long bq_wait_full(struct bqueue *q);
/*
 * Consumer: the index of the oldest published slot if there is one now,
 * else -1 at once (nothing published yet, or closed and drained).
 */
long bq_peek_full(struct bqueue *q);
/* Consumer: give the slot from bq_wait_full back to the producer. */
void bq_release(struct bqueue *q);
/* Consumer: want no more; a producer waiting for a slot gets -1. */
void bq_stop(struct bqueue *q);

/* Either side: record the first failure (a negative errno). */
void bq_fail(struct bqueue *q, int code);
/* The first failure recorded, or 0. */
int bq_error(struct bqueue *q);

#endif
