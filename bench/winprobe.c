/* winprobe: start a GUI program under X11 and time its window as a person would see it.
 *
 *   winprobe [--settle MS] [--idle MS] [--max MS] [--shot FILE.ppm] [--frames DIR] -- PROGRAM [ARG...]
 *
 * From the moment just before fork/exec (t = 0) it records:
 *   map_ms       the MapNotify of the program's top-level window (_NET_WM_PID = its pid;
 *                exec keeps the pid, so `postdesk` exec'ing `postdesk-window` counts)
 *   nonblank_ms  the first frame whose pixels are not all one colour
 *   complete_ms  the first frame that matches the final, settled frame (at most 0.5 % of
 *                pixels differ: a blinking caret does not count), i.e. the window as the
 *                person will see it, with its content loaded
 * Frames are read from the X server with MIT-SHM every ~3 ms (Xvfb keeps every window's
 * pixels, there is no compositor). The window is settled when no frame has changed more
 * than 0.5 % of its pixels for --settle ms (default 3000). Then, after --idle ms more (default 2000), it sums the
 * proportional set size (Pss in /proc/PID/smaps_rollup) of the program and every
 * descendant (WebKit's web and network processes included), stops the whole process tree
 * and prints one JSON object on stdout. Exit 0 when a window was settled, 1 otherwise.
 * The JSON also has t0_epoch_ms (t = 0 on the wall clock, to line up a program's own
 * timestamps) and each process's start_ms (from /proc/PID/stat, 10 ms resolution).
 */
#define _GNU_SOURCE
#include <X11/Xlib.h>
#include <X11/Xatom.h>
#include <X11/Xutil.h>
#include <X11/extensions/XShm.h>
#include <dirent.h>
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ipc.h>
#include <sys/shm.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double t0, t0_boot, t0_epoch;   /* t = 0 on CLOCK_MONOTONIC, CLOCK_BOOTTIME, CLOCK_REALTIME */
static double now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6 - t0;
}
static void sleep_ms(double ms) {
    struct timespec ts = {(time_t)(ms / 1000), (long)((ms - (time_t)(ms / 1000) * 1000) * 1e6)};
    nanosleep(&ts, NULL);
}
static void die(const char *msg) { fprintf(stderr, "winprobe: %s\n", msg); exit(2); }

static int x_error;
static int on_x_error(Display *d, XErrorEvent *e) { (void)d; x_error = e->error_code; return 0; }

static long window_pid(Display *dpy, Window w) {
    static Atom pid_atom;
    if (!pid_atom) pid_atom = XInternAtom(dpy, "_NET_WM_PID", False);
    Atom type; int format; unsigned long n, after; unsigned char *data = NULL; long pid = -1;
    if (XGetWindowProperty(dpy, w, pid_atom, 0, 1, False, XA_CARDINAL, &type, &format, &n, &after, &data) == Success
        && data && n == 1 && format == 32)
        pid = (long)*(unsigned long *)data;
    if (data) XFree(data);
    return pid;
}

/* ---------------------------------------------------------------- process tree and PSS */
#define MAXP 4096
static int tree[MAXP], ntree;
static void collect_tree(int root) {
    static int pids[32768 * 4], ppids[32768 * 4];
    int n = 0;
    DIR *d = opendir("/proc");
    struct dirent *e;
    while (d && (e = readdir(d)) && n < (int)(sizeof pids / sizeof *pids)) {
        int pid = atoi(e->d_name);
        if (pid <= 0) continue;
        char path[64], buf[512];
        snprintf(path, sizeof path, "/proc/%d/stat", pid);
        FILE *f = fopen(path, "r");
        if (!f) continue;
        size_t len = fread(buf, 1, sizeof buf - 1, f);
        fclose(f);
        buf[len] = 0;
        char *rp = strrchr(buf, ')');
        if (!rp) continue;
        int ppid = 0;
        char state;
        if (sscanf(rp + 2, "%c %d", &state, &ppid) != 2) continue;
        pids[n] = pid; ppids[n] = ppid; n++;
    }
    if (d) closedir(d);
    ntree = 0;
    tree[ntree++] = root;
    for (int i = 0; i < ntree && ntree < MAXP; i++)
        for (int j = 0; j < n && ntree < MAXP; j++)
            if (ppids[j] == tree[i]) tree[ntree++] = pids[j];
}
static long pss_kib(int pid) {
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/smaps_rollup", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    long kib = -1;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Pss: %ld kB", &kib) == 1) break;
    fclose(f);
    return kib;
}
/* When the process started, in ms after t = 0 (/proc/PID/stat starttime: clock ticks, 10 ms). */
static double start_ms(int pid) {
    char path[64], buf[1024];
    snprintf(path, sizeof path, "/proc/%d/stat", pid);
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = 0;
    char *p = strrchr(buf, ')');
    if (!p) return -1;
    unsigned long long ticks = 0;
    /* After "pid (comm)": state is field 3, starttime field 22. */
    p += 2;
    for (int field = 3; field < 22 && p; field++) { p = strchr(p, ' '); if (p) p++; }
    if (!p || sscanf(p, "%llu", &ticks) != 1) return -1;
    return ticks * 1000.0 / sysconf(_SC_CLK_TCK) - t0_boot;
}
static void comm_of(int pid, char *out, size_t size) {
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/comm", pid);
    FILE *f = fopen(path, "r");
    out[0] = 0;
    if (f) { if (fgets(out, (int)size, f)) out[strcspn(out, "\n")] = 0; fclose(f); }
    for (char *c = out; *c; c++) if (*c == '"' || *c == '\\') *c = '_';
}

