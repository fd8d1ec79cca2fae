/*
 * exec: a child in its own session (so its whole process group can be signalled), its
 * stdio on pipes or a PTY, and the stream that carries them.
 *
 * Life of an exec stream: spawned → started (REPLY PID once the close-on-exec report pipe
 * reads EOF) → running → exited (reaped; the process group is killed at once) → drained
 * (what the pipes held at exit is sent) → EOF on each output → DONE.
 */
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "effects.h"
#include "exec.h"
#include "link.h"
#include "pty.h"
#include "user.h"
#include "util.h"

extern char **environ;

enum { T_SPAWN = 1, T_IN = 2, T_OUT1 = 4, T_OUT2 = 8 };
#define T_OUT(ch) ((ch) == CH_OUT ? T_OUT1 : T_OUT2)

/* A PTY's last output can still be in the kernel's flip buffer when the child is reaped. */
#define PTY_GRACE_MS 100
#define TIMEOUT_MAX_MS (1000LL * 3600 * 24 * 365 * 100)
#define DEFAULT_PATH "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

static struct rlimit child_nofile;
static int child_nofile_set;

void exec_set_child_nofile(const struct rlimit *lim)
{
	child_nofile = *lim;
	child_nofile_set = 1;
}

/* SIGKILL first: a child that has not reached setsid() yet can no longer fork. */
static void kill_tree(pid_t pid)
{
	kill(pid, SIGKILL);
	kill(-pid, SIGKILL);
}

static void signal_group(pid_t pid, int sig)
{
	if (kill(-pid, sig) < 0 && errno == ESRCH) kill(pid, sig); /* not in its session yet */
}

static void close_fd(int *fd)
{
	if (*fd >= 0) close(*fd);
	*fd = -1;
}

static int set_nonblock(int fd)
{
	int fl = fcntl(fd, F_GETFL);
	return fl < 0 ? -1 : fcntl(fd, F_SETFL, fl | O_NONBLOCK);
}

/* ---- the child ---------------------------------------------------------------------- */

struct spawn {
	char **argv, **env;
	const char *cwd;
	int stdio[3];
	int report; /* write end of the close-on-exec pipe that carries errno */
	bool pty, drop;
	uid_t uid;
	gid_t gid;
};

static _Noreturn void child(const struct spawn *sp)
{
	sigset_t none;
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	signal(SIGPIPE, SIG_DFL);
	setsid();
	if (sp->pty) ioctl(sp->stdio[0], TIOCSCTTY, 0);
	for (int i = 0; i < 3; i++) dup2(sp->stdio[i], i);
	/*
	 * Close the agent's other descriptors now, not at exec: a child stuck before exec (in
	 * chdir on a dead mount, say) must not hold another stream's pipes open.
	 */
	int report = sp->report;
	if (dup2(report, 3) == 3) {
		report = 3;
		fcntl(report, F_SETFD, FD_CLOEXEC);
		syscall(SYS_close_range, 4u, ~0u, 0u); /* ENOSYS before Linux 5.9: exec closes them */
	}
	if (child_nofile_set) setrlimit(RLIMIT_NOFILE, &child_nofile);
	if (sp->cwd && chdir(sp->cwd) < 0) goto fail;
	if (sp->drop && (setgroups(0, NULL) < 0 || setgid(sp->gid) < 0 || setuid(sp->uid) < 0))
		goto fail;
	environ = sp->env; /* execvp searches the child's PATH, not the agent's */
	execvp(sp->argv[0], sp->argv);
fail:;
	int err = errno;
	ssize_t n = write(report, &err, sizeof err);
	(void)n;
	_exit(127);
}

/*
 * PATH, HOME and (with a PTY) TERM, unless ENV replaces them, then the ENV entries as given.
 * Only the defaults are looked up, so this stays linear in the number of entries.
 */
static char **child_env(const struct request *r, const char *home)
{
	char **env = request_alloc((4 + r->envc) * sizeof *env);
	char *home_var = request_alloc(strlen(home) + sizeof "HOME=");
	if (!env || !home_var) return NULL;
	strcpy(home_var, "HOME=");
	strcat(home_var, home);
	char *defaults[] = {(char *)"PATH=" DEFAULT_PATH, home_var,
			    HAS(r, K_COLS) ? (char *)"TERM=xterm-256color" : NULL};
	for (size_t i = 0; i < r->envc; i++) {
		size_t key = (size_t)(strchr(r->env[i], '=') - r->env[i]) + 1;
		for (int d = 0; d < 3; d++)
			if (defaults[d] && !strncmp(defaults[d], r->env[i], key)) defaults[d] = NULL;
	}
	size_t n = 0;
	for (int d = 0; d < 3; d++)
		if (defaults[d]) env[n++] = defaults[d];
	for (size_t i = 0; i < r->envc; i++) env[n++] = r->env[i];
	env[n] = NULL;
	return env;
}

