#!/usr/bin/env python3
"""Many cache-like resolvers in one process, each on its own loopback address, for the
watch screen's world-scale tests (test_watch_screen.py). Python standard library only.

    world_responder.py CONFIG.json

CONFIG is a list of {"address": "127.64.1.1", "port": 53, "a": "192.0.2.10" | null,
"txt": "text" | null, "silent": false}. Each address answers UDP queries the way a
recursive resolver with the record in its cache does (RFC 1035 section 4.1): type A with
`a`, type TXT with `txt` (one character-string, any bytes: hostile text included), other
types or a null value with NOERROR and no answer (NODATA); `silent` addresses read queries
and never answer (a resolver that went away behind a firewall). Malformed packets and
responses are dropped. Prints "ready N" once every socket is bound; runs until killed.
"""
import json, selectors, socket, struct, sys

TTL = 300


def question(packet):
    """(id, flags, qname wire bytes, qtype, qclass, end) or None."""
    if len(packet) < 12:
        return None
    ident, flags, qdcount = struct.unpack("!HHH", packet[:6])
    if flags & 0x8000 or qdcount != 1:
        return None
    offset = 12
    while True:
        if offset >= len(packet):
            return None
        length = packet[offset]
        if length & 0xC0:
            return None
        offset += 1 + length
        if length == 0:
            break
    if offset + 4 > len(packet):
        return None
    qtype, qclass = struct.unpack("!HH", packet[offset:offset + 4])
    return ident, flags, packet[12:offset], qtype, qclass, offset + 4


def respond(packet, entry):
    q = question(packet)
    if q is None:
        return None
    ident, flags, qname, qtype, qclass, end = q
    rdata = None
    if qtype == 1 and entry.get("a"):
        rdata = socket.inet_aton(entry["a"])
    elif qtype == 16 and entry.get("txt") is not None:
        text = entry["txt"].encode("latin-1")[:255]
        rdata = bytes([len(text)]) + text
    # QR, opcode copied, AA off, RD copied, RA on, NOERROR
    out_flags = 0x8000 | (flags & 0x7900) | 0x0080
    answers = 0 if rdata is None else 1
    header = struct.pack("!HHHHHH", ident, out_flags, 1, answers, 0, 0)
    body = qname + struct.pack("!HH", qtype, qclass)
    if rdata is not None:
        body += b"\xc0\x0c" + struct.pack("!HHIH", qtype, 1, TTL, len(rdata)) + rdata
    return header + body


def main():
    config = json.load(open(sys.argv[1]))
    selector = selectors.DefaultSelector()
    for entry in config:
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind((entry["address"], entry.get("port", 53)))
        s.setblocking(False)
        selector.register(s, selectors.EVENT_READ, entry)
    print(f"ready {len(config)}", flush=True)
    while True:
        for key, _ in selector.select():
            while True:
                try:
                    packet, peer = key.fileobj.recvfrom(4096)
                except BlockingIOError:
                    break
                if key.data.get("silent"):
                    continue
                reply = respond(packet, key.data)
                if reply is not None:
                    key.fileobj.sendto(reply, peer)


if __name__ == "__main__":
    main()
