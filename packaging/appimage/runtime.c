/*
 * Postdesk's AppImage runtime: the ELF part of a type 2 AppImage
 * (https://github.com/AppImage/AppImageSpec/blob/master/draft.md#type-2-image-format).
 *
 * The AppImage file is this program with a SquashFS image appended; the image starts where
 * this ELF file ends (after its section header table). When run, it mounts the image
 * read-only with FUSE (squashfuse's low-level library, libfuse 3), runs the image's AppRun
 * with the same arguments and environment plus APPIMAGE, APPDIR, ARGV0 and OWD, and unmounts
 * when AppRun's process ends (the mount helper watches for it). scripts/appimage.sh builds it and writes the magic bytes
 * "AI\x02" at offset 8.
 *
 * Why our own: the usual runtime and appimagetool are downloaded from GitHub at build time,
 * which the build machine cannot reach; Debian ships squashfuse's libraries and mksquashfs.
 *
 * Options (the usual runtime's names, so admins' habits and scripts work):
 *   --appimage-help              this list
 *   --appimage-version           the runtime's version
 *   --appimage-offset            the byte offset of the SquashFS image
 *   --appimage-extract           unpack the image into ./squashfs-root (no FUSE needed); never
 *                                writes through a link planted there, drops setuid/setgid bits
 *   --appimage-mount             mount, print the mount point, wait for Ctrl-C
 *   --appimage-extract-and-run   unpack into a temporary folder, run, remove it (no FUSE; also
 *                                on SIGINT/SIGTERM/SIGHUP, passed on to AppRun); also when
 *                                APPIMAGE_EXTRACT_AND_RUN=1
 */
#define _GNU_SOURCE
#include "config.h"
#include "ll.h"
#include "traverse.h"

#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define RUNTIME_VERSION "postdesk-appimage-runtime 1"

static const char *prog = "AppImage";

static void complain(const char *what, const char *detail) {
	fprintf(stderr, "%s: %s%s%s\n", prog, what, detail ? ": " : "", detail ? detail : "");
}

/* Where the SquashFS image starts: right after this ELF file, whose last part is its section
 * header table. Checks the ELF header, the AppImage magic and the SquashFS magic. */
static int image_offset(const char *path, off_t *offset) {
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		complain("cannot open the AppImage", strerror(errno));
		return -1;
	}
	Elf64_Ehdr eh;
	char magic[4];
	int ok = pread(fd, &eh, sizeof eh, 0) == (ssize_t)sizeof eh &&
		memcmp(eh.e_ident, ELFMAG, SELFMAG) == 0 && eh.e_ident[EI_CLASS] == ELFCLASS64;
	if (!ok) {
		complain("not a 64-bit ELF file", path);
		close(fd);
		return -1;
	}
	if (eh.e_ident[8] != 'A' || eh.e_ident[9] != 'I' || eh.e_ident[10] != 2) {
		complain("not a type 2 AppImage (no \"AI\\x02\" at offset 8)", path);
		close(fd);
		return -1;
	}
	*offset = (off_t)eh.e_shoff + (off_t)eh.e_shentsize * eh.e_shnum;
	ok = pread(fd, magic, sizeof magic, *offset) == (ssize_t)sizeof magic &&
		memcmp(magic, "hsqs", 4) == 0;
	close(fd);
	if (!ok) {
		complain("no SquashFS image after the runtime (the file is truncated or damaged)", path);
		return -1;
	}
	return 0;
}

/* ---------------------------------------------------------------- extracting (no FUSE) */

/* Extraction writes only below the folder it was given, whatever is already there: every
 * folder on the way is opened with O_NOFOLLOW | O_DIRECTORY relative to its parent (a symbolic
 * link or a file planted where the image has a folder is refused, never followed), files are
 * created with O_CREAT | O_EXCL | O_NOFOLLOW after removing what had the name (unlinkat removes
 * a link, not its target), and no file keeps a set-user-ID or set-group-ID bit. Every
 * descriptor is O_CLOEXEC and closed on every path. */

