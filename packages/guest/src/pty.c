#include "pty.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <sys/ioctl.h>
#include <termios.h>
#include <unistd.h>

int pty_resize(int master, unsigned cols, unsigned rows)
{
	struct winsize ws = {.ws_row = (unsigned short)rows, .ws_col = (unsigned short)cols};
	return ioctl(master, TIOCSWINSZ, &ws);
}

/* The slave through the master itself (Linux 4.13+), else by its /dev/pts name. */
static int open_slave(int master)
{
	int fd = ioctl(master, TIOCGPTPEER, O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (fd >= 0) return fd;
	unsigned n;
	char path[32];
	if (ioctl(master, TIOCGPTN, &n) < 0) return -1;
	snprintf(path, sizeof path, "/dev/pts/%u", n);
	return open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
}

int pty_open(int *master, int *slave, unsigned cols, unsigned rows)
{
	int unlock = 0;
	int m = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
	if (m < 0) return -1;
	int s = ioctl(m, TIOCSPTLCK, &unlock) < 0 ? -1 : open_slave(m);
	if (s >= 0 && pty_resize(m, cols, rows) == 0) {
		*master = m;
		*slave = s;
		return 0;
	}
	int err = errno;
	if (s >= 0) close(s);
	close(m);
	errno = err;
	return -1;
}
