/*
 * scaibunker-agent: the guest side of docs/guest-protocol.md. One thread, one poll():
 * the link, a signalfd for SIGCHLD, and every stream's pipes, PTYs and files.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include "cmdline.h"
#include "exec.h"
#include "init.h"
#include "link.h"
#include "port.h"
#include "proto.h"
#include "streams.h"
#include "system.h"
#include "util.h"

#define NOFILE_WANT 8192 /* 1024 streams of up to 4 descriptors, and then some */
#define REAP_POLL_MS 100 /* only without a signalfd */

static struct pollset ps;

static int usage(void)
{
	fprintf(stderr, "usage: scaibunker-agent --serve | --connect SOCKET | --listen SOCKET"
			" | --version\n"
			"  (as PID 1 it takes no arguments: it sets up the guest and serves)\n");
	return 2;
}

/* Stdio must be taken, or a pipe could land on 0-2 and be clobbered in a child. */
static void take_stdio(void)
{
	for (;;) {
		int fd = open("/dev/null", O_RDWR);
		if (fd < 0) return;
		if (fd > 2) {
			close(fd);
			return;
		}
	}
}

static void raise_nofile(void)
{
	struct rlimit lim, want;
	if (getrlimit(RLIMIT_NOFILE, &lim) < 0) return;
	exec_set_child_nofile(&lim);
	want.rlim_max = lim.rlim_max < NOFILE_WANT ? NOFILE_WANT : lim.rlim_max;
	want.rlim_cur = want.rlim_max;
	if (setrlimit(RLIMIT_NOFILE, &want) < 0) { /* unprivileged: up to the hard limit */
		want.rlim_cur = want.rlim_max = lim.rlim_max;
		setrlimit(RLIMIT_NOFILE, &want);
	}
}

/* Also called without a signalfd (sfd < 0), every REAP_POLL_MS, just to reap. */
static void on_signals(int sfd)
{
	struct signalfd_siginfo si;
	bool stop = false;
	while (sfd >= 0 && read(sfd, &si, sizeof si) == (ssize_t)sizeof si) {
		if (si.ssi_signo == SIGIO) port_host_news();
		else if (si.ssi_signo != SIGCHLD) stop = true;
	}
	exec_reap_all();
	if (stop) { /* only asked of --serve and --connect: leave no process group behind */
		streams_abort_all();
		exit(0);
	}
}

/* The kernel command line picks the link: the virtio-serial port unless it says vsock. */
static void start_port(void)
{
	char line[CMDLINE_MAX];
	struct transport t;
	const char *bad = cmdline_transport(cmdline_read(line, sizeof line) ? line : "", &t);
	if (bad) agent_log("%s", bad);
	if (t.kind == TRANSPORT_VSOCK) port_start_listen(t.vsock_port, NULL);
	else port_start(NULL);
}

static int timeout_ms(int64_t now, int64_t a, int64_t b)
{
	int64_t next = !a ? b : !b ? a : a < b ? a : b;
	if (!next) return -1;
	return next <= now ? 0 : next - now > 60000 ? 60000 : (int)(next - now);
}

static _Noreturn void serve(int sfd)
{
	for (;;) {
		int64_t now = mono_ms();
		port_tick(now);
		link_take_starved();
		link_process();
		streams_step(now);
		port_flush();
		const uint8_t *out;
		bool rerun = link_take_starved() && !link_out_pending(&out); /* the room is there now */
		if (agent_shutdown_requested) {
			port_drain(2000);
			system_shutdown();
			agent_shutdown_requested = false;
		}

		ps.n = 0;
		pollset_add(&ps, sfd, POLLIN, NULL, 0);
		port_poll(&ps);
		streams_poll(&ps);
		int timeout = rerun ? 0 : timeout_ms(now, streams_next_deadline(), port_deadline());
		if (sfd < 0 && (timeout < 0 || timeout > REAP_POLL_MS)) timeout = REAP_POLL_MS;
		if (poll(ps.fd, (nfds_t)ps.n, timeout) < 0) {
			if (errno != EINTR) agent_log("poll: %s", strerror(errno));
			continue;
		}
		streams_mark_ready(&ps);
		if (sfd < 0 || ps.fd[0].revents) on_signals(sfd);
		port_events(&ps);
	}
}

int main(int argc, char **argv)
{
	bool pid1 = getpid() == 1;
	const char *socket_path = NULL, *listen_path = NULL;
	if (!pid1) {
		if (argc == 2 && !strcmp(argv[1], "--version")) {
			printf("scaibunker-agent %s (protocol %d)\n", AGENT_VERSION, PROTO_VERSION);
			return 0;
		}
		if (argc == 3 && !strcmp(argv[1], "--connect")) socket_path = argv[2];
		else if (argc == 3 && !strcmp(argv[1], "--listen")) listen_path = argv[2];
		else if (argc != 2 || strcmp(argv[1], "--serve")) return usage();
	}
	agent_host_test = socket_path || listen_path;

	sigset_t mask;
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGIO); /* the virtio port's "host connected" (port.c) */
	if (!pid1) { /* PID 1 gets no signal it does not ask for; the others end cleanly */
		sigaddset(&mask, SIGTERM);
		sigaddset(&mask, SIGINT);
		sigaddset(&mask, SIGHUP);
	}
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	if (pid1) init_system();
	else prctl(PR_SET_CHILD_SUBREAPER, 1); /* orphans of our children come to us to be reaped */
	take_stdio();
	if (chdir("/") < 0) agent_log("chdir /: %s", strerror(errno));
	raise_nofile();

	int sfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	if (sfd < 0) agent_log("signalfd: %s; reaping every %d ms", strerror(errno), REAP_POLL_MS);
	if (socket_path) port_start(socket_path);
	else if (listen_path) port_start_listen(VSOCK_PORT_DEFAULT, listen_path);
	else start_port();
	serve(sfd);
}
