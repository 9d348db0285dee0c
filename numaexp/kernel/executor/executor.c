/* numaexp workload executor: runs a numaexp Workload inside a Linux guest.
 *
 * Built once on the host (gcc -static -O2 -pthread) and put in the guest's
 * initramfs. It reads a line-based spec (written by numaexp.kernel.spec),
 * maps the VMAs with their memory policies, forks one process per scenario
 * process, starts the threads with their CPU affinity and task policies,
 * runs their phases of access patterns, and samples the guest at the
 * scenario's interval. Every record goes to stdout as one line that starts
 * with '@' and a record type; numaexp.kernel.records parses them.
 *
 * Records:
 *   @vma PROC VMA START_HEX BYTES           where a VMA was mapped
 *   @task PROC THREAD PID TID               a worker thread
 *   @err WHERE ERRNO MESSAGE                a system call refused (e.g. mbind EINVAL)
 *   @sample SEQ TIME_S                      start of a sample, then file dumps:
 *   @file PATH / @line TEXT ... / @eof      the content of a guest file
 *   @stat PID TID TOUCHES DONE              work counters of a thread
 *   @final TIME_S                           threads held at the barrier
 *   @end TIME_S STATUS                      all done
 */
#define _GNU_SOURCE
#include <errno.h>
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
#define MAXT 256     /* threads in all */
#define MAXPH 8      /* phases per thread */
#define MAXPAT 8     /* patterns per phase */
#define MAXCG 32     /* cgroups */
#define MPOL_F_NUMA_BALANCING (1 << 13)
#define MPOL_F_STATIC_NODES (1 << 15)
#define PAGE 4096UL
#define HPAGE (2UL << 20)

enum { K_SWEEP, K_UNIFORM, K_HOTSET, K_ZIPF, K_GAUSSIAN };
enum { E_NONE, E_PASSES, E_TOUCHES, E_DURATION };

struct pattern {
	int vma, kind, stride;
	unsigned long start, len;      /* bytes, already sliced */
	double share, write, hot_fraction, hot_size, hot_offset, alpha, mean, sigma;
	double *zipf_cdf;              /* zipf: cumulative popularity by rank */
	unsigned long npages;
};
struct phase { int end; double value; int npat; struct pattern pat[MAXPAT]; };
struct vma {
	char name[64]; unsigned long bytes; int thp, shared, ft_node, object;
	int mode, flags; unsigned long mask; char *addr;
};
struct thread {
	char name[64]; int proc; int ncpu; int cpus[256]; int mode, flags; unsigned long mask;
	int nphase; struct phase ph[MAXPH];
};
struct proc { char name[64]; char cgroup[256]; int nvma; struct vma v[MAXV]; int sleeps; };

/* shared with every process (MAP_SHARED before fork) */
struct ctl {
	volatile int stop, release, ready;
	volatile int tid[MAXT], pid[MAXT];
	volatile long touches[MAXT];
	volatile int done[MAXT];
	volatile double fin[MAXT];
};

static struct proc P[MAXP];
static struct thread T[MAXT];
static int np, nt, ncg, nnodes;
static char CG[MAXCG][256];
static double interval = 1.0, duration = 0, max_duration = 60;
static int stop_work = 1;
static unsigned long long seed = 1;
static struct ctl *ctl;
static double t0;

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec * 1e-9;
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

static void report_err(const char *where, int err, const char *what)
{
	printf("@err %s %d %s: %s\n", where, err, what, strerror(err));
	fflush(stdout);
}

