/* test_pool.c — engine/pool: every share of a task runs exactly once on distinct threads, the thread limit is
** honoured, nested and concurrent runs fall back to serial (and stay correct), the thread count can change between
** runs, the per-thread scratch buffers are distinct per thread and slot, aligned, kept and grown; and the engine
** keeps OpenBLAS at one thread (vb_blas_set_threads); vb_pool_run_dynamic does every chunk of a shared counter once
** and waits for every call that started. */
#include <setjmp.h> /* cmocka.h needs these four first */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "engine/blas.h"
#include "engine/pool.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>

struct rec {
    atomic_int calls[64];    /* calls per ith */
    atomic_int nth_seen;     /* nth of the last call (all calls of one run must agree) */
    atomic_int nth_mismatch; /* a call saw another nth than the first */
    pthread_t  who[64];      /* thread of each ith */
    atomic_int nested_ok;    /* nested runs that ran serially and completely */
    int        nest;         /* 1: each share starts a nested run */
};

static void nested_fn(void * ctx, int ith, int nth) {
    int * n = ctx;
    if (ith == 0 && nth == 1) (*n)++;
}

static void rec_fn(void * ctx, int ith, int nth) {
    struct rec * r = ctx;
    atomic_fetch_add(&r->calls[ith], 1);
    int expected = 0;
    if (!atomic_compare_exchange_strong(&r->nth_seen, &expected, nth) && expected != nth)
        atomic_fetch_add(&r->nth_mismatch, 1);
    r->who[ith] = pthread_self();
    if (r->nest) {
        int n = 0;
        vb_pool_run(0, nested_fn, &n); /* from inside a task: serial, on this thread */
        if (n == 1) atomic_fetch_add(&r->nested_ok, 1);
    }
}

/* one run with max_threads; returns the nth the task saw and checks every ith ran once */
static int run_once(int max_threads, int nest) {
    struct rec r;
    memset(&r, 0, sizeof r);
    r.nest = nest;
    vb_pool_run(max_threads, rec_fn, &r);
    int nth = atomic_load(&r.nth_seen);
    assert_true(nth >= 1);
    assert_int_equal(atomic_load(&r.nth_mismatch), 0);
    for (int i = 0; i < 64; i++)
        assert_int_equal(atomic_load(&r.calls[i]), i < nth ? 1 : 0);
    for (int i = 0; i < nth; i++)
        for (int j = i + 1; j < nth; j++)
            assert_false(pthread_equal(r.who[i], r.who[j])); /* distinct threads */
    assert_true(pthread_equal(r.who[0], pthread_self()));    /* share 0 on the caller */
    if (nest) assert_int_equal(atomic_load(&r.nested_ok), nth);
    return nth;
}

static void test_run_shares(void ** state) {
    (void)state;
    assert_int_equal(vb_pool_set_threads(4), 4);
    assert_int_equal(vb_pool_threads(), 4);
    for (int rep = 0; rep < 200; rep++) /* many back-to-back runs: no lost wake-up, no share run twice */
        assert_int_equal(run_once(0, 0), 4);
    assert_int_equal(run_once(2, 0), 2);
    assert_int_equal(run_once(1, 0), 1);
    assert_int_equal(run_once(9, 0), 4);
    assert_int_equal(run_once(0, 1), 4); /* nested runs inside every share */
    /* change the count: workers restarted */
    assert_int_equal(vb_pool_set_threads(3), 3);
    assert_int_equal(run_once(0, 0), 3);
    assert_int_equal(vb_pool_set_threads(1), 1);
    assert_int_equal(run_once(0, 0), 1);
    assert_int_equal(vb_pool_set_threads(200), 64); /* capped */
    assert_int_equal(vb_pool_set_threads(2), 2);
    assert_int_equal(run_once(0, 0), 2);
}

/* two application threads running tasks at once: one gets the pool, the other runs serially; both complete */
struct conc {
    int  runs, ok;
    long sum;
};

static void sum_fn(void * ctx, int ith, int nth) {
    long * parts = ctx; /* parts[0..nth): share i adds the numbers i, i + nth, ... below 10000 */
    long   s = 0;
    for (long v = ith; v < 10000; v += nth)
        s += v;
    parts[ith] = s;
    if (ith == 0) parts[63] = nth; /* one writer (TSan) */
}

static void * conc_thread(void * arg) {
    struct conc * c = arg;
    for (int i = 0; i < c->runs; i++) {
        long parts[64];
        memset(parts, 0, sizeof parts);
        vb_pool_run(0, sum_fn, parts);
        long s = 0;
        for (int k = 0; k < parts[63]; k++)
            s += parts[k];
        if (s == 49995000L) c->ok++;
    }
    return NULL;
}

static void test_concurrent_callers(void ** state) {
    (void)state;
    vb_pool_set_threads(2);
    struct conc a = {300, 0, 0}, b = {300, 0, 0};
    pthread_t   t;
    assert_int_equal(pthread_create(&t, NULL, conc_thread, &b), 0);
    conc_thread(&a);
    pthread_join(t, NULL);
    assert_int_equal(a.ok, 300);
    assert_int_equal(b.ok, 300);
}

/* scratch: per thread and slot, aligned, kept between calls while large enough, grown when not */
struct scr {
    void * p[64][2];
};

