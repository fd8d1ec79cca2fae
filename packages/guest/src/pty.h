/* A pseudo-terminal pair for exec with COLS/ROWS. */
#ifndef SB_PTY_H
#define SB_PTY_H

/* Master (non-blocking) and slave, both close-on-exec; -1 with errno on failure. */
int pty_open(int *master, int *slave, unsigned cols, unsigned rows);
int pty_resize(int master, unsigned cols, unsigned rows);

#endif
