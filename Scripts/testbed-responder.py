#!/usr/bin/env python3
"""Small misbehaving resolvers for the dnsprop testbed (Scripts/testbed starts them).

  liar      ADDRESS UPSTREAM   forwards every query to UPSTREAM (a real resolver of the
                               testbed) over UDP and TCP, and rewrites an NXDOMAIN answer into
                               an address (LIE_A), as NXDOMAIN-rewriting ISP resolvers do:
                               NOERROR, one A record, no authority section
  tcp-only  ADDRESS UPSTREAM   forwards over TCP only; nothing listens on UDP

The wire format is handled by hand (RFC 1035 §4.1): the header, the question's end, and an
answer record whose owner is a pointer to the question name (0xC00C).
"""
import socket, struct, sys, threading

LIE_A = bytes([203, 0, 113, 66])


def question_end(msg):
    i = 12
    while i < len(msg):
        n = msg[i]
        if n == 0:
            return i + 1 + 4
        if n & 0xC0 == 0xC0:
            return i + 2 + 4
        i += 1 + n
    raise ValueError("question runs past the message")


def rewrite(answer):
    if len(answer) < 12 or answer[3] & 0x0F != 3:
        return answer
    qend = question_end(answer)
    flags = struct.unpack("!H", answer[2:4])[0] & 0xFFF0  # rcode NOERROR
    header = answer[:2] + struct.pack("!HHHHH", flags, 1, 1, 0, 0)
    record = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + LIE_A
    return header + answer[12:qend] + record


def ask_udp(upstream, query):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(3)
    try:
        s.sendto(query, (upstream, 53))
        return s.recvfrom(65535)[0]
    finally:
        s.close()


def recv_exact(c, n):
    data = b""
    while len(data) < n:
        chunk = c.recv(n - len(data))
        if not chunk:
            raise ConnectionError("closed")
        data += chunk
    return data


def ask_tcp(upstream, query):
    s = socket.create_connection((upstream, 53), timeout=3)
    try:
        s.sendall(struct.pack("!H", len(query)) + query)
        n = struct.unpack("!H", recv_exact(s, 2))[0]
        return recv_exact(s, n)
    finally:
        s.close()


def serve_udp(address, upstream, lie):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((address, 53))
    while True:
        query, peer = s.recvfrom(65535)
        def handle(query=query, peer=peer):
            try:
                answer = ask_udp(upstream, query)
                s.sendto(rewrite(answer) if lie else answer, peer)
            except (OSError, ValueError):
                pass
        threading.Thread(target=handle, daemon=True).start()


def serve_tcp(address, upstream, lie):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, 53))
    s.listen(64)
    while True:
        c, _ = s.accept()
        def handle(c=c):
            try:
                c.settimeout(5)
                while True:
                    n = struct.unpack("!H", recv_exact(c, 2))[0]
                    answer = ask_tcp(upstream, recv_exact(c, n))
                    answer = rewrite(answer) if lie else answer
                    c.sendall(struct.pack("!H", len(answer)) + answer)
            except (OSError, ValueError, ConnectionError, struct.error):
                pass
            finally:
                c.close()
        threading.Thread(target=handle, daemon=True).start()


def main():
    mode, address, upstream = sys.argv[1], sys.argv[2], sys.argv[3]
    lie = mode == "liar"
    threads = [threading.Thread(target=serve_tcp, args=(address, upstream, lie), daemon=True)]
    if mode == "liar":
        threads.append(threading.Thread(target=serve_udp, args=(address, upstream, lie), daemon=True))
    elif mode != "tcp-only":
        sys.exit("usage: testbed-responder.py liar|tcp-only ADDRESS UPSTREAM")
    for t in threads:
        t.start()
    for t in threads:
        t.join()


if __name__ == "__main__":
    main()