static int write_file(sqfs *fs, sqfs_inode *inode, int dirfd, const char *name) {
	/* No setuid/setgid (nor sticky) bit from an image ever lands on disk. */
	mode_t mode = inode->base.mode & 0777;
	if (unlinkat(dirfd, name, 0) != 0 && errno != ENOENT)
		return -1;
	int fd = openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	static char buf[1 << 17];
	sqfs_off_t pos = 0, total = (sqfs_off_t)inode->xtra.reg.file_size;
	while (pos < total) {
		sqfs_off_t n = total - pos < (sqfs_off_t)sizeof buf ? total - pos : (sqfs_off_t)sizeof buf;
		if (sqfs_read_range(fs, inode, pos, &n, buf) != SQFS_OK || n <= 0)
			goto fail;
		for (sqfs_off_t done = 0; done < n;) {
			ssize_t w = write(fd, buf + done, (size_t)(n - done));
			if (w < 0)
				goto fail;
			done += w;
		}
		pos += n;
	}
	if (fchmod(fd, mode) != 0) {
		goto fail;
	}
	return close(fd);
fail:
	close(fd);
	return -1;
}

/* Opens the folder `path` (relative, '/'-separated) below root without following any link;
 * with create, the last component is made first when missing. Returns an O_CLOEXEC descriptor,
 * or -1 with errno set (ELOOP/ENOTDIR for a link or file in the way, EINVAL for "." or ".."). */
static int open_dir_below(int root, const char *path, int create) {
	char part[NAME_MAX + 1];
	int fd = fcntl(root, F_DUPFD_CLOEXEC, 0);
	const char *p = path;
	while (fd >= 0 && *p) {
		const char *slash = strchr(p, '/');
		size_t len = slash ? (size_t)(slash - p) : strlen(p);
		if (len == 0 || len > NAME_MAX || (len == 1 && p[0] == '.') || (len == 2 && p[0] == '.' && p[1] == '.')) {
			close(fd);
			errno = EINVAL;
			return -1;
		}
		memcpy(part, p, len);
		part[len] = 0;
		p += len + (slash ? 1 : 0);
		if (create && !*p && mkdirat(fd, part, 0755) != 0 && errno != EEXIST) {
			int e = errno;
			close(fd);
			errno = e;
			return -1;
		}
		int next = openat(fd, part, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		int e = errno;
		close(fd);
		errno = e;
		fd = next;
	}
	return fd;
}

/* Unpacks the image into dest (created if missing, refused if it is a link or a file):
 * folders, regular files with their permission bits less setuid/setgid, and symbolic links. */
static int extract(const char *path, off_t offset, const char *dest) {
	sqfs fs;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		complain("cannot read the SquashFS image", path);
		return -1;
	}
	if (sqfs_init(&fs, fd, (size_t)offset) != SQFS_OK) {
		complain("cannot read the SquashFS image", path);
		close(fd);
		return -1;
	}
	int rc = 0;
	int root = -1;
	if (mkdir(dest, 0755) != 0 && errno != EEXIST) {
		complain("cannot create the folder", dest);
		rc = -1;
	} else if ((root = open(dest, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)) < 0) {
		complain("refusing to extract: not a folder (a symbolic link or a file is in the way)", dest);
		rc = -1;
	}
	sqfs_traverse trv;
	sqfs_err err = SQFS_OK;
	if (rc == 0 && sqfs_traverse_open(&trv, &fs, sqfs_inode_root(&fs)) != SQFS_OK) {
		complain("cannot read the image's root folder", path);
		rc = -1;
	} else if (rc == 0) {
		while (rc == 0 && sqfs_traverse_next(&trv, &err)) {
			if (trv.dir_end)
				continue;
			sqfs_inode inode;
			char parent[PATH_MAX];
			const char *slash = strrchr(trv.path, '/');
			const char *name = slash ? slash + 1 : trv.path;
			size_t plen = slash ? (size_t)(slash - trv.path) : 0;
			if (plen >= sizeof parent || sqfs_inode_get(&fs, &inode, trv.entry.inode) != SQFS_OK) {
				complain("cannot read", trv.path);
				rc = -1;
				break;
			}
			memcpy(parent, trv.path, plen);
			parent[plen] = 0;
			int dirfd = open_dir_below(root, parent, 0);
			if (dirfd < 0 || !*name || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
				if (dirfd >= 0)
					close(dirfd);
				complain("refusing to extract (a symbolic link, a file or a bad name is in the way)", trv.path);
				rc = -1;
				break;
			}
			if (S_ISDIR(inode.base.mode)) {
				int made = open_dir_below(dirfd, name, 1);
				if (made < 0)
					rc = -1;
				else
					close(made);
			} else if (S_ISREG(inode.base.mode)) {
				rc = write_file(&fs, &inode, dirfd, name);
			} else if (S_ISLNK(inode.base.mode)) {
				char target[PATH_MAX];
				size_t size = sizeof target;
				if ((unlinkat(dirfd, name, 0) != 0 && errno != ENOENT) ||
				    sqfs_readlink(&fs, &inode, target, &size) != SQFS_OK || symlinkat(target, dirfd, name) != 0)
					rc = -1;
			}
			int e = errno;
			close(dirfd);
			if (rc != 0)
				complain(e == ELOOP || e == ENOTDIR || e == EEXIST
						 ? "refusing to extract through a symbolic link or a file in the way"
						 : "cannot extract",
					 trv.path);
		}
		if (err != SQFS_OK && rc == 0) {
			complain("the SquashFS image is damaged", path);
			rc = -1;
		}
		sqfs_traverse_close(&trv);
	}
	if (root >= 0)
		close(root);
	sqfs_destroy(&fs);
	close(fd);
	return rc;
}