/* ---- the stream --------------------------------------------------------------------- */

static void stdin_close(struct stream *s)
{
	struct exec_state *x = &s->u.x;
	stream_consumed(s, x->in_len); /* dropped, but the host may send more */
	free(x->in_buf);
	x->in_buf = NULL;
	x->in_off = x->in_len = 0;
	if (!x->pty) close_fd(&x->in_fd);
	x->in_fd = -1; /* with a PTY it is the master, closed with the output */
}

static void stdin_flush(struct stream *s)
{
	struct exec_state *x = &s->u.x;
	while (x->in_fd >= 0 && x->in_len && (s->ready & T_IN)) {
		ssize_t n = write(x->in_fd, x->in_buf + x->in_off, x->in_len);
		if (n > 0) {
			x->in_off += (uint32_t)n;
			x->in_len -= (uint32_t)n;
			if (!x->in_len) x->in_off = 0;
			stream_consumed(s, (size_t)n);
		} else if (n < 0 && errno == EINTR) {
			continue;
		} else if (n == 0 || errno == EAGAIN) {
			s->ready &= ~T_IN;
		} else {
			stdin_close(s); /* EPIPE: the child closed its stdin */
		}
	}
	if (x->in_fd >= 0 && !x->in_len && x->in_eof && !x->pty) stdin_close(s);
}

static void close_output(struct stream *s, int ch)
{
	struct exec_state *x = &s->u.x;
	if (x->pty) stdin_close(s);
	close_fd(&x->out_fd[ch]);
	link_send(FT_EOF, s->id, (uint8_t)ch, NULL, 0);
}

static void pump_output(struct stream *s, int ch)
{
	struct exec_state *x = &s->u.x;
	while (x->out_fd[ch] >= 0) {
		long n = stream_pump(s, ch, x->out_fd[ch], T_OUT(ch));
		if (n == 0) return;
		if (n < 0) {
			close_output(s, ch); /* end of output, or a read error that ends it all the same */
			return;
		}
		x->drain_left[ch] -= (uint64_t)n < x->drain_left[ch] ? (uint64_t)n : x->drain_left[ch];
	}
}

/* After exit: sent all the pipe held at exit (and, for a PTY, waited out the grace). */
static bool drained(const struct exec_state *x, int ch, int64_t now)
{
	return !x->drain_left[ch] && (!x->pty || now >= x->exit_ms + PTY_GRACE_MS);
}

static void finish(struct stream *s)
{
	struct exec_state *x = &s->u.x;
	int st = x->status;
	struct tlv_writer w;
	stream_reply_begin(&w);
	tlvw_u64(&w, K_EXIT_CODE, WIFEXITED(st) ? (uint64_t)WEXITSTATUS(st) : (uint64_t)-1);
	tlvw_u64(&w, K_SIGNAL, WIFSIGNALED(st) ? (uint64_t)WTERMSIG(st) : 0);
	tlvw_u64(&w, K_TIMED_OUT, x->timed_out);
	stream_done(s, &w);
}

/* The report pipe: errno if the child could not exec, EOF once it did (or died trying). */
static bool spawn_result(struct stream *s)
{
	struct exec_state *x = &s->u.x;
	if (!(s->ready & T_SPAWN) && !x->exited) return false;
	if (!link_can_emit(SMALL_FRAME)) return false;
	int err = 0;
	ssize_t n = read(x->spawn_fd, &err, sizeof err);
	if (n < 0 && (errno == EAGAIN || errno == EINTR)) {
		s->ready &= ~T_SPAWN;
		return false;
	}
	if (n > 0) {
		if (n != sizeof err) err = EIO;
		char msg[128];
		snprintf(msg, sizeof msg, "cannot run %s: %s", x->what, strerror(err));
		stream_fail(s, E_SPAWN_FAILED, msg, err);
		return false;
	}
	close_fd(&x->spawn_fd);
	x->started = true;
	struct tlv_writer w;
	stream_reply_begin(&w);
	tlvw_u64(&w, K_PID, (uint64_t)x->pid);
	stream_reply(s, &w);
	return true;
}

