#define _GNU_SOURCE
#include <malloc.h>
#include "CDNSPropShims.h"
#include <errno.h>
#include <string.h>
#include <netinet/in.h>
#include <linux/errqueue.h>
#include <sys/uio.h>
#include <sys/random.h>
#include <sys/epoll.h>

int CDNSPropShims_enable_recverr(int fd, int family) {
    int on = 1;
    if (family == AF_INET6)
        return setsockopt(fd, IPPROTO_IPV6, IPV6_RECVERR, &on, sizeof on);
    return setsockopt(fd, IPPROTO_IP, IP_RECVERR, &on, sizeof on);
}

long CDNSPropShims_recv_error(int fd, void *buffer, size_t length,
                               struct sockaddr_storage *destination, socklen_t *destination_length,
                               int *icmp_errno) {
    char control[512];
    struct iovec iov = { .iov_base = buffer, .iov_len = length };
    struct msghdr msg;
    memset(&msg, 0, sizeof msg);
    msg.msg_name = destination;
    msg.msg_namelen = sizeof *destination;
    msg.msg_iov = &iov;
    msg.msg_iovlen = 1;
    msg.msg_control = control;
    msg.msg_controllen = sizeof control;
    ssize_t n = recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT);
    if (n < 0) return -1;
    *destination_length = msg.msg_namelen;
    *icmp_errno = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&msg); c != NULL; c = CMSG_NXTHDR(&msg, c)) {
        if ((c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_RECVERR) ||
            (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_RECVERR)) {
            struct sock_extended_err err;
            memcpy(&err, CMSG_DATA(c), sizeof err);
            *icmp_errno = (int)err.ee_errno;
        }
    }
    return (long)n;
}

int CDNSPropShims_recv_many(int fd, void *buffers, size_t slot, unsigned count,
                            struct sockaddr_storage *sources, unsigned *lengths, unsigned char *truncated) {
    struct mmsghdr msgs[64];
    struct iovec iov[64];
    if (count > 64) count = 64;
    memset(msgs, 0, sizeof(struct mmsghdr) * count);
    for (unsigned i = 0; i < count; i++) {
        iov[i].iov_base = (char *)buffers + i * slot;
        iov[i].iov_len = slot;
        msgs[i].msg_hdr.msg_name = &sources[i];
        msgs[i].msg_hdr.msg_namelen = sizeof sources[i];
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int n = recvmmsg(fd, msgs, count, MSG_DONTWAIT, NULL);
    for (int i = 0; i < n; i++) {
        lengths[i] = msgs[i].msg_len;
        truncated[i] = (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) ? 1 : 0;
    }
    return n;
}

int CDNSPropShims_tune_malloc(int top_pad) {
    return mallopt(M_TOP_PAD, top_pad);
}

long CDNSPropShims_getrandom(void *buffer, size_t length) {
    return (long)getrandom(buffer, length, 0);
}

int CDNSPropShims_error_watch_create(void) {
    return epoll_create1(EPOLL_CLOEXEC);
}

int CDNSPropShims_error_watch_add(int watch, int fd, uint64_t token) {
    struct epoll_event ev;
    memset(&ev, 0, sizeof ev);
    ev.events = EPOLLERR;   /* reported whether asked for or not; nothing else */
    ev.data.u64 = token;
    return epoll_ctl(watch, EPOLL_CTL_ADD, fd, &ev);
}

int CDNSPropShims_error_watch_ready(int watch, uint64_t *tokens, int max) {
    struct epoll_event events[64];
    if (max > 64) max = 64;
    int n = epoll_wait(watch, events, max, 0);
    for (int i = 0; i < n; i++) tokens[i] = events[i].data.u64;
    return n;
}