static int remove_entry(const char *p, const struct stat *st, int type, struct FTW *ftw) {
	(void)st, (void)type, (void)ftw;
	return remove(p);
}

/* ---------------------------------------------------------------------------- running */

static void set_env(const char *self, const char *appdir, const char *argv0) {
	char cwd[PATH_MAX];
	setenv("APPIMAGE", self, 1);
	setenv("APPDIR", appdir, 1);
	setenv("ARGV0", argv0, 1);
	if (getcwd(cwd, sizeof cwd))
		setenv("OWD", cwd, 1);
}

static const char *tmp_dir(void) {
	const char *t = getenv("TMPDIR");
	return t && *t ? t : "/tmp";
}

/* Unpacks into a temporary folder, runs AppRun there and removes the folder when AppRun ends,
 * also when this process is told to stop: SIGINT, SIGTERM and SIGHUP are waited for (blocked,
 * sigwaitinfo) instead of ending it, passed on to AppRun (unless the terminal sent them to both
 * already, as with Ctrl-C), and the folder is removed once AppRun has ended. */
static int extract_and_run(const char *self, off_t offset, char **argv) {
	char dir[PATH_MAX], apprun[PATH_MAX + 8];
	snprintf(dir, sizeof dir, "%s/appimage_extracted_XXXXXX", tmp_dir());
	sigset_t stop, old;
	sigemptyset(&stop);
	sigaddset(&stop, SIGINT);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGHUP);
	sigaddset(&stop, SIGCHLD);
	/* Blocked from before the folder exists, so no signal can end us with it left behind. */
	if (sigprocmask(SIG_BLOCK, &stop, &old) != 0) {
		complain("cannot set up signal handling", strerror(errno));
		return 1;
	}
	if (!mkdtemp(dir)) {
		complain("cannot create a temporary folder", strerror(errno));
		return 1;
	}
	if (extract(self, offset, dir) != 0) {
		nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
		return 1;
	}
	snprintf(apprun, sizeof apprun, "%s/AppRun", dir);
	pid_t pid = fork();
	if (pid == 0) {
		sigprocmask(SIG_SETMASK, &old, NULL);
		set_env(self, dir, argv[0]);
		argv[0] = apprun;
		execv(apprun, argv);
		complain("cannot run AppRun", strerror(errno));
		_exit(127);
	}
	if (pid < 0)
		complain("cannot start AppRun", strerror(errno));
	int status = 0;
	while (pid > 0) {
		siginfo_t info;
		int sig = sigwaitinfo(&stop, &info);
		if (sig < 0)
			continue; /* EINTR */
		if (sig == SIGCHLD) {
			pid_t done = waitpid(pid, &status, WNOHANG);
			if (done == pid && (WIFEXITED(status) || WIFSIGNALED(status)))
				break;
			continue;
		}
		if (info.si_code != SI_KERNEL) /* a terminal's signal reached AppRun's group already */
			kill(pid, sig);
	}
	nftw(dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS);
	if (pid < 0)
		return 1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

static void ll_ops(struct fuse_lowlevel_ops *ops) {
	memset(ops, 0, sizeof *ops);
	ops->getattr = sqfs_ll_op_getattr;
	ops->opendir = sqfs_ll_op_opendir;
	ops->releasedir = sqfs_ll_op_releasedir;
	ops->readdir = sqfs_ll_op_readdir;
	ops->lookup = sqfs_ll_op_lookup;
	ops->open = sqfs_ll_op_open;
	ops->create = sqfs_ll_op_create;
	ops->release = sqfs_ll_op_release;
	ops->read = sqfs_ll_op_read;
	ops->readlink = sqfs_ll_op_readlink;
	ops->listxattr = sqfs_ll_op_listxattr;
	ops->getxattr = sqfs_ll_op_getxattr;
	ops->forget = sqfs_ll_op_forget;
	ops->statfs = stfs_ll_op_statfs;
}

