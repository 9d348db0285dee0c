/* numaexp workload executor: runs a numaexp Workload inside a Linux guest.
 *
 * Built once on the host (gcc -static -O2 -pthread) and put in the guest's
 * initramfs. It reads a line-based spec (written by numaexp.kernel.setup,
 * spec_text), and runs the workload's lifecycles as the model defines them
 * (numaexp/model/workload.py; the simulator's numaexp/sim/engine/lifecycle.py):
 *
 * - t0, the measurement start, is when the executor starts forking; the
 *   first sample is taken then. Each process is forked at t0 + start_s
 *   (a process with first_touch_node VMAs is forked before t0, allocates
 *   them, and its main thread waits until t0 + start_s: the model allocates
 *   them before the run).
 * - A process's threads are created by their creator (the main thread, a
 *   listed thread, or the hidden main thread of main_thread = "sleeps")
 *   when it starts or when its phase of that index ends, back to back in
 *   listed order (a thread's start_s delays its creation); each starts its
 *   first phase as soon as it exists. The hidden main thread creates its
 *   threads, then waits until the end (like pthread_join).
 * - Barriers: the threads of a process that are in a phase with a barrier
 *   wait for each other after each pass ("pass") or at the phase's end
 *   ("phase"); leaving such a phase, or exiting, leaves the barrier and
 *   releases the others if they were only waiting for it. The barrier lives
 *   in the shared control page (a PTHREAD_PROCESS_SHARED mutex and a futex
 *   generation word, so that the launcher can break it at the stop).
 * - Duty cycles: after run_s of the thread's CPU time (CLOCK_THREAD_CPUTIME_ID)
 *   it sleeps sleep_s (fixed or exponential) with clock_nanosleep.
 * - A thread that ends reads its own task/<tid>/sched and stat, then exits;
 *   the last thread of a process whose main thread works waits instead (so
 *   that the process's memory stays mapped for the last sample); a hidden
 *   main thread waits until the end.
 * - Background ("busy" or a custom Background): one more process, forked
 *   before t0, with a thread bound to each CPU waking at exponential
 *   intervals, periodic daemons and duty-cycled tenants, all spinning for
 *   their CPU time, never touching memory beyond their stacks.
 *
 * Only the launcher writes to stdout (children leave what they report in
 * shared memory), so records never interleave. Records:
 *   @vma PROC VMA START_HEX BYTES            where a VMA was mapped
 *   @task PROC THREAD PID TID CREATED_S CPU CREATOR_CPU
 *                                            a listed thread (PID TID 0: never created;
 *                                            CPU: where it first ran, CREATOR_CPU:
 *                                            where its creator ran when creating it)
 *   @err WHERE ERRNO MESSAGE                 a system call refused (e.g. mbind EINVAL)
 *   @sample SEQ TIME_S                       start of a sample, then file dumps:
 *   @file PATH / @line TEXT ... / @eof       the content of a guest file
 *   @stat PID TID TOUCHES DONE FIN_S         work counters of a thread
 *   @final TIME_S                            then each thread's sched and stat (as it ended)
 *   @end TIME_S STATUS                       all done (STATUS 1: max_duration_s reached)
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/futex.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define MAXP 16      /* processes */
#define MAXV 16      /* VMAs per process */
#define MAXT 256     /* listed threads in all (replicas included) */
#define MAXPH 8      /* phases per thread */
#define MAXPAT 8     /* patterns per phase */
#define MAXCG 32     /* cgroups */
#define MAXERR 64    /* errors kept from child processes */
#define SNAP 16384   /* bytes of a task's sched file kept when it ends */
#define STATSNAP 1024
#define PAGE 4096UL
#define HPAGE (2UL << 20)

enum { K_SWEEP, K_UNIFORM, K_HOTSET, K_ZIPF, K_GAUSSIAN };
enum { E_NONE, E_PASSES, E_TOUCHES, E_DURATION };
enum { B_NONE, B_PASS, B_PHASE };
#define C_MAIN (-2)  /* creator of a process's main thread: the launcher's fork */
#define C_HIDDEN (-1) /* creator: the hidden main thread (main_thread = "sleeps") */

struct pattern {
	int vma, kind, stride;
	unsigned long start, len;      /* bytes, already sliced */
	double share, write, hot_fraction, hot_size, hot_offset, alpha, mean, sigma;
	double *zipf_cdf;              /* zipf: cumulative popularity by rank */
	unsigned long npages;
};
struct phase {
	int end; double value; int barrier; double run_s, sleep_s; int sleep_exp;
	int npat; struct pattern pat[MAXPAT];
};
struct vma {
	char name[64]; unsigned long bytes; int thp, shared, ft_node, object;
	int mode, flags; unsigned long mask; char *addr;
};
struct thread {
	char name[64]; int proc; int ncpu; int cpus[256]; int mode, flags; unsigned long mask;
	int creator, after; double start_s;
	int nphase; struct phase ph[MAXPH];
};
struct proc {
	char name[64]; char cgroup[256]; int nvma; struct vma v[MAXV]; int sleeps; double start_s;
	int prefork;   /* has first_touch_node VMAs: forked and allocated before t0 */
	int main;      /* index of its main thread (main_thread = "works"), else -1 */
};
struct background {
	int on, ncpus, daemons, tenants;
	double kw_rate, kw_run_us, d_period_s, d_run_ms, t_run_ms, t_sleep_ms;
};

/* shared by every process (MAP_SHARED, mapped before any fork) */
struct pshared {
	volatile int pid, forked, ready, go, leader_exited, live, holder;
	volatile unsigned long addr[MAXV];
	pthread_mutex_t lock;          /* PTHREAD_PROCESS_SHARED */
	volatile int members, waiting; /* barrier: threads in a barrier phase, waiting ones */
	volatile int gen;              /* barrier generation: the futex its waiters sleep on */
};
struct tshared {
	volatile int spawned, pid, tid, cpu0, creator_cpu, done, sched_len, stat_len;
	volatile long touches;
	volatile double created, fin;
	char sched[SNAP], stat[STATSNAP];
};
struct ctl {
	volatile int stop, release, go_bg, bg_ready, nerr;
	volatile double t0;
	char err[MAXERR][256];
	struct pshared p[MAXP];
	struct tshared t[MAXT];
};

