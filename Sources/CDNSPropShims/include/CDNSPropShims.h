#ifndef CDNSPROP_SHIMS_H
#define CDNSPROP_SHIMS_H
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* Shims for what Swift cannot reach: the CMSG_* macros of the ICMP error queue,
   and getrandom(2), whose header Glibc's Swift module does not export. */

/* Turns on IP_RECVERR / IPV6_RECVERR so ICMP errors for an unconnected UDP
   socket are queued instead of lost. Returns 0 or -1 with errno. */
int CDNSPropShims_enable_recverr(int fd, int family);

/* Reads one entry of the socket's error queue (MSG_ERRQUEUE): the payload of
   the datagram that caused it (our query, so its ID), where it was sent, and
   the errno the ICMP message maps to (ECONNREFUSED for port unreachable, …).
   Returns the payload length, or -1 with errno (EAGAIN when the queue is empty). */
long CDNSPropShims_recv_error(int fd, void *buffer, size_t length,
                               struct sockaddr_storage *destination, socklen_t *destination_length,
                               int *icmp_errno);

/* libdispatch's read sources do not fire on EPOLLERR alone, which is all a
   queued ICMP error raises. An epoll set watching only for errors, itself
   read by a dispatch source, carries those events to the engine. */
int CDNSPropShims_error_watch_create(void);
/* Adds fd to the watch; `token` comes back from error_watch_ready. */
int CDNSPropShims_error_watch_add(int watch, int fd, uint64_t token);
/* Non-blocking: fills up to `max` tokens of sockets with errors pending. */
int CDNSPropShims_error_watch_ready(int watch, uint64_t *tokens, int max);

/* recvmmsg(2) without the mmsghdr/iovec set-up Swift would need per call: receives up
   to `count` (at most 64) datagrams into `buffers` (`count` slots of `slot` bytes), their
   sources into `sources`, their lengths into `lengths`; `truncated[i]` is 1 when datagram i
   was larger than a slot. Returns how many, or -1 with errno (EAGAIN: none waiting). */
int CDNSPropShims_recv_many(int fd, void *buffers, size_t slot, unsigned count,
                            struct sockaddr_storage *sources, unsigned *lengths, unsigned char *truncated);

/* mallopt(3), which Glibc's Swift module does not export: `top_pad` bytes of padding
   (M_TOP_PAD) when a heap grows or a thread's arena is made. Returns 1 when it was taken. */
int CDNSPropShims_tune_malloc(int top_pad);

/* getrandom(2): the kernel CSPRNG, for query IDs. Returns bytes written or -1. */
long CDNSPropShims_getrandom(void *buffer, size_t length);
#endif
