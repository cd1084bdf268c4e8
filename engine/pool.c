/* pool.c — persistent worker threads for the engine's kernels (see pool.h). */
#include "engine/pool.h"

#include "base/common.h"

#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <unistd.h>

#define MAX_THREADS 64
/* Microseconds the calling thread of vb_pool_run spins for its workers before yielding the core between checks. */
#define WAIT_SPIN_US 50

/* ticket of the current task: (gen << 32) | TICKET_CLOSED | the workers that joined it (low 31 bits) */
#define TICKET_CLOSED ((uint64_t)1 << 31)
#define TICKET_COUNT  (TICKET_CLOSED - 1)

static struct {
    pthread_mutex_t run_lock; /* held by the thread inside vb_pool_run */
    pthread_mutex_t m;        /* guards gen for sleepers */
    pthread_cond_t  cv;
    int             want;    /* threads asked for */
    int             started; /* workers running (want - 1 when up) */
    pthread_t       tid[MAX_THREADS];
    atomic_uint     gen;    /* bumped once per task (and to stop) */
    atomic_ullong   ticket; /* a worker joins the task of its gen with a compare-and-swap, unless closed */
    atomic_int      done;   /* workers that joined the current task and returned from it */
    atomic_int      quit;
    vb_pool_fn      fn;
    void *          ctx;
    int             nth;
    int             atexit_set;
    unsigned        start_gen; /* gen when the workers were started: the first task they wait for is gen + 1 */
} P = {PTHREAD_MUTEX_INITIALIZER,
       PTHREAD_MUTEX_INITIALIZER,
       PTHREAD_COND_INITIALIZER,
       1,
       0,
       {0},
       0,
       0,
       0,
       0,
       NULL,
       NULL,
       1,
       0,
       0};

static _Thread_local int in_worker;

static void * worker(void * arg) {
    const int ith = (int)(intptr_t)arg;
    in_worker = 1;
    unsigned seen = P.start_gen; /* not atomic_load(&P.gen): the first task may already be posted */
    for (;;) {
        /* spin a little for the next task, then sleep */
        int64_t t0 = 0;
        for (unsigned it = 0; atomic_load_explicit(&P.gen, memory_order_acquire) == seen; it++) {
            vb_cpu_relax();
            if ((it & 255) == 255) {
                int64_t t = vb_time_us();
                if (t0 == 0)
                    t0 = t;
                else if (t - t0 > VB_POOL_SPIN_US) {
                    pthread_mutex_lock(&P.m);
                    while (atomic_load(&P.gen) == seen)
                        pthread_cond_wait(&P.cv, &P.m);
                    pthread_mutex_unlock(&P.m);
                    break;
                }
            }
        }
        seen = atomic_load(&P.gen);
        if (atomic_load(&P.quit)) return NULL;
        /* join task `seen` unless its caller closed it (a dynamic task whose caller finished first) or a later task
        ** replaced it (this worker was delayed past a closed task: it takes the next one on the next pass) */
        uint64_t t = atomic_load(&P.ticket);
        int      joined = 0;
        while ((unsigned)(t >> 32) == seen && !(t & TICKET_CLOSED))
            if (atomic_compare_exchange_weak(&P.ticket, &t, t + 1)) {
                joined = 1;
                break;
            }
        if (!joined) continue;
        if (ith < P.nth) P.fn(P.ctx, ith, P.nth);
        atomic_fetch_add_explicit(&P.done, 1, memory_order_release);
    }
}

/* stop and join the workers (run_lock held or at exit) */
static void stop_workers(void) {
    if (P.started == 0) return;
    atomic_store(&P.quit, 1);
    pthread_mutex_lock(&P.m);
    atomic_fetch_add(&P.gen, 1);
    pthread_cond_broadcast(&P.cv);
    pthread_mutex_unlock(&P.m);
    for (int i = 0; i < P.started; i++)
        pthread_join(P.tid[i + 1], NULL);
    P.started = 0;
    atomic_store(&P.quit, 0);
}

static void at_exit(void) {
    if (pthread_mutex_trylock(&P.run_lock) != 0) return; /* exit() from inside a run: leave them */
    stop_workers();
    pthread_mutex_unlock(&P.run_lock);
}

static int start_workers(void) {
    if (!P.atexit_set) {
        atexit(at_exit);
        P.atexit_set = 1;
    }
    P.start_gen = atomic_load(&P.gen);
    for (int i = 1; i < P.want; i++) {
        if (pthread_create(&P.tid[i], NULL, worker, (void *)(intptr_t)i) != 0) {
            vb_log(VB_LOG_WARN, "thread pool: could not start worker %d; running with %d threads", i, i);
            P.want = i;
            break;
        }
        P.started = i;
    }
    return P.started;
}