/* Serves FUSE requests until the mount goes away, a signal comes (SIGTERM, SIGINT, SIGHUP,
 * read through a signalfd, so none can arrive between a check and a blocking read), or, with
 * parent > 0, that process has ended (PR_SET_PDEATHSIG's SIGTERM, and getppid() checked every
 * half second as a second line). */
static int serve_loop(struct fuse_session *se, int sigfd, pid_t parent) {
	struct fuse_buf buf;
	memset(&buf, 0, sizeof buf);
	struct pollfd fds[2] = {{.fd = fuse_session_fd(se), .events = POLLIN},
				{.fd = sigfd, .events = POLLIN}};
	int rc = 0;
	for (;;) {
		if (parent > 0 && getppid() != parent)
			break;
		int n = poll(fds, 2, 500);
		if (n < 0 && errno != EINTR) {
			rc = 1;
			break;
		}
		if (n <= 0)
			continue;
		if (fds[1].revents)
			break;
		if (fds[0].revents & (POLLERR | POLLHUP))
			break; /* unmounted from outside (fusermount3 -u, umount) */
		if (fds[0].revents & POLLIN) {
			int res = fuse_session_receive_buf(se, &buf);
			if (res == -EINTR || res == -EAGAIN)
				continue;
			if (res <= 0) {
				rc = res < 0 ? 1 : 0;
				break;
			}
			fuse_session_process_buf(se, &buf);
		}
	}
	free(buf.mem);
	return rc;
}

/* Mounts the image at mnt and serves it until serve_loop ends, then unmounts (lazily, so a
 * process still inside cannot keep it) and removes mnt. Once the mount is up, ready (a pipe's
 * write end) gets one byte, or with ready < 0 the mount point is printed on stdout. */
static int serve(const char *self, off_t offset, const char *mnt, int ready, pid_t parent) {
	char *fargv[] = {(char *)prog, "-o", "ro", NULL};
	struct fuse_args args = FUSE_ARGS_INIT(3, fargv);
	struct fuse_lowlevel_ops ops;
	sqfs_ll_chan ch;
	sigset_t sigs;
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	signal(SIGPIPE, SIG_IGN);
	int sigfd = sigprocmask(SIG_BLOCK, &sigs, NULL) == 0 ? signalfd(-1, &sigs, SFD_CLOEXEC) : -1;
	if (sigfd < 0) {
		complain("cannot set up signal handling", strerror(errno));
		if (ready >= 0)
			close(ready);
		rmdir(mnt);
		return 1;
	}
	sqfs_ll *ll = sqfs_ll_open(self, (size_t)offset);
	if (!ll) {
		complain("cannot read the SquashFS image", self);
		close(sigfd);
		if (ready >= 0)
			close(ready);
		rmdir(mnt);
		return 1;
	}
	ll_ops(&ops);
	if (sqfs_ll_mount(&ch, mnt, &args, &ops, sizeof ops, ll) != SQFS_OK) {
		complain("cannot mount the AppImage with FUSE", mnt);
		sqfs_ll_destroy(ll);
		free(ll);
		close(sigfd);
		if (ready >= 0)
			close(ready);
		rmdir(mnt);
		return 1;
	}
	int rc = 0;
	if (ready >= 0) {
		char one = 1;
		rc = write(ready, &one, 1) == 1 ? 0 : 1;
		close(ready);
	} else {
		printf("%s\n", mnt);
		fflush(stdout);
	}
	if (rc == 0)
		rc = serve_loop(ch.session, sigfd, parent);
	sqfs_ll_destroy(ll);
	sqfs_ll_unmount(&ch, mnt);
	free(ll);
	close(sigfd);
	rmdir(mnt);
	return rc;
}

static int make_mount_point(char *mnt, size_t size) {
	snprintf(mnt, size, "%s/.mount_PostdeskXXXXXX", tmp_dir());
	if (!mkdtemp(mnt)) {
		complain("cannot create a mount point", strerror(errno));
		return -1;
	}
	return 0;
}