static void scratch_fn(void * ctx, int ith, int nth) {
    (void)nth;
    struct scr * s = ctx;
    s->p[ith][0] = vb_pool_scratch(VB_SCRATCH_GEMM_A, 1000);
    s->p[ith][1] = vb_pool_scratch(VB_SCRATCH_ATTN, 1000);
    memset(s->p[ith][0], ith + 1, 1000); /* writable; distinct buffers do not overlap */
    memset(s->p[ith][1], ith + 101, 1000);
}

/* vb_pool_run_dynamic: a task of chunks taken from a counter; every chunk is done exactly once whichever threads
** join, ith 0 always runs on the caller, the caller returns only after every call that started has returned (a call
** still running would be counted by `active`), and static runs interleaved with dynamic ones still run every share
** exactly once (a worker left out of a closed dynamic task must join the next static one). */
struct dyn {
    atomic_int next, active, max_after; /* next chunk; calls running; calls seen running after the caller's return */
    atomic_int hits[256];
    atomic_int ran[64];
    int        n;
};

static void dyn_fn(void * ctx, int ith, int nth) {
    (void)nth;
    struct dyn * d = ctx;
    atomic_fetch_add(&d->active, 1);
    atomic_fetch_add(&d->ran[ith], 1);
    for (int c; (c = atomic_fetch_add(&d->next, 1)) < d->n;) {
        atomic_fetch_add(&d->hits[c], 1);
        for (volatile int spin = 0; spin < (c % 7) * 50; spin++) {
        }
    }
    atomic_fetch_sub(&d->active, 1);
}

static void test_run_dynamic(void ** state) {
    (void)state;
    for (int threads = 1; threads <= 4; threads++) {
        vb_pool_set_threads(threads);
        for (int it = 0; it < 2000; it++) {
            struct dyn d;
            memset(&d, 0, sizeof d);
            d.n = 1 + it % 200;
            vb_pool_run_dynamic(0, dyn_fn, &d);
            assert_int_equal(atomic_load(&d.active), 0);
            assert_int_equal(atomic_load(&d.ran[0]), 1);
            int joined = 0;
            for (int i = 0; i < 64; i++) {
                assert_true(atomic_load(&d.ran[i]) <= 1);
                joined += atomic_load(&d.ran[i]);
            }
            assert_true(joined >= 1 && joined <= threads);
            for (int c = 0; c < d.n; c++)
                assert_int_equal(atomic_load(&d.hits[c]), 1);
            if (it % 3 == 0) { /* a static run in between: every share exactly once */
                struct rec r;
                memset(&r, 0, sizeof r);
                vb_pool_run(0, rec_fn, &r);
                for (int i = 0; i < threads; i++)
                    assert_int_equal(atomic_load(&r.calls[i]), 1);
                assert_int_equal(atomic_load(&r.nth_mismatch), 0);
            }
        }
    }
    vb_pool_set_threads(2);
}

static void test_scratch(void ** state) {
    (void)state;
    vb_pool_set_threads(2);
    struct scr s1, s2;
    memset(&s1, 0, sizeof s1);
    memset(&s2, 0, sizeof s2);
    vb_pool_run(0, scratch_fn, &s1);
    vb_pool_run(0, scratch_fn, &s2);
    for (int i = 0; i < 2; i++)
        for (int k = 0; k < 2; k++) {
            assert_non_null(s1.p[i][k]);
            assert_int_equal((uintptr_t)s1.p[i][k] % 64, 0);
            assert_ptr_equal(s1.p[i][k], s2.p[i][k]); /* kept: the same thread gets the same buffer */
        }
    assert_true(s1.p[0][0] != s1.p[1][0] && s1.p[0][0] != s1.p[0][1] && s1.p[1][0] != s1.p[1][1]);
    const unsigned char *a0 = s1.p[0][0], *a1 = s1.p[1][0], *t0 = s1.p[0][1];
    for (int i = 0; i < 1000; i++)
        assert_true(a0[i] == 1 && a1[i] == 2 && t0[i] == 101);
    /* grown on demand, the whole size writable */
    unsigned char * big = vb_pool_scratch(VB_SCRATCH_GEMM_A, (size_t)5 << 20);
    memset(big, 7, (size_t)5 << 20);
    assert_ptr_equal(vb_pool_scratch(VB_SCRATCH_GEMM_A, 100), big); /* smaller requests keep it */
}

/* vb_blas_set_threads sets the engine's threads and keeps OpenBLAS at one; vb_blas_library_threads sets OpenBLAS */
int openblas_get_num_threads(void);

static void test_blas_threads(void ** state) {
    (void)state;
    assert_int_equal(vb_blas_set_threads(2), 2);
    assert_int_equal(vb_blas_threads(), 2);
    assert_int_equal(vb_pool_threads(), 2);
    assert_int_equal(openblas_get_num_threads(), 1);
    assert_int_equal(vb_blas_library_threads(2), 2);
    assert_int_equal(vb_blas_library_threads(1), 1);
    assert_int_equal(vb_blas_threads(), 2); /* the engine's count is separate */
}

int main(void) {
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_run_shares),   cmocka_unit_test(test_concurrent_callers),
        cmocka_unit_test(test_run_dynamic),  cmocka_unit_test(test_scratch),
        cmocka_unit_test(test_blas_threads),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
