/* Wire constants of guest protocol v1 (docs/guest-protocol.md). */
#ifndef SB_PROTO_H
#define SB_PROTO_H

#define AGENT_VERSION "0.1.0"
#define PROTO_VERSION 1

#define PORT_NAME "org.scaibunker.agent.0"

#define FRAME_HDR 16
#define FRAME_MAX 262144u /* payload */
#define DATA_MAX 65536u   /* payload of one DATA frame */
#define WINDOW 262144u    /* initial credit of every direction of every (stream, channel) */
#define MAX_STREAMS 1024
#define LIST_MAX 10000
#define ENTROPY_MAX 512

enum frame_type {
	FT_HELLO = 1,
	FT_OPEN,
	FT_REPLY,
	FT_DATA,
	FT_EOF,
	FT_CREDIT,
	FT_CONTROL,
	FT_DONE,
	FT_ERROR,
	FT_LAST = FT_ERROR
};

enum channel { CH_IN = 0, CH_OUT = 1, CH_ERR = 2 };

enum key {
	K_OP = 1,
	K_ARGV,
	K_ENV,
	K_CWD,
	K_UID,
	K_GID,
	K_TIMEOUT_MS,
	K_COLS,
	K_ROWS,
	K_STDIN,
	K_PATH,
	K_MODE,
	K_PATH2,
	K_RECURSIVE,
	K_PID,
	K_EXIT_CODE,
	K_SIGNAL,
	K_TIMED_OUT,
	K_SIZE,
	K_TYPE,
	K_MTIME_MS,
	K_ENTRY,
	K_NAME,
	K_ERR_CODE,
	K_ERR_MESSAGE,
	K_ERRNO,
	K_PROTO_VERSION,
	K_AGENT_VERSION,
	K_HOSTNAME,
	K_MACHINE_ID,
	K_ENTROPY,
	K_TIME_MS,
	K_UPTIME_MS,
	K_CANCEL,
	K_TRUNCATED,
	K_MEM_TOTAL_KIB,
	K_MEM_AVAILABLE_KIB,
	K_USER,
	K_NET,
	K_NICS,
	K_LAST = K_NICS
};

#define E_BAD_FRAME "BAD_FRAME"
#define E_BAD_REQUEST "BAD_REQUEST"
#define E_UNKNOWN_OP "UNKNOWN_OP"
#define E_STREAM_IN_USE "STREAM_IN_USE"
#define E_BUSY "BUSY"
#define E_SPAWN_FAILED "SPAWN_FAILED"
#define E_IO "IO"
#define E_NO_SUCH_USER "NO_SUCH_USER"
#define E_SEALED "SEALED"

#endif