/* The usual way: this process becomes AppRun (so it keeps our PID, terminal and signals); a
 * child serves the mount, and the kernel tells it (SIGTERM) when AppRun's process has ended. */
static int mount_and_run(const char *self, off_t offset, char **argv) {
	char mnt[PATH_MAX], apprun[PATH_MAX + 8];
	int pipefd[2];
	if (make_mount_point(mnt, sizeof mnt) != 0)
		return 1;
	if (pipe2(pipefd, O_CLOEXEC) != 0) {
		complain("cannot start the mount helper", strerror(errno));
		rmdir(mnt);
		return 1;
	}
	pid_t parent = getpid();
	pid_t pid = fork();
	if (pid < 0) {
		complain("cannot start the mount helper", strerror(errno));
		close(pipefd[0]);
		close(pipefd[1]);
		rmdir(mnt);
		return 1;
	}
	if (pid == 0) {
		close(pipefd[0]);
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent)
			_exit(0);
		/* Not in AppRun's way: no terminal input, own process group (Ctrl-C reaches AppRun). */
		setpgid(0, 0);
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null >= 0) {
			dup2(null, 0);
			close(null);
		}
		_exit(serve(self, offset, mnt, pipefd[1], parent));
	}
	close(pipefd[1]);
	char one;
	ssize_t n;
	while ((n = read(pipefd[0], &one, 1)) < 0 && errno == EINTR) {
	}
	close(pipefd[0]);
	if (n != 1) {
		waitpid(pid, NULL, 0);
		rmdir(mnt);
		complain("FUSE is not available here; run it with --appimage-extract-and-run "
			 "(or APPIMAGE_EXTRACT_AND_RUN=1), or install fuse3", NULL);
		return 1;
	}
	snprintf(apprun, sizeof apprun, "%s/AppRun", mnt);
	set_env(self, mnt, argv[0]);
	argv[0] = apprun;
	execv(apprun, argv);
	complain("cannot run AppRun", strerror(errno));
	kill(pid, SIGTERM);
	return 127;
}

int main(int argc, char **argv) {
	char self[PATH_MAX];
	off_t offset;
	ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
	if (len <= 0) {
		complain("cannot find its own file (/proc/self/exe)", strerror(errno));
		return 1;
	}
	self[len] = 0;
	const char *base = strrchr(self, '/');
	prog = base ? base + 1 : self;
	const char *opt = argc > 1 && strncmp(argv[1], "--appimage-", 11) == 0 ? argv[1] : NULL;

	if (opt && strcmp(opt, "--appimage-help") == 0) {
		printf("%s: an AppImage of Postdesk.\n"
		       "  (no option)                  mount it (FUSE) and run Postdesk with the given arguments\n"
		       "  --appimage-extract-and-run   unpack into a temporary folder and run (no FUSE needed;\n"
		       "                               also with APPIMAGE_EXTRACT_AND_RUN=1)\n"
		       "  --appimage-extract           unpack into ./squashfs-root\n"
		       "  --appimage-mount             mount, print the mount point, wait for Ctrl-C\n"
		       "  --appimage-offset            print where the SquashFS image starts\n"
		       "  --appimage-version           print the runtime's version\n",
		       prog);
		return 0;
	}
	if (opt && strcmp(opt, "--appimage-version") == 0) {
		puts(RUNTIME_VERSION);
		return 0;
	}
	if (image_offset(self, &offset) != 0)
		return 1;
	if (opt && strcmp(opt, "--appimage-offset") == 0) {
		printf("%lld\n", (long long)offset);
		return 0;
	}
	if (opt && strcmp(opt, "--appimage-extract") == 0) {
		if (extract(self, offset, "squashfs-root") != 0)
			return 1;
		puts("squashfs-root");
		return 0;
	}
	if (opt && strcmp(opt, "--appimage-mount") == 0) {
		char mnt[PATH_MAX];
		if (make_mount_point(mnt, sizeof mnt) != 0)
			return 1;
		return serve(self, offset, mnt, -1, 0);
	}
	if (opt && strcmp(opt, "--appimage-extract-and-run") == 0) {
		argv[1] = argv[0];
		return extract_and_run(self, offset, argv + 1);
	}
	if (opt) {
		complain("unknown option (see --appimage-help)", opt);
		return 2;
	}
	const char *x = getenv("APPIMAGE_EXTRACT_AND_RUN");
	if (x && strcmp(x, "1") == 0)
		return extract_and_run(self, offset, argv);
	return mount_and_run(self, offset, argv);
}