static void die(const char *msg)
{
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
			sscanf(line, "cgroup %255s", CG[ncg++]);
		} else if (!strcmp(word, "proc")) {
			p = &P[np++];
			if (sscanf(line, "proc %63s %255s %d", p->name, p->cgroup, &p->sleeps) != 3)
				die("bad proc line");
		} else if (!strcmp(word, "vma")) {
			struct vma *v = &p->v[p->nvma++];
			if (sscanf(line, "vma %63s %lu %d %d %d %d %d %d %lx", v->name, &v->bytes, &v->thp,
				   &v->shared, &v->object, &v->ft_node, &v->mode, &v->flags, &v->mask) != 9)
				die("bad vma line");
		} else if (!strcmp(word, "thread")) {
			char cpus[2048], *tok, *save;
			t = &T[nt++];
			t->proc = np - 1;
			if (sscanf(line, "thread %63s %2047s %d %d %lx", t->name, cpus, &t->mode, &t->flags,
				   &t->mask) != 5) die("bad thread line");
			if (strcmp(cpus, "-"))
				for (tok = strtok_r(cpus, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
					t->cpus[t->ncpu++] = atoi(tok);
		} else if (!strcmp(word, "phase")) {
			char end[16];
			ph = &t->ph[t->nphase++];
			if (sscanf(line, "phase %15s %lf", end, &ph->value) != 2) die("bad phase line");
			ph->end = !strcmp(end, "passes") ? E_PASSES : !strcmp(end, "touches") ? E_TOUCHES
				: !strcmp(end, "duration") ? E_DURATION : E_NONE;
		} else if (!strcmp(word, "pat")) {
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

struct targ { int idx; };

static void *worker(void *arg)
{
	int i = ((struct targ *)arg)->idx;
	struct thread *t = &T[i];
	struct proc *p = &P[t->proc];
	uint64_t s = seed * 0x9E3779B97F4A7C15ULL + (i + 1) * 0xD1B54A32D192ED03ULL;
	if (!s) s = 1;
	char where[160];
	snprintf(where, sizeof where, "%s/%s", p->name, t->name);
	ctl->tid[i] = syscall(SYS_gettid);
	ctl->pid[i] = getpid();
	if (t->ncpu) {
		cpu_set_t set;
		CPU_ZERO(&set);
		for (int c = 0; c < t->ncpu; c++) CPU_SET(t->cpus[c], &set);
		if (sched_setaffinity(0, sizeof set, &set)) report_err(where, errno, "sched_setaffinity");
	}
	if (t->mode >= 0 && sys_set_mempolicy(t->mode | t->flags, t->mask ? &t->mask : NULL,
					      t->mask ? 64 : 0))
		report_err(where, errno, "set_mempolicy");
	__sync_fetch_and_add(&ctl->ready, 1);
	while (!ctl->release) usleep(1000);
	long touches = 0;
	for (int k = 0; k < t->nphase && !ctl->stop; k++) {
		struct phase *ph = &t->ph[k];
		double start = now();
		long ptouch = 0;
		double total_share = 0;
		for (int j = 0; j < ph->npat; j++) total_share += ph->pat[j].share;
		if (ph->pat[0].kind == K_SWEEP) {
			struct pattern *q = &ph->pat[0];
			char *base = p->v[q->vma].addr + q->start;
			unsigned long stride = q->stride * PAGE;
			for (double pass = 0; !ctl->stop; pass += 1) {
				if (ph->end == E_PASSES && pass >= ph->value) break;
				for (unsigned long o = 0; o < q->len && !ctl->stop; o += stride) {
					if (ph->end == E_PASSES && pass + (double)o / q->len >= ph->value) break;
					if (q->write >= 1 || unif(&s) < q->write)
						memset(base + o, (int)pass, PAGE);
					else {
						volatile long sum = 0;
						for (unsigned long c = 0; c < PAGE; c += 64) sum += base[o + c];
					}
					touches++; ptouch++;
					if ((ptouch & 63) == 0) {
						ctl->touches[i] = touches;
						if (ph->end == E_DURATION && now() - start >= ph->value) goto next;
					}
					if (ph->end == E_TOUCHES && ptouch >= ph->value) goto next;
				}
			}
		} else {
			for (int j = 0; j < ph->npat; j++)
				if (ph->pat[j].kind == K_ZIPF && !ph->pat[j].zipf_cdf) zipf_table(&ph->pat[j]);
			while (!ctl->stop) {
				for (int b = 0; b < 4096; b++) {
					double u = unif(&s) * total_share;
					int j = 0;
					while (j < ph->npat - 1 && u >= ph->pat[j].share) u -= ph->pat[j++].share;
					struct pattern *q = &ph->pat[j];
					unsigned long pg = pick(q, &s);
					if (q->stride > 1) pg -= pg % q->stride;
					volatile char *c = p->v[q->vma].addr + q->start + pg * PAGE + (rnd(&s) & 4032);
					if (unif(&s) < q->write) *c = 1; else (void)*c;
				}
				touches += 4096; ptouch += 4096;
				ctl->touches[i] = touches;
				if (ph->end == E_TOUCHES && ptouch >= ph->value) break;
				if (ph->end == E_DURATION && now() - start >= ph->value) break;
			}
		}
next:
		ctl->touches[i] = touches;
	}
	ctl->fin[i] = now();
	ctl->done[i] = 1;
	while (!ctl->release || ctl->release == 1) usleep(1000);  /* barrier: held until read */
	return NULL;
}

static void run_process(int pi)
{
	struct proc *p = &P[pi];
	pthread_t th[MAXT];
	struct targ args[MAXT];
	int n = 0, first = -1;
	for (int i = 0; i < nt; i++)
		if (T[i].proc == pi) {
			args[n].idx = i;
			if (!p->sleeps && first < 0) { first = n++; continue; }  /* the main thread works */
			if (pthread_create(&th[n], NULL, worker, &args[n])) die("pthread_create");
			n++;
		}
	if (first >= 0) worker(&args[first]);
	for (int k = 0; k < n; k++) if (k != first) pthread_join(th[k], NULL);
	exit(0);
}

/* ---------------- sampling ---------------- */
static void dump(const char *path)
{
	char buf[8192];
	FILE *f = fopen(path, "r");
	if (!f) return;
	printf("@file %s\n", path);
	while (fgets(buf, sizeof buf, f)) {
		size_t l = strlen(buf);
		if (l && buf[l - 1] == '\n') buf[l - 1] = 0;
		printf("@line %s\n", buf);
	}
	printf("@eof\n");
	fclose(f);
}

static void sample(int seq, pid_t *pids)
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
		snprintf(path, sizeof path, "/proc/%d/numa_maps", pids[pi]);
		dump(path);
	}
	for (int i = 0; i < nt; i++) {
		if (!ctl->tid[i]) continue;
		snprintf(path, sizeof path, "/proc/%d/task/%d/stat", ctl->pid[i], ctl->tid[i]);
		dump(path);
		printf("@stat %d %d %ld %d %.6f\n", ctl->pid[i], ctl->tid[i], ctl->touches[i], ctl->done[i],
		       ctl->done[i] ? ctl->fin[i] - t0 : -1.0);
	}
	for (int c = 0; c < ncg; c++) {
		snprintf(path, sizeof path, "/sys/fs/cgroup%.255s/memory.stat", CG[c]);
		dump(path);
		snprintf(path, sizeof path, "/sys/fs/cgroup%.255s/memory.numa_stat", CG[c]);
		dump(path);
	}
	fflush(stdout);
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
	/* shared objects: mapped once here, before fork, so every process maps the same pages */
	pid_t pids[MAXP];
	for (int pi = 0; pi < np; pi++) {
		pid_t pid = fork();
		if (pid < 0) die("fork");
		if (pid == 0) {
			struct proc *p = &P[pi];
			char path[512];
			snprintf(path, sizeof path, "/sys/fs/cgroup%s/cgroup.procs", p->cgroup);
			FILE *cg = fopen(path, "w");
			if (!cg || fprintf(cg, "%d\n", getpid()) < 0 || fclose(cg)) report_err(p->name, errno, "join cgroup");
			for (int v = 0; v < p->nvma; v++) {
				struct vma *m = &p->v[v];
				m->addr = map_vma(m, m->shared);
				printf("@vma %s %s %lx %lu\n", p->name, m->name, (unsigned long)m->addr, m->bytes);
				place_vma(p, m);
			}
			fflush(stdout);
			run_process(pi);
		}
		pids[pi] = pid;
	}
	while (ctl->ready < nt) usleep(1000);
	for (int i = 0; i < nt; i++)
		printf("@task %s %s %d %d\n", P[T[i].proc].name, T[i].name, ctl->pid[i], ctl->tid[i]);
	t0 = now();
	int seq = 0;
	sample(seq++, pids);
	ctl->release = 1;
	double limit = stop_work ? max_duration : duration;
	int status = 0;
	for (;;) {
		double next = seq * interval;
		double el = now() - t0;
		if (el < next) usleep((useconds_t)((next - el) * 1e6));
		int all = 1;
		for (int i = 0; i < nt; i++) all &= ctl->done[i];
		el = now() - t0;
		if (el >= limit - 1e-9) { ctl->stop = 1; status = stop_work ? 1 : 0; }
		if (all && stop_work) ctl->stop = 1;
		if (ctl->stop) {
			/* wait for every thread to reach the barrier, then read its sched file */
			for (int w = 0; w < 100000; w++) {
				int all2 = 1;
				for (int i = 0; i < nt; i++) all2 &= ctl->done[i];
				if (all2) break;
				usleep(1000);
			}
			sample(seq++, pids);
			printf("@final %.6f\n", now() - t0);
			for (int i = 0; i < nt; i++) {
				char path[256];
				snprintf(path, sizeof path, "/proc/%d/task/%d/sched", ctl->pid[i], ctl->tid[i]);
				dump(path);
				snprintf(path, sizeof path, "/proc/%d/task/%d/stat", ctl->pid[i], ctl->tid[i]);
				dump(path);
			}
			break;
		}
		sample(seq++, pids);
		fprintf(stderr, "@progress %.3f %.3f\n", now() - t0, limit);
	}
	ctl->release = 2;
	for (int pi = 0; pi < np; pi++) waitpid(pids[pi], NULL, 0);
	printf("@end %.6f %d\n", now() - t0, status);
	fflush(stdout);
	return 0;
}