int vb_pool_set_threads(int n) {
    if (n <= 0) n = (int)sysconf(_SC_NPROCESSORS_ONLN);
    if (n <= 0) n = 1;
    if (n > MAX_THREADS) n = MAX_THREADS;
    pthread_mutex_lock(&P.run_lock);
    if (n != P.want) {
        stop_workers();
        P.want = n;
    }
    pthread_mutex_unlock(&P.run_lock);
    return n;
}

int vb_pool_threads(void) {
    return P.want;
}

/* run fn on the pool; dynamic: workers that have not joined when the caller's own call returns are left out */
static void pool_run(int max_threads, vb_pool_fn fn, void * ctx, int dynamic) {
    int nth = P.want;
    if (max_threads > 0 && max_threads < nth) nth = max_threads;
    if (nth <= 1 || in_worker || pthread_mutex_trylock(&P.run_lock) != 0) {
        fn(ctx, 0, 1);
        return;
    }
    if (P.started != P.want - 1 && start_workers() < 1) {
        pthread_mutex_unlock(&P.run_lock);
        fn(ctx, 0, 1);
        return;
    }
    if (nth > P.started + 1) nth = P.started + 1;
    P.fn = fn;
    P.ctx = ctx;
    P.nth = nth;
    atomic_store(&P.done, 0);
    unsigned g = atomic_load(&P.gen) + 1;
    atomic_store(&P.ticket, (uint64_t)g << 32); /* before gen: a worker that sees gen g sees this ticket */
    pthread_mutex_lock(&P.m);
    atomic_store(&P.gen, g);
    pthread_cond_broadcast(&P.cv);
    pthread_mutex_unlock(&P.m);
    fn(ctx, 0, nth);
    /* the workers to wait for: all of them (a static task: every part must run), or those that joined before the
    ** ticket was closed here */
    int want = P.started;
    if (dynamic) want = (int)(atomic_fetch_or(&P.ticket, TICKET_CLOSED) & TICKET_COUNT);
    /* wait for them: spin, and after WAIT_SPIN_US give the core away on every check (a worker the machine
    ** descheduled may be waiting for this core: on a shared 2-core VM, 65536 pauses of spinning first were ~3 ms) */
    int64_t t0 = 0;
    for (unsigned it = 0; atomic_load_explicit(&P.done, memory_order_acquire) < want; it++) {
        vb_cpu_relax();
        if ((it & 63) == 63) {
            int64_t t = vb_time_us();
            if (t0 == 0)
                t0 = t;
            else if (t - t0 > WAIT_SPIN_US)
                sched_yield();
        }
    }
    pthread_mutex_unlock(&P.run_lock);
}

void vb_pool_run(int max_threads, vb_pool_fn fn, void * ctx) {
    pool_run(max_threads, fn, ctx, 0);
}

void vb_pool_run_dynamic(int max_threads, vb_pool_fn fn, void * ctx) {
    pool_run(max_threads, fn, ctx, 1);
}

/* ---------------------------------------------------------------- per-thread scratch */

struct scratch {
    void * p[VB_SCRATCH_SLOTS];
    size_t n[VB_SCRATCH_SLOTS];
};

static pthread_key_t  scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;

static void scratch_free(void * v) {
    struct scratch * s = v;
    for (int i = 0; i < VB_SCRATCH_SLOTS; i++)
        free(s->p[i]);
    free(s);
}

static void scratch_init(void) {
    VB_ASSERT(pthread_key_create(&scratch_key, scratch_free) == 0);
}

void * vb_pool_scratch(int slot, size_t bytes) {
    VB_ASSERT(slot >= 0 && slot < VB_SCRATCH_SLOTS);
    pthread_once(&scratch_once, scratch_init);
    struct scratch * s = pthread_getspecific(scratch_key);
    if (!s) {
        s = calloc(1, sizeof *s);
        VB_ASSERT(s && pthread_setspecific(scratch_key, s) == 0);
    }
    if (s->n[slot] < bytes) {
        free(s->p[slot]);
        s->p[slot] = NULL;
        size_t n = (bytes + 4095) / 4096 * 4096;
        VB_ASSERT(posix_memalign(&s->p[slot], 64, n) == 0 && s->p[slot]);
        s->n[slot] = n;
    }
    return s->p[slot];
}
