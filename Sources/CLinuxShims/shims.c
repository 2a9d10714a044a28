#define _GNU_SOURCE
#include "CLinuxShims.h"

#include <sched.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <sys/xattr.h>
#include <sys/prctl.h>
#include <signal.h>
#include <malloc.h>
#include <linux/sockios.h>

#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434
#endif
#ifndef SYS_pidfd_getfd
#define SYS_pidfd_getfd 438
#endif

int pw_pidfd_open(pid_t pid) { return (int)syscall(SYS_pidfd_open, pid, 0); }

int pw_pidfd_getfd(int pidfd, int targetfd) {
    return (int)syscall(SYS_pidfd_getfd, pidfd, targetfd, 0);
}

int pw_socket_netns(int sockfd) { return ioctl(sockfd, SIOCGSKNS); }

int pw_unshare_net(void) { return unshare(CLONE_NEWNET); }

int pw_setns_net(int fd) { return setns(fd, CLONE_NEWNET); }

long pw_sockprotoname(const char *path, char *buffer, unsigned long size) {
    return (long)getxattr(path, "system.sockprotoname", buffer, size);
}

int pw_die_with_parent(void) { return prctl(PR_SET_PDEATHSIG, SIGKILL); }

int pw_single_malloc_arena(void) { return mallopt(M_ARENA_MAX, 1); }