static void exec_step(struct stream *s, int64_t now)
{
	struct exec_state *x = &s->u.x;
	if (s->deadline && now >= s->deadline) {
		s->deadline = 0;
		if (!x->exited) {
			kill_tree(x->pid);
			x->timed_out = true;
		}
	}
	if (!x->started && !spawn_result(s)) return;
	stdin_flush(s);
	pump_output(s, CH_OUT);
	pump_output(s, CH_ERR);
	if (!x->exited) return;
	for (int ch = CH_OUT; ch <= CH_ERR; ch++)
		if (x->out_fd[ch] >= 0 && drained(x, ch, now) && link_can_emit(SMALL_FRAME))
			close_output(s, ch);
	if (x->out_fd[CH_OUT] < 0 && x->out_fd[CH_ERR] < 0 && link_can_emit(SMALL_FRAME)) finish(s);
}

static void exec_poll(struct stream *s, struct pollset *ps)
{
	struct exec_state *x = &s->u.x;
	if (!x->started) {
		if (!(s->ready & T_SPAWN) && link_can_emit(SMALL_FRAME))
			pollset_add(ps, x->spawn_fd, POLLIN, s, T_SPAWN);
		return;
	}
	if (x->in_fd >= 0 && x->in_len && !(s->ready & T_IN))
		pollset_add(ps, x->in_fd, POLLOUT, s, T_IN);
	for (int ch = CH_OUT; ch <= CH_ERR; ch++)
		if (x->out_fd[ch] >= 0 && !(s->ready & T_OUT(ch)) && s->out_credit[ch] &&
		    link_can_emit(DATA_ROOM))
			pollset_add(ps, x->out_fd[ch], POLLIN, s, T_OUT(ch));
}

static void exec_data(struct stream *s, const uint8_t *p, size_t n)
{
	struct exec_state *x = &s->u.x;
	if (x->in_fd < 0 || x->in_eof) {
		stream_consumed(s, n); /* no stdin (any more): dropped */
		return;
	}
	if (!x->in_buf && !(x->in_buf = malloc(WINDOW))) {
		stream_fail_errno(s, ENOMEM, "stdin buffer");
		return;
	}
	/* Fits: the buffer holds unacknowledged bytes only, and the host stays within WINDOW. */
	if (x->in_off + x->in_len + n > WINDOW) {
		memmove(x->in_buf, x->in_buf + x->in_off, x->in_len);
		x->in_off = 0;
	}
	memcpy(x->in_buf + x->in_off + x->in_len, p, n);
	x->in_len += (uint32_t)n;
}

static void exec_eof(struct stream *s)
{
	/* A terminal has no end of input to give; the host sends ^D itself if it means one. */
	if (!s->u.x.pty) s->u.x.in_eof = true;
}

static void exec_control(struct stream *s, const struct request *r)
{
	struct exec_state *x = &s->u.x;
	if (!x->exited && HAS(r, K_CANCEL) && r->cancel) kill_tree(x->pid);
	if (!x->exited && HAS(r, K_SIGNAL)) signal_group(x->pid, (int)r->signal);
	if (HAS(r, K_COLS) && x->pty && x->out_fd[CH_OUT] >= 0)
		pty_resize(x->out_fd[CH_OUT], (unsigned)r->cols, (unsigned)r->rows);
}

static void exec_release(struct stream *s)
{
	struct exec_state *x = &s->u.x;
	if (x->pid > 0 && !x->exited) kill_tree(x->pid); /* reaped later as anyone's orphan */
	stdin_close(s);
	close_fd(&x->spawn_fd);
	close_fd(&x->out_fd[CH_OUT]);
	close_fd(&x->out_fd[CH_ERR]);
}

static const struct stream_kind exec_kind = {
	.data = exec_data,
	.eof = exec_eof,
	.control = exec_control,
	.poll = exec_poll,
	.step = exec_step,
	.release = exec_release,
};

static void exited(struct stream *s, int status)
{
	struct exec_state *x = &s->u.x;
	x->exited = true;
	x->status = status;
	x->exit_ms = mono_ms();
	s->deadline = x->pty ? x->exit_ms + PTY_GRACE_MS : 0;
	for (int ch = CH_OUT; ch <= CH_ERR; ch++) {
		int held = 0;
		if (x->out_fd[ch] >= 0 && ioctl(x->out_fd[ch], FIONREAD, &held) == 0 && held > 0)
			x->drain_left[ch] = (uint64_t)held;
	}
	if (x->in_fd >= 0) stdin_close(s);
}

