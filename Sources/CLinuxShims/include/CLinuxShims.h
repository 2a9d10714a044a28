// Linux calls that Swift cannot import directly: variadic syscall()/ioctl(), and
// declarations glibc hides behind _GNU_SOURCE.
#ifndef PORTWARDEN_CLINUXSHIMS_H
#define PORTWARDEN_CLINUXSHIMS_H

#include <sys/types.h>

/// pidfd_open(2): a file descriptor that refers to process `pid`; -1 and errno on failure.
int pw_pidfd_open(pid_t pid);

/// pidfd_getfd(2): a duplicate of `targetfd` from the process behind `pidfd`.
int pw_pidfd_getfd(int pidfd, int targetfd);

/// ioctl(SIOCGSKNS): a file descriptor for the network namespace a socket belongs to.
int pw_socket_netns(int sockfd);

/// unshare(CLONE_NEWNET) for the calling thread.
int pw_unshare_net(void);

/// setns(fd, CLONE_NEWNET).
int pw_setns_net(int fd);

/// getxattr(path, "system.sockprotoname"): what a socket calls itself ("TCP", "UNIX-STREAM").
long pw_sockprotoname(const char *path, char *buffer, unsigned long size);

/// prctl(PR_SET_PDEATHSIG, SIGKILL): die when the parent does (test fixtures).
int pw_die_with_parent(void);

/// mallopt(M_ARENA_MAX, 1): every thread allocates from the main arena.
int pw_single_malloc_arena(void);

#endif