static struct proc P[MAXP];
static struct thread T[MAXT];
static struct background BG;
static int np, nt, ncg, nnodes;
static char CG[MAXCG][256];
static double interval = 1.0, duration = 0, max_duration = 60;
static int stop_work = 1;
static unsigned long long seed = 1;
static struct ctl *ctl;
static double t0;
static int in_child;
static char filebuf[1 << 20];

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double thread_cpu(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static struct timespec to_ts(double s)
{
	struct timespec ts;
	if (s < 0) s = 0;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
	return ts;
}

static long sys_mbind(void *a, unsigned long len, int mode, unsigned long *mask, unsigned long max,
		      unsigned flags)
{
	return syscall(SYS_mbind, a, len, mode, mask, max, flags);
}

static long sys_set_mempolicy(int mode, unsigned long *mask, unsigned long max)
{
	return syscall(SYS_set_mempolicy, mode, mask, max);
}

/* futexes on the shared page: not FUTEX_PRIVATE, the launcher wakes them too */
static void fwait(volatile int *a, int val, const struct timespec *rel)
{
	syscall(SYS_futex, a, FUTEX_WAIT, val, rel, NULL, 0);
}

static void fwake(volatile int *a)
{
	syscall(SYS_futex, a, FUTEX_WAKE, INT_MAX, NULL, NULL, 0);
}

static void report_err(const char *where, int err, const char *what)
{
	if (!in_child) {
		printf("@err %s %d %s: %s\n", where, err, what, strerror(err));
		fflush(stdout);
		return;
	}
	int k = __atomic_fetch_add(&ctl->nerr, 1, __ATOMIC_SEQ_CST);
	if (k < MAXERR)
		snprintf(ctl->err[k], sizeof ctl->err[k], "@err %s %d %s: %s", where, err, what,
			 strerror(err));
}

static void die(const char *msg)
{
	if (in_child) {
		int k = __atomic_fetch_add(&ctl->nerr, 1, __ATOMIC_SEQ_CST);
		if (k < MAXERR) snprintf(ctl->err[k], sizeof ctl->err[k], "@fatal %s", msg);
		_exit(2);
	}
	printf("@fatal %s\n", msg);
	fflush(stdout);
	exit(2);
}

/* ---------------- spec ---------------- */
static int kind_of(const char *s)
{
	if (!strcmp(s, "sweep")) return K_SWEEP;
	if (!strcmp(s, "uniform")) return K_UNIFORM;
	if (!strcmp(s, "hotset")) return K_HOTSET;
	if (!strcmp(s, "zipf")) return K_ZIPF;
	if (!strcmp(s, "gaussian")) return K_GAUSSIAN;
	die("unknown pattern kind");
	return -1;
}

/* Lines (numaexp.kernel.setup.spec_text writes them):
 *   run KIND DURATION_S MAX_DURATION_S INTERVAL_S SEED NNODES
 *   cgroup PATH
 *   background NCPUS KTHREAD_WAKEUPS_PER_S KTHREAD_RUN_US DAEMONS DAEMON_PERIOD_S
 *              DAEMON_RUN_MS TENANTS TENANT_RUN_MS TENANT_SLEEP_MS
 *   proc NAME CGROUP SLEEPS START_S
 *   vma NAME BYTES THP SHARED OBJECT FIRST_TOUCH_NODE MODE FLAGS MASK_HEX
 *   thread NAME CPUS MODE FLAGS MASK_HEX CREATOR AFTER_PHASE START_S
 *       CREATOR: index of the creating thread line (0-based, all processes), -1 the
 *       hidden main thread, -2 this is the process's main thread; AFTER_PHASE -1: when
 *       the creator starts, k: when the creator's phase k ends
 *   phase END VALUE BARRIER RUN_S SLEEP_S SLEEP_EXP   (BARRIER 0 none, 1 pass, 2 phase;
 *       RUN_S 0: no duty cycle)
 *   pat VMA KIND START LEN SHARE WRITE STRIDE HOT_FRACTION HOT_SIZE HOT_OFFSET ALPHA MEAN SIGMA
 */
static void read_spec(FILE *f)
{
	char line[4096], word[32];
	struct proc *p = NULL;
	struct thread *t = NULL;
	struct phase *ph = NULL;
	while (fgets(line, sizeof line, f)) {
		if (sscanf(line, "%31s", word) != 1 || word[0] == '#')
			continue;
		if (!strcmp(word, "run")) {
			char kind[16];
			if (sscanf(line, "run %15s %lf %lf %lf %llu %d", kind, &duration, &max_duration,
				   &interval, &seed, &nnodes) != 6) die("bad run line");
			stop_work = !strcmp(kind, "work");
		} else if (!strcmp(word, "cgroup")) {
			if (ncg >= MAXCG) die("too many cgroups");
			sscanf(line, "cgroup %255s", CG[ncg++]);
		} else if (!strcmp(word, "background")) {
			if (sscanf(line, "background %d %lf %lf %d %lf %lf %d %lf %lf", &BG.ncpus,
				   &BG.kw_rate, &BG.kw_run_us, &BG.daemons, &BG.d_period_s, &BG.d_run_ms,
				   &BG.tenants, &BG.t_run_ms, &BG.t_sleep_ms) != 9) die("bad background line");
			BG.on = 1;
		} else if (!strcmp(word, "proc")) {
			if (np >= MAXP) die("too many processes");
			p = &P[np++];
			if (sscanf(line, "proc %63s %255s %d %lf", p->name, p->cgroup, &p->sleeps,
				   &p->start_s) != 4) die("bad proc line");
			p->main = -1;
		} else if (!strcmp(word, "vma")) {
			if (!p || p->nvma >= MAXV) die("vma line out of place");
			struct vma *v = &p->v[p->nvma++];
			if (sscanf(line, "vma %63s %lu %d %d %d %d %d %d %lx", v->name, &v->bytes, &v->thp,
				   &v->shared, &v->object, &v->ft_node, &v->mode, &v->flags, &v->mask) != 9)
				die("bad vma line");
			if (v->ft_node >= 0) p->prefork = 1;
		} else if (!strcmp(word, "thread")) {
			char cpus[2048], *tok, *save;
			if (!p || nt >= MAXT) die("thread line out of place");
			t = &T[nt++];
			t->proc = np - 1;
			if (sscanf(line, "thread %63s %2047s %d %d %lx %d %d %lf", t->name, cpus, &t->mode,
				   &t->flags, &t->mask, &t->creator, &t->after, &t->start_s) != 8)
				die("bad thread line");
			if (t->creator == C_MAIN) p->main = nt - 1;
			if (strcmp(cpus, "-"))
				for (tok = strtok_r(cpus, ",", &save); tok && t->ncpu < 256;
				     tok = strtok_r(NULL, ",", &save))
					t->cpus[t->ncpu++] = atoi(tok);
		} else if (!strcmp(word, "phase")) {
			char end[16];
			if (!t || t->nphase >= MAXPH) die("phase line out of place");
			ph = &t->ph[t->nphase++];
			if (sscanf(line, "phase %15s %lf %d %lf %lf %d", end, &ph->value, &ph->barrier,
				   &ph->run_s, &ph->sleep_s, &ph->sleep_exp) != 6) die("bad phase line");
			ph->end = !strcmp(end, "passes") ? E_PASSES : !strcmp(end, "touches") ? E_TOUCHES
				: !strcmp(end, "duration") ? E_DURATION : E_NONE;
		} else if (!strcmp(word, "pat")) {
			if (!ph || ph->npat >= MAXPAT) die("pat line out of place");
			struct pattern *q = &ph->pat[ph->npat++];
			char kind[16];
			if (sscanf(line, "pat %d %15s %lu %lu %lf %lf %d %lf %lf %lf %lf %lf %lf", &q->vma,
				   kind, &q->start, &q->len, &q->share, &q->write, &q->stride,
				   &q->hot_fraction, &q->hot_size, &q->hot_offset, &q->alpha, &q->mean,
				   &q->sigma) != 13) die("bad pat line");
			q->kind = kind_of(kind);
			q->npages = q->len / PAGE;
		}
	}
	for (int i = 0; i < nt; i++)
		if (T[i].creator >= nt || (T[i].creator >= 0 && T[T[i].creator].proc != T[i].proc))
			die("bad creator");
}

/* ---------------- memory ---------------- */
static char *map_vma(struct vma *v, int shared)
{
	unsigned long align = v->thp ? HPAGE : PAGE;
	unsigned long span = v->bytes + 2 * align + PAGE;
	int fl = MAP_ANONYMOUS | MAP_NORESERVE | (shared ? MAP_SHARED : MAP_PRIVATE);
	char *raw = mmap(NULL, span, PROT_READ | PROT_WRITE, fl, -1, 0);
	if (raw == MAP_FAILED) die("mmap failed");
	char *a = (char *)(((unsigned long)raw + align - 1) & ~(align - 1));
	/* unmap around it, leaving a hole so that neighbouring VMAs never merge */
	if (a > raw) munmap(raw, a - raw);
	munmap(a + v->bytes, raw + span - (a + v->bytes));
	madvise(a, v->bytes, v->thp ? MADV_HUGEPAGE : MADV_NOHUGEPAGE);
	return a;
}

static void place_vma(struct proc *p, struct vma *v)
{
	char where[160];
	snprintf(where, sizeof where, "%s:%s", p->name, v->name);
	if (v->ft_node >= 0) {
		unsigned long m = 1UL << v->ft_node;
		if (sys_mbind(v->addr, v->bytes, 2 /* MPOL_BIND */, &m, 64, 0))
			report_err(where, errno, "mbind(MPOL_BIND) for first_touch_node");
		for (unsigned long o = 0; o < v->bytes; o += PAGE)
			v->addr[o] = 1;
		if (sys_mbind(v->addr, v->bytes, 0 /* MPOL_DEFAULT */, NULL, 0, 0))
			report_err(where, errno, "mbind(MPOL_DEFAULT) after first touch");
	}
	if (v->mode >= 0 && sys_mbind(v->addr, v->bytes, v->mode | v->flags,
				      v->mask ? &v->mask : NULL, v->mask ? 64 : 0, 0))
		report_err(where, errno, "mbind");
}

/* ---------------- access patterns ---------------- */
static inline uint64_t rnd(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}
static inline double unif(uint64_t *s) { return (rnd(s) >> 11) * (1.0 / 9007199254740992.0); }

static void zipf_table(struct pattern *q)
{
	unsigned long n = q->npages;
	q->zipf_cdf = malloc(n * sizeof(double));
	double acc = 0;
	for (unsigned long r = 0; r < n; r++) q->zipf_cdf[r] = (acc += pow(r + 1.0, -q->alpha));
	for (unsigned long r = 0; r < n; r++) q->zipf_cdf[r] /= acc;
}

static unsigned long coprime_step(unsigned long n)
{
	unsigned long s = (unsigned long)(n * 0.6180339887) | 1;
	for (;; s += 2) {
		unsigned long a = s, b = n;
		while (b) { unsigned long t = a % b; a = b; b = t; }
		if (a == 1) return s % (n ? n : 1);
	}
}

/* page index (within the pattern's region) of one random access */
static unsigned long pick(struct pattern *q, uint64_t *s)
{
	unsigned long n = q->npages;
	double u;
	switch (q->kind) {
	case K_HOTSET: {
		unsigned long h0 = (unsigned long)(q->hot_offset * n), hn = (unsigned long)(q->hot_size * n);
		if (hn < 1) hn = 1;
		if (unif(s) < q->hot_fraction) return h0 + rnd(s) % hn;
		if (n > hn) {
			unsigned long k = rnd(s) % (n - hn);
			return k < h0 ? k : k + hn;
		}
		return rnd(s) % n;
	}
	case K_ZIPF: {
		u = unif(s);
		unsigned long lo = 0, hi = n - 1;
		while (lo < hi) { unsigned long mid = (lo + hi) / 2; if (q->zipf_cdf[mid] < u) lo = mid + 1; else hi = mid; }
		return (lo * coprime_step(n)) % n;  /* a fixed pseudo-random ranking */
	}
	case K_GAUSSIAN:
		for (;;) {
			double g = sqrt(-2 * log(unif(s) + 1e-300)) * cos(6.283185307179586 * unif(s));
			double x = q->mean + q->sigma * g;
			if (x >= 0 && x < 1) return (unsigned long)(x * n);
		}
	default:
		return rnd(s) % n;
	}
}

/* ---------------- lifecycles ---------------- */
static void on_signal(int sig) { (void)sig; }  /* SIGUSR1: cuts a sleep short at the stop */

/* sleep until the CLOCK_MONOTONIC time `when` (s), or until the stop */
static void sleep_until(double when)
{
	struct timespec ts = to_ts(when);
	while (!ctl->stop && clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* a thread's context (also the hidden main thread's, idx -1) */
struct wctx {
	int idx, pi;
	struct pshared *ps;
	uint64_t rng;
	long touches;
	int npend, pend[MAXT];        /* creations delayed by their start_s, by due time */
	double due[MAXT];
	struct phase *ph;
	double phase_start, burst_end;
};

static void *worker(void *arg);

static void create_thread(int j)
{
	struct tshared *ts = &ctl->t[j];
	struct thread *t = &T[j];
	char where[160];
	snprintf(where, sizeof where, "%s/%s", P[t->proc].name, t->name);
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (t->ncpu) {  /* glibc sets it before the new thread runs */
		cpu_set_t set;
		CPU_ZERO(&set);
		for (int c = 0; c < t->ncpu; c++) CPU_SET(t->cpus[c], &set);
		pthread_attr_setaffinity_np(&attr, sizeof set, &set);
	}
	__atomic_add_fetch(&ctl->p[t->proc].live, 1, __ATOMIC_SEQ_CST);
	ts->creator_cpu = sched_getcpu();
	ts->created = now() - ctl->t0;
	ts->spawned = 1;
	pthread_t th;
	int e = pthread_create(&th, &attr, worker, (void *)(long)j);
	if (e == EINVAL && t->ncpu) {  /* an affinity the kernel refuses: the thread reports it */
		pthread_attr_destroy(&attr);
		pthread_attr_init(&attr);
		pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
		e = pthread_create(&th, &attr, worker, (void *)(long)(j | 0x10000));
	}
	pthread_attr_destroy(&attr);
	if (e) {
		report_err(where, e, "pthread_create");
		__atomic_sub_fetch(&ctl->p[t->proc].live, 1, __ATOMIC_SEQ_CST);
		ts->done = 1;
	}
}

/* the creator `creator` (a thread index, or C_HIDDEN) reached its creation point `after` */
static void creation_point(struct wctx *w, int creator, int after)
{
	if (ctl->stop) return;
	double t = now();
	for (int j = 0; j < nt; j++) {
		if (T[j].proc != w->pi || T[j].creator != creator || T[j].after != after) continue;
		if (T[j].start_s <= 0) {
			create_thread(j);
			continue;
		}
		double due = t + T[j].start_s;
		int k = w->npend;
		while (k > 0 && w->due[k - 1] > due) {
			w->due[k] = w->due[k - 1];
			w->pend[k] = w->pend[k - 1];
			k--;
		}
		w->due[k] = due;
		w->pend[k] = j;
		w->npend++;
	}
}

static void create_due(struct wctx *w)
{
	double t = now();
	while (w->npend && w->due[0] <= t && !ctl->stop) {
		create_thread(w->pend[0]);
		w->npend--;
		memmove(w->pend, w->pend + 1, w->npend * sizeof w->pend[0]);
		memmove(w->due, w->due + 1, w->npend * sizeof w->due[0]);
	}
}

/* sleep `d` seconds, creating delayed threads when they are due */
static void duty_sleep(struct wctx *w, double d)
{
	double until = now() + d;
	while (!ctl->stop) {
		if (w->npend && w->due[0] < until) {
			sleep_until(w->due[0]);
			create_due(w);
			continue;
		}
		sleep_until(until);
		return;
	}
}

static void bar_release_locked(struct pshared *ps)
{
	ps->waiting = 0;
	__atomic_add_fetch(&ps->gen, 1, __ATOMIC_SEQ_CST);
	fwake(&ps->gen);
}

static void bar_join(struct pshared *ps)
{
	pthread_mutex_lock(&ps->lock);
	ps->members++;
	pthread_mutex_unlock(&ps->lock);
}

static void bar_leave(struct pshared *ps)
{
	pthread_mutex_lock(&ps->lock);
	ps->members--;
	if (ps->waiting > 0 && ps->waiting >= ps->members) bar_release_locked(ps);
	pthread_mutex_unlock(&ps->lock);
}

/* pthread_barrier_wait with a dynamic membership: the last to arrive wakes the others */
static void bar_wait(struct wctx *w)
{
	struct pshared *ps = w->ps;
	pthread_mutex_lock(&ps->lock);
	int g = ps->gen;
	if (++ps->waiting >= ps->members) {
		bar_release_locked(ps);
		pthread_mutex_unlock(&ps->lock);
		return;
	}
	pthread_mutex_unlock(&ps->lock);
	while (__atomic_load_n(&ps->gen, __ATOMIC_SEQ_CST) == g && !ctl->stop) {
		if (w->npend) {
			double rel = w->due[0] - now();
			if (rel <= 0) { create_due(w); continue; }
			struct timespec ts = to_ts(rel);
			fwait(&ps->gen, g, &ts);
		} else {
			fwait(&ps->gen, g, NULL);
		}
	}
}

/* every few touches: the stop, due creations, the phase's time, the duty cycle.
   Returns 1 when the phase must end now. */
static int poll_work(struct wctx *w)
{
	struct phase *ph = w->ph;
	if (ctl->stop) return 1;
	if (w->npend && w->due[0] <= now()) create_due(w);
	if (ph->end == E_DURATION && now() - w->phase_start >= ph->value) return 1;
	if (ph->run_s > 0 && thread_cpu() >= w->burst_end) {
		double d = ph->sleep_exp ? -ph->sleep_s * log1p(-unif(&w->rng)) : ph->sleep_s;
		duty_sleep(w, d);
		w->burst_end = thread_cpu() + ph->run_s;
		if (ctl->stop) return 1;
		if (ph->end == E_DURATION && now() - w->phase_start >= ph->value) return 1;
	}
	return 0;
}

static void run_phase(struct wctx *w, struct proc *p, struct tshared *ts)
{
	struct phase *ph = w->ph;
	long ptouch = 0;
	double total_share = 0;
	for (int j = 0; j < ph->npat; j++) total_share += ph->pat[j].share;
	if (ph->pat[0].kind == K_SWEEP) {
		struct pattern *q = &ph->pat[0];
		char *base = p->v[q->vma].addr + q->start;
		unsigned long stride = q->stride * PAGE;
		long mask = ph->run_s > 0 ? 15 : 63;
		for (double pass = 0; ; pass += 1) {
			if (ph->end == E_PASSES && pass >= ph->value) return;
			for (unsigned long o = 0; o < q->len; o += stride) {
				if (ph->end == E_PASSES && pass + (double)o / q->len >= ph->value) return;
				if (q->write >= 1 || unif(&w->rng) < q->write)
					memset(base + o, (int)pass, PAGE);
				else {
					volatile long sum = 0;
					for (unsigned long c = 0; c < PAGE; c += 64) sum += base[o + c];
				}
				w->touches++; ptouch++;
				if ((ptouch & mask) == 0) {
					ts->touches = w->touches;
					if (poll_work(w)) return;
				}
				if (ph->end == E_TOUCHES && ptouch >= ph->value) return;
			}
			/* a whole pass: wait for the others unless it ends the phase */
			if (ph->barrier == B_PASS && !(ph->end == E_PASSES && pass + 1 >= ph->value)) {
				ts->touches = w->touches;
				bar_wait(w);
			}
			if (ctl->stop) return;
		}
	}
	for (int j = 0; j < ph->npat; j++)
		if (ph->pat[j].kind == K_ZIPF && !ph->pat[j].zipf_cdf) zipf_table(&ph->pat[j]);
	int batch = ph->run_s > 0 ? 512 : 4096;
	for (;;) {
		for (int b = 0; b < batch; b++) {
			double u = unif(&w->rng) * total_share;
			int j = 0;
			while (j < ph->npat - 1 && u >= ph->pat[j].share) u -= ph->pat[j++].share;
			struct pattern *q = &ph->pat[j];
			unsigned long pg = pick(q, &w->rng);
			if (q->stride > 1) pg -= pg % q->stride;
			volatile char *c = p->v[q->vma].addr + q->start + pg * PAGE + (rnd(&w->rng) & 4032);
			if (unif(&w->rng) < q->write) *c = 1; else (void)*c;
		}
		w->touches += batch; ptouch += batch;
		ts->touches = w->touches;
		if (ph->end == E_TOUCHES && ptouch >= ph->value) return;
		if (poll_work(w)) return;
	}
}

static int read_file(const char *path, char *buf, int cap)
{
	int fd = open(path, O_RDONLY);
	if (fd < 0) return -1;
	int n = 0, r;
	while (n < cap - 1 && (r = read(fd, buf + n, cap - 1 - n)) > 0) n += r;
	close(fd);
	buf[n] = 0;
	return n;
}

/* wait for the launcher's release after the last sample, then end the process */
static void hold_and_exit(void)
{
	while (!__atomic_load_n(&ctl->release, __ATOMIC_SEQ_CST)) fwait(&ctl->release, 0, NULL);
	_exit(0);
}

static void finish(struct wctx *w, int i)
{
	struct tshared *ts = &ctl->t[i];
	char path[128];
	ts->touches = w->touches;
	ts->fin = now() - ctl->t0;
	snprintf(path, sizeof path, "/proc/self/task/%d/sched", ts->tid);
	ts->sched_len = read_file(path, ts->sched, SNAP);
	snprintf(path, sizeof path, "/proc/self/task/%d/stat", ts->tid);
	ts->stat_len = read_file(path, ts->stat, STATSNAP);
	__atomic_store_n(&ts->done, 1, __ATOMIC_SEQ_CST);
	int left = __atomic_sub_fetch(&w->ps->live, 1, __ATOMIC_SEQ_CST);
	if (left == 0 && !P[w->pi].sleeps) {  /* the last one keeps the memory mapped */
		w->ps->holder = ts->tid;
		hold_and_exit();
	}
	if (i == P[w->pi].main) {
		w->ps->leader_exited = 1;
		pthread_exit(NULL);  /* the process lives on with its other threads */
	}
}

static void *worker(void *arg)
{
	int i = (int)(long)arg & 0xffff, own_affinity = ((long)arg >> 16) & 1;
	struct thread *t = &T[i];
	struct proc *p = &P[t->proc];
	struct tshared *ts = &ctl->t[i];
	struct wctx w;
	memset(&w, 0, sizeof w);
	w.idx = i;
	w.pi = t->proc;
	w.ps = &ctl->p[t->proc];
	w.rng = seed * 0x9E3779B97F4A7C15ULL + (i + 1) * 0xD1B54A32D192ED03ULL;
	if (!w.rng) w.rng = 1;
	ts->cpu0 = sched_getcpu();
	ts->pid = getpid();
	__atomic_store_n(&ts->tid, (int)syscall(SYS_gettid), __ATOMIC_SEQ_CST);
	char where[160];
	snprintf(where, sizeof where, "%s/%s", p->name, t->name);
	if (t->ncpu && (own_affinity || i == p->main)) {
		cpu_set_t set;
		CPU_ZERO(&set);
		for (int c = 0; c < t->ncpu; c++) CPU_SET(t->cpus[c], &set);
		if (sched_setaffinity(0, sizeof set, &set)) report_err(where, errno, "sched_setaffinity");
	}
	if (t->mode >= 0 && sys_set_mempolicy(t->mode | t->flags, t->mask ? &t->mask : NULL,
					      t->mask ? 64 : 0))
		report_err(where, errno, "set_mempolicy");
	creation_point(&w, i, -1);
	for (int k = 0; k < t->nphase && !ctl->stop; k++) {
		struct phase *ph = &t->ph[k];
		w.ph = ph;
		w.phase_start = now();
		if (ph->run_s > 0) w.burst_end = thread_cpu() + ph->run_s;
		if (ph->barrier) bar_join(w.ps);
		run_phase(&w, p, ts);
		ts->touches = w.touches;
		if (ph->barrier == B_PHASE && !ctl->stop) bar_wait(&w);
		if (ph->barrier) bar_leave(w.ps);
		creation_point(&w, i, k);
	}
	while (w.npend && !ctl->stop) {  /* threads it creates later: it stays until then */
		sleep_until(w.due[0]);
		create_due(&w);
	}
	finish(&w, i);
	return NULL;
}

static void hidden_main(int pi)
{
	struct wctx w;
	memset(&w, 0, sizeof w);
	w.idx = -1;
	w.pi = pi;
	w.ps = &ctl->p[pi];
	creation_point(&w, C_HIDDEN, -1);
	while (w.npend && !ctl->stop) {
		sleep_until(w.due[0]);
		create_due(&w);
	}
	hold_and_exit();  /* pthread_join: it sleeps until the end */
}

static void run_child(int pi)
{
	struct proc *p = &P[pi];
	struct pshared *ps = &ctl->p[pi];
	char path[512];
	in_child = 1;
	if (strcmp(p->cgroup, "/")) {
		snprintf(path, sizeof path, "/sys/fs/cgroup%s/cgroup.procs", p->cgroup);
		FILE *cg = fopen(path, "w");
		if (!cg || fprintf(cg, "%d\n", getpid()) < 0 || fclose(cg))
			report_err(p->name, errno, "join cgroup");
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_signal;  /* no SA_RESTART: a sleep returns EINTR */
	sigaction(SIGUSR1, &sa, NULL);
	for (int v = 0; v < p->nvma; v++) {
		struct vma *m = &p->v[v];
		m->addr = map_vma(m, m->shared);
		ps->addr[v] = (unsigned long)m->addr;
		place_vma(p, m);
	}
	ps->pid = getpid();
	if (p->prefork) {  /* allocated before t0: wait for the process's start */
		if (p->main >= 0) {  /* its main thread exists: sampled from t0 on */
			ctl->t[p->main].pid = getpid();
			ctl->t[p->main].tid = (int)syscall(SYS_gettid);
		}
		__atomic_store_n(&ps->ready, 1, __ATOMIC_SEQ_CST);
		fwake(&ps->ready);
		while (!__atomic_load_n(&ps->go, __ATOMIC_SEQ_CST) && !ctl->stop) fwait(&ps->go, 0, NULL);
		if (!ps->go) hold_and_exit();
	}
	if (p->sleeps) hidden_main(pi);
	worker((void *)(long)p->main);
	_exit(0);
}

static pid_t fork_process(int pi)
{
	struct pshared *ps = &ctl->p[pi];
	ps->live = P[pi].main >= 0 ? 1 : 0;
	fflush(stdout);  /* a child must not inherit buffered records */
	pid_t pid = fork();
	if (pid < 0) die("fork");
	if (pid == 0) run_child(pi);
	ps->pid = pid;
	ps->forked = 1;
	return pid;
}

/* the launcher starts process pi (now - t0 >= its start_s) */
static void start_process(int pi, pid_t *pids)
{
	struct proc *p = &P[pi];
	struct pshared *ps = &ctl->p[pi];
	if (p->main >= 0) {
		ctl->t[p->main].creator_cpu = sched_getcpu();
		ctl->t[p->main].created = now() - t0;
		ctl->t[p->main].spawned = 1;
	}
	if (p->prefork) {
		__atomic_store_n(&ps->go, 1, __ATOMIC_SEQ_CST);
		fwake(&ps->go);
	} else {
		pids[pi] = fork_process(pi);
	}
}

/* ---------------- background ---------------- */
struct bgspec { double run_s, sleep_s; int exp, cpu; uint64_t rng; };

static void spin(double cpu_s)
{
	double end = thread_cpu() + cpu_s;
	while (thread_cpu() < end)
		for (volatile int k = 0; k < 64; k++)
			;
}

static void *bg_thread(void *arg)
{
	struct bgspec *b = arg;
	if (b->cpu >= 0) {
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(b->cpu, &set);
		if (sched_setaffinity(0, sizeof set, &set)) report_err("background", errno, "sched_setaffinity");
	}
	__atomic_add_fetch(&ctl->bg_ready, 1, __ATOMIC_SEQ_CST);
	while (!__atomic_load_n(&ctl->go_bg, __ATOMIC_SEQ_CST)) fwait(&ctl->go_bg, 0, NULL);
	/* asleep since boot: it first wakes at a random point of its cycle */
	sleep_until(now() + unif(&b->rng) * b->sleep_s);
	while (!ctl->stop) {
		spin(b->run_s);
		double d = b->exp ? -b->sleep_s * log1p(-unif(&b->rng)) : b->sleep_s;
		sleep_until(now() + d);
	}
	return NULL;
}

static int bg_count(void)
{
	return (BG.kw_rate > 0 ? BG.ncpus : 0) + BG.daemons + BG.tenants;
}

static void run_background(void)
{
	in_child = 1;
	int n = bg_count(), k = 0;
	struct bgspec *s = calloc(n ? n : 1, sizeof *s);
	for (int c = 0; BG.kw_rate > 0 && c < BG.ncpus; c++, k++)
		s[k] = (struct bgspec){BG.kw_run_us * 1e-6, 1.0 / BG.kw_rate, 1, c, 0};
	for (int d = 0; d < BG.daemons; d++, k++)
		s[k] = (struct bgspec){BG.d_run_ms * 1e-3, BG.d_period_s - BG.d_run_ms * 1e-3, 0, -1, 0};
	for (int d = 0; d < BG.tenants; d++, k++)
		s[k] = (struct bgspec){BG.t_run_ms * 1e-3, BG.t_sleep_ms * 1e-3, 1, -1, 0};
	for (k = 0; k < n; k++) {
		pthread_t th;
		s[k].rng = seed * 0xBF58476D1CE4E5B9ULL + (k + 1) * 0x94D049BB133111EBULL;
		if (!s[k].rng) s[k].rng = 1;
		pthread_attr_t attr;
		pthread_attr_init(&attr);
		pthread_attr_setstacksize(&attr, 64 << 10);
		if (pthread_create(&th, &attr, bg_thread, &s[k])) die("background pthread_create");
		pthread_attr_destroy(&attr);
	}
	hold_and_exit();
}

/* ---------------- sampling ---------------- */
static void dump_text(const char *path, const char *text)
{
	printf("@file %s\n", path);
	const char *s = text;
	while (*s) {
		const char *e = strchr(s, '\n');
		int len = e ? (int)(e - s) : (int)strlen(s);
		printf("@line %.*s\n", len, s);
		if (!e) break;
		s = e + 1;
	}
	printf("@eof\n");
}

static void dump(const char *path)
{
	if (read_file(path, filebuf, sizeof filebuf) < 0) return;
	dump_text(path, filebuf);
}

/* a live thread of process pi whose numa_maps shows the process's VMAs (0: the leader) */
static int maps_tid(int pi)
{
	if (P[pi].sleeps || !ctl->p[pi].leader_exited) return 0;
	if (ctl->p[pi].holder) return ctl->p[pi].holder;
	for (int i = 0; i < nt; i++)
		if (T[i].proc == pi && ctl->t[i].tid && !ctl->t[i].done && i != P[pi].main)
			return ctl->t[i].tid;
	return 0;
}

static void sample(int seq)
{
	char path[512];
	printf("@sample %d %.6f\n", seq, now() - t0);
	dump("/proc/vmstat");
	for (int n = 0; n < nnodes; n++) {
		snprintf(path, sizeof path, "/sys/devices/system/node/node%d/meminfo", n);
		dump(path);
		snprintf(path, sizeof path, "/sys/devices/system/node/node%d/vmstat", n);
		dump(path);
	}
	for (int pi = 0; pi < np; pi++) {
		int pid = ctl->p[pi].pid;
		if (!pid) continue;
		int tid = maps_tid(pi);
		if (tid) snprintf(path, sizeof path, "/proc/%d/task/%d/numa_maps", pid, tid);
		else snprintf(path, sizeof path, "/proc/%d/numa_maps", pid);
		dump(path);
	}
	for (int i = 0; i < nt; i++) {
		struct tshared *ts = &ctl->t[i];
		if (!ts->tid) continue;
		snprintf(path, sizeof path, "/proc/%d/task/%d/stat", ts->pid, ts->tid);
		int done = __atomic_load_n(&ts->done, __ATOMIC_SEQ_CST);
		if (done && ts->stat_len > 0) dump_text(path, ts->stat);  /* as it ended */
		else dump(path);
		printf("@stat %d %d %ld %d %.6f\n", ts->pid, ts->tid, ts->touches, done,
		       done ? ts->fin : -1.0);
	}
	for (int c = 0; c < ncg; c++) {
		snprintf(path, sizeof path, "/sys/fs/cgroup%.255s/memory.stat", CG[c]);
		dump(path);
		snprintf(path, sizeof path, "/sys/fs/cgroup%.255s/memory.numa_stat", CG[c]);
		dump(path);
	}
	fflush(stdout);
}

static void signal_threads(void)
{
	for (int i = 0; i < nt; i++) {
		struct tshared *ts = &ctl->t[i];
		if (ts->tid && !ts->done) syscall(SYS_tgkill, ts->pid, ts->tid, SIGUSR1);
	}
}

static void stop_all(void)
{
	__atomic_store_n(&ctl->stop, 1, __ATOMIC_SEQ_CST);
	for (int pi = 0; pi < np; pi++) {
		__atomic_add_fetch(&ctl->p[pi].gen, 1, __ATOMIC_SEQ_CST);
		fwake(&ctl->p[pi].gen);
		fwake(&ctl->p[pi].go);
	}
	signal_threads();
}

int main(int argc, char **argv)
{
	if (argc != 2) die("usage: executor SPEC");
	FILE *f = fopen(argv[1], "r");
	if (!f) die("cannot open spec");
	read_spec(f);
	fclose(f);
	setvbuf(stdout, NULL, _IOFBF, 1 << 16);
	ctl = mmap(NULL, sizeof *ctl, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ctl == MAP_FAILED) die("mmap ctl");
	pthread_mutexattr_t ma;
	pthread_mutexattr_init(&ma);
	pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
	for (int pi = 0; pi < np; pi++) pthread_mutex_init(&ctl->p[pi].lock, &ma);
	for (int i = 0; i < nt; i++) ctl->t[i].created = -1;

	/* before t0: the background, and the processes that allocate memory before the run */
	pid_t pids[MAXP] = {0}, bgpid = 0;
	if (BG.on && bg_count()) {
		fflush(stdout);
		bgpid = fork();
		if (bgpid < 0) die("fork");
		if (bgpid == 0) run_background();
	}
	for (int pi = 0; pi < np; pi++)
		if (P[pi].prefork) pids[pi] = fork_process(pi);
	for (int pi = 0; pi < np; pi++)
		if (P[pi].prefork)
			while (!__atomic_load_n(&ctl->p[pi].ready, __ATOMIC_SEQ_CST))
				fwait(&ctl->p[pi].ready, 0, NULL);
	for (int w = 0; bgpid && ctl->bg_ready < bg_count() && w < 60000; w++) usleep(1000);
	for (int pi = 0; pi < np; pi++) {
		if (!pids[pi]) continue;
		for (int v = 0; v < P[pi].nvma; v++)
			printf("@vma %s %s %lx %lu\n", P[pi].name, P[pi].v[v].name, ctl->p[pi].addr[v],
			       P[pi].v[v].bytes);
	}

	t0 = now();
	ctl->t0 = t0;
	__atomic_store_n(&ctl->go_bg, 1, __ATOMIC_SEQ_CST);
	fwake(&ctl->go_bg);
	int seq = 0, started = 0, status = 0;
	sample(seq++);
	double limit = stop_work ? max_duration : duration;
	int is_started[MAXP] = {0};
	for (;;) {
		double el = now() - t0;
		for (int pi = 0; pi < np; pi++)
			if (!is_started[pi] && P[pi].start_s <= el + 1e-9 && el < limit) {
				start_process(pi, pids);
				is_started[pi] = 1;
				started++;
			}
		el = now() - t0;
		int all = started == np;
		for (int i = 0; i < nt; i++) all &= ctl->t[i].done;
		if (el >= limit - 1e-9) { status = stop_work ? 1 : 0; break; }
		if (all && stop_work) break;
		if (el >= seq * interval - 1e-9) {
			sample(seq++);
			fprintf(stderr, "@progress %.3f %.3f\n", now() - t0, limit);
			continue;
		}
		double next = seq * interval;
		for (int pi = 0; pi < np; pi++)
			if (!is_started[pi] && P[pi].start_s < next) next = P[pi].start_s;
		if (limit < next) next = limit;
		sleep_until(t0 + next);
	}
	/* the stop: wake every sleeper and waiter, wait for each thread to end */
	stop_all();
	for (int w = 0; w < 100000; w++) {
		int all = 1;
		for (int i = 0; i < nt; i++) all &= !ctl->t[i].spawned || ctl->t[i].done;
		if (all) break;
		if (w % 20 == 19) signal_threads();
		usleep(1000);
	}
	sample(seq++);
	for (int pi = 0; pi < np; pi++) {
		if (!ctl->p[pi].forked || P[pi].prefork) continue;
		for (int v = 0; v < P[pi].nvma; v++)
			if (ctl->p[pi].addr[v])
				printf("@vma %s %s %lx %lu\n", P[pi].name, P[pi].v[v].name, ctl->p[pi].addr[v],
				       P[pi].v[v].bytes);
	}
	for (int i = 0; i < nt; i++) {
		struct tshared *ts = &ctl->t[i];
		printf("@task %s %s %d %d %.6f %d %d\n", P[T[i].proc].name, T[i].name,
		       ts->tid ? ts->pid : 0, ts->tid, ts->created, ts->tid ? ts->cpu0 : -1,
		       ts->spawned ? ts->creator_cpu : -1);
	}
	int nerr = ctl->nerr < MAXERR ? ctl->nerr : MAXERR;
	for (int k = 0; k < nerr; k++) printf("%s\n", ctl->err[k]);
	printf("@final %.6f\n", now() - t0);
	for (int i = 0; i < nt; i++) {
		struct tshared *ts = &ctl->t[i];
		char path[256];
		if (!ts->tid) continue;
		snprintf(path, sizeof path, "/proc/%d/task/%d/sched", ts->pid, ts->tid);
		if (ts->done && ts->sched_len > 0) dump_text(path, ts->sched);
		else dump(path);
		snprintf(path, sizeof path, "/proc/%d/task/%d/stat", ts->pid, ts->tid);
		if (ts->done && ts->stat_len > 0) dump_text(path, ts->stat);
		else dump(path);
	}
	fflush(stdout);
	__atomic_store_n(&ctl->release, 1, __ATOMIC_SEQ_CST);
	fwake(&ctl->release);
	if (bgpid) kill(bgpid, SIGKILL);
	double wait_until = now() + 10;
	for (;;) {
		int left = 0;
		for (int pi = 0; pi < np; pi++)
			if (pids[pi] && waitpid(pids[pi], NULL, WNOHANG) == 0) left++;
			else pids[pi] = 0;
		if (bgpid && waitpid(bgpid, NULL, WNOHANG) != 0) bgpid = 0;
		if (!left && !bgpid) break;
		if (now() > wait_until)
			for (int pi = 0; pi < np; pi++) if (pids[pi]) kill(pids[pi], SIGKILL);
		usleep(1000);
	}
	printf("@end %.6f %d\n", now() - t0, status);
	fflush(stdout);
	return 0;
}