void exec_reap_all(void)
{
	for (;;) {
		siginfo_t si;
		si.si_pid = 0;
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 || si.si_pid == 0) return;
		pid_t pid = si.si_pid;
		struct stream *s = streams_find_pid(&exec_kind, pid);
		/* Still a zombie, the leader keeps its group id ours: no other group gets this. */
		if (s) kill(-pid, SIGKILL);
		int status;
		if (waitpid(pid, &status, 0) != pid) return;
		if (s) exited(s, status);
	}
}

/* ---- op_exec ------------------------------------------------------------------------ */

static void close_child_ends(struct spawn *sp)
{
	for (int i = 0; i < 3; i++) {
		if (sp->stdio[i] < 0) continue;
		for (int j = i + 1; j < 3; j++)
			if (sp->stdio[j] == sp->stdio[i]) sp->stdio[j] = -1; /* a PTY slave, thrice */
		close_fd(&sp->stdio[i]);
	}
	close_fd(&sp->report);
}

static int open_report(struct exec_state *x, struct spawn *sp)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0) return -1;
	x->spawn_fd = p[0];
	sp->report = p[1];
	return set_nonblock(x->spawn_fd);
}

/* The parent's and the child's ends of stdin, stdout and stderr. */
static int open_stdio(struct stream *s, const struct request *r, struct spawn *sp)
{
	struct exec_state *x = &s->u.x;
	int p[2];
	if (x->pty) {
		int slave;
		if (pty_open(&x->out_fd[CH_OUT], &slave, (unsigned)r->cols, (unsigned)r->rows) < 0)
			return -1;
		x->in_fd = x->out_fd[CH_OUT];
		sp->stdio[0] = sp->stdio[1] = sp->stdio[2] = slave;
		return 0;
	}
	if (HAS(r, K_STDIN) && r->stdin_) {
		if (pipe2(p, O_CLOEXEC) < 0) return -1;
		sp->stdio[0] = p[0];
		x->in_fd = p[1];
		if (set_nonblock(x->in_fd) < 0) return -1;
	} else if ((sp->stdio[0] = open("/dev/null", O_RDONLY | O_CLOEXEC)) < 0) {
		return -1;
	}
	for (int ch = CH_OUT; ch <= CH_ERR; ch++) {
		if (pipe2(p, O_CLOEXEC) < 0) return -1;
		x->out_fd[ch] = p[0];
		sp->stdio[ch] = p[1];
		if (set_nonblock(p[0]) < 0) return -1;
	}
	return 0;
}

void op_exec(struct stream *s, const struct request *r)
{
	struct exec_state *x = &s->u.x;
	struct spawn sp = {.argv = r->argv, .cwd = r->cwd, .stdio = {-1, -1, -1}, .report = -1};
	x->spawn_fd = x->in_fd = x->out_fd[0] = x->out_fd[1] = x->out_fd[2] = -1;
	x->pty = sp.pty = HAS(r, K_COLS);
	snprintf(x->what, sizeof x->what, "%s", r->argv[0]);
	s->kind = &exec_kind; /* from here on, release() closes what the parent holds */

	struct user_ids who;
	const char *unknown = user_resolve(r, &who);
	if (unknown) {
		stream_fail(s, E_NO_SUCH_USER, unknown, 0);
		return;
	}
	sp.drop = who.given;
	sp.uid = who.uid;
	sp.gid = who.gid;
	/* A named account starts in its home, when that exists. */
	struct stat home;
	if (!sp.cwd && HAS(r, K_USER) && stat(who.home, &home) == 0 && S_ISDIR(home.st_mode)) sp.cwd = who.home;
	sp.env = child_env(r, who.home);
	if (!sp.env) {
		stream_fail(s, E_BAD_REQUEST, "request too large", 0);
		return;
	}

	if (open_report(x, &sp) < 0 || open_stdio(s, r, &sp) < 0) {
		int err = errno;
		close_child_ends(&sp);
		stream_fail_errno(s, err, "exec: setting up stdio");
		return;
	}
	pid_t pid = fork();
	if (pid == 0) child(&sp);
	int err = errno;
	close_child_ends(&sp);
	if (pid < 0) {
		stream_fail_errno(s, err, "cannot run %s: fork", x->what);
		return;
	}
	x->pid = pid;
	s->ready = T_IN; /* a fresh pipe has room */
	if (HAS(r, K_TIMEOUT_MS) && r->timeout_ms) {
		int64_t ms = r->timeout_ms < TIMEOUT_MAX_MS ? (int64_t)r->timeout_ms : TIMEOUT_MAX_MS;
		s->deadline = mono_ms() + ms;
	}
}