/* ---------------------------------------------------------------- frames */
typedef struct { double t; double diff; uint32_t *px; } Frame;
#define MAXF 400
static Frame frames[MAXF];
static int nframes;

static void write_ppm(const char *path, const uint32_t *px, int width, int height) {
    FILE *f = fopen(path, "wb");
    if (!f) return;
    fprintf(f, "P6\n%d %d\n255\n", width, height);
    for (size_t k = 0; k < (size_t)width * height; k++) {
        unsigned char rgb[3] = {px[k] >> 16, px[k] >> 8, px[k]};
        fwrite(rgb, 1, 3, f);
    }
    fclose(f);
}
static uint64_t hash_px(const uint32_t *p, size_t n) {
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++) h = (h ^ (p[i] & 0xffffff)) * 1099511628211ull;
    return h;
}
static int is_blank(const uint32_t *p, size_t n) {
    for (size_t i = 1; i < n; i++) if ((p[i] ^ p[0]) & 0xffffff) return 0;
    return 1;
}
static double diff_frac(const uint32_t *a, const uint32_t *b, size_t n) {
    size_t d = 0;
    for (size_t i = 0; i < n; i++) d += ((a[i] ^ b[i]) & 0xffffff) != 0;
    return (double)d / (double)n;
}

int main(int argc, char **argv) {
    double settle = 3000, idle = 2000, max = 30000;
    const char *shot = NULL, *frames_dir = NULL;
    int i = 1;
    for (; i < argc; i++) {
        if (!strcmp(argv[i], "--")) { i++; break; }
        if (i + 1 >= argc) die("usage: winprobe [--settle MS] [--idle MS] [--max MS] [--shot FILE.ppm] -- PROGRAM [ARG...]");
        if (!strcmp(argv[i], "--settle")) settle = atof(argv[++i]);
        else if (!strcmp(argv[i], "--idle")) idle = atof(argv[++i]);
        else if (!strcmp(argv[i], "--max")) max = atof(argv[++i]);
        else if (!strcmp(argv[i], "--shot")) shot = argv[++i];
        else if (!strcmp(argv[i], "--frames")) frames_dir = argv[++i];
        else die("unknown option");
    }
    if (i >= argc) die("no program given");

    Display *dpy = XOpenDisplay(NULL);
    if (!dpy) die("cannot open the display (DISPLAY unset or unreachable)");
    if (!XShmQueryExtension(dpy)) die("the X server has no MIT-SHM");
    XSetErrorHandler(on_x_error);
    Window root = DefaultRootWindow(dpy);
    XSelectInput(dpy, root, SubstructureNotifyMask);
    XSync(dpy, False);

    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    t0_epoch = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
    clock_gettime(CLOCK_BOOTTIME, &ts);
    t0_boot = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    t0 = ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
    pid_t pid = fork();
    if (pid < 0) die("fork failed");
    if (pid == 0) {
        setpgid(0, 0);
        execvp(argv[i], argv + i);
        fprintf(stderr, "winprobe: cannot run %s: %s\n", argv[i], strerror(errno));
        _exit(127);
    }
    setpgid(pid, pid);

    /* 1. Wait for the program's top-level window to be mapped. */
    Window win = 0;
    double map_ms = -1;
    int status, exited = 0;
    while (!win) {
        while (XPending(dpy)) {
            XEvent ev;
            XNextEvent(dpy, &ev);
            if (ev.type == MapNotify && ev.xmap.event == root && !ev.xmap.override_redirect
                && window_pid(dpy, ev.xmap.window) == pid) {
                win = ev.xmap.window;
                map_ms = now_ms();
                break;
            }
        }
        if (win) break;
        if (waitpid(pid, &status, WNOHANG) == pid) { exited = 1; break; }
        if (now_ms() > max) break;
        struct pollfd pfd = {ConnectionNumber(dpy), POLLIN, 0};
        poll(&pfd, 1, 5);
    }

    /* 2. Read its pixels until they settle. */
    double nonblank_ms = -1, last_change = -1;
    int width = 0, height = 0;
    XShmSegmentInfo shm = {0};
    XImage *img = NULL;
    uint64_t last_hash = 0;
    int settled = 0;
    while (win && !exited) {
        XWindowAttributes wa;
        x_error = 0;
        if (!XGetWindowAttributes(dpy, win, &wa) || x_error) break;   /* window gone */
        if (wa.width != width || wa.height != height || !img) {
            if (img) { XShmDetach(dpy, &shm); XDestroyImage(img); shmdt(shm.shmaddr); shmctl(shm.shmid, IPC_RMID, 0); }
            /* A resize makes the kept frames incomparable: start over at the new size. */
            for (int k = 0; k < nframes; k++) free(frames[k].px);
            nframes = 0;
            last_change = -1;
            width = wa.width; height = wa.height;
            img = XShmCreateImage(dpy, wa.visual, wa.depth, ZPixmap, NULL, &shm, width, height);
            if (!img || img->bits_per_pixel != 32) die("unsupported visual (need 24/32-bit TrueColor)");
            shm.shmid = shmget(IPC_PRIVATE, (size_t)img->bytes_per_line * height, IPC_CREAT | 0600);
            shm.shmaddr = img->data = shmat(shm.shmid, 0, 0);
            shm.readOnly = False;
            XShmAttach(dpy, &shm);
            XSync(dpy, False);
            last_hash = 0;
        }
        x_error = 0;
        double t = now_ms();
        if (wa.map_state == IsViewable && XShmGetImage(dpy, win, img, 0, 0, AllPlanes)) {
            XSync(dpy, False);
            if (!x_error) {
                size_t n = (size_t)width * height;   /* bytes_per_line == width * 4 for 32 bpp */
                const uint32_t *px = (const uint32_t *)img->data;
                uint64_t h = hash_px(px, n);
                if (h != last_hash) {
                    last_hash = h;
                    if (nonblank_ms < 0 && !is_blank(px, n)) nonblank_ms = t;
                    /* Keep the frame when it differs noticeably from the last kept one. */
                    double diff = nframes ? diff_frac(frames[nframes - 1].px, px, n) : 1;
                    int keep = diff > 0.005;
                    if (keep && nframes < MAXF) {
                        frames[nframes].t = t;
                        frames[nframes].diff = diff;
                        frames[nframes].px = malloc(n * 4);
                        memcpy(frames[nframes].px, px, n * 4);
                        nframes++;
                        last_change = t;
                    }
                }
            }
        }
        if (nonblank_ms >= 0 && last_change >= 0 && now_ms() - last_change >= settle) { settled = 1; break; }
        if (waitpid(pid, &status, WNOHANG) == pid) { exited = 1; break; }
        if (now_ms() > max) break;
        while (XPending(dpy)) { XEvent ev; XNextEvent(dpy, &ev); }
        sleep_ms(3);
    }

    double complete_ms = -1;
    if (settled) {
        size_t n = (size_t)width * height;
        uint32_t *final = frames[nframes - 1].px;
        for (int k = 0; k < nframes; k++)
            if (diff_frac(frames[k].px, final, n) <= 0.005) { complete_ms = frames[k].t; break; }
        if (shot) write_ppm(shot, final, width, height);
        for (int k = 0; frames_dir && k < nframes; k++) {
            char path[4096];
            snprintf(path, sizeof path, "%s/frame-%02d-%06.0fms.ppm", frames_dir, k, frames[k].t);
            write_ppm(path, frames[k].px, width, height);
        }
    }

    /* 3. Idle memory of the whole process tree. */
    long total = 0;
    char procs[8192] = "";
    if (settled && !exited) {
        sleep_ms(idle);
        collect_tree(pid);
        size_t off = 0;
        for (int k = 0; k < ntree; k++) {
            long p = pss_kib(tree[k]);
            if (p < 0) continue;
            char comm[64];
            comm_of(tree[k], comm, sizeof comm);
            total += p;
            off += snprintf(procs + off, sizeof procs - off, "%s{\"pid\":%d,\"comm\":\"%s\",\"pss_kib\":%ld,\"start_ms\":%.0f}",
                            off ? "," : "", tree[k], comm, p, start_ms(tree[k]));
            if (off >= sizeof procs) break;
        }
    }

    /* 4. Stop the program and everything it started. */
    if (!exited) {
        collect_tree(pid);
        kill(-pid, SIGTERM);
        for (int k = 0; k < ntree; k++) kill(tree[k], SIGTERM);
        for (int k = 0; k < 200 && waitpid(pid, &status, WNOHANG) != pid; k++) sleep_ms(10);
        kill(-pid, SIGKILL);
        for (int k = 0; k < ntree; k++) kill(tree[k], SIGKILL);
        waitpid(pid, &status, 0);
    }

    /* The timeline: each kept frame's time and the share of the window it changed (%). */
    char timeline[16384] = "";
    for (int k = 0, off = 0; k < nframes && off < (int)sizeof timeline - 64; k++)
        off += snprintf(timeline + off, sizeof timeline - off, "%s[%.1f,%.2f]", k ? "," : "", frames[k].t, frames[k].diff * 100);
    printf("{\"t0_epoch_ms\":%.1f,\"settled\":%s,\"exited_early\":%s,\"map_ms\":%.1f,\"nonblank_ms\":%.1f,\"complete_ms\":%.1f,"
           "\"frames\":%d,\"width\":%d,\"height\":%d,\"pss_kib\":%ld,\"processes\":[%s],\"timeline\":[%s]}\n",
           t0_epoch, settled ? "true" : "false", exited ? "true" : "false", map_ms, nonblank_ms, complete_ms,
           nframes, width, height, total, procs, timeline);
    return settled ? 0 : 1;
}
