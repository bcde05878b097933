#!/usr/bin/env python3
"""A stand-in for a registry's RDAP server (RFC 7480/9082/9083), for dnsprop's tests. Loopback only.

    Scripts/rdap-standin.py --listen 127.53.3.1:8043 [--listen 127.53.3.2:8043] [--log FILE]

The base URL selects the registry state: http://HOST:PORT/<state>/domain/<name>, so that one server
answers every scenario (RFC 9224 base URLs carry a path too, e.g. https://rdap.verisign.com/com/v1/).
States: active, lame (active, with ns1 and ns2 registered), clienthold, serverhold, redemption,
pendingdelete, renewed, expiring (active, expires in 10 days), 404, 429 (Retry-After: 30), 500,
garbage (200 with HTML), slow (answers after 30 s), huge (a 3 MB document), deep (nested 100000
levels), hostile (control characters and wrong types), redirect (302 to the other --listen
address: another origin), redirect-https-to-http is not testable without TLS and is unit-tested.

Ported from Google's Nomulus registry (the RDAP server of .app, .dev and other TLDs), files
  core/src/main/java/google/registry/rdap/RdapActionBase.java   (request handling, error bodies)
  core/src/main/java/google/registry/rdap/RdapDomainAction.java (domain path rules)
  core/src/test/resources/google/registry/rdap/rdap_domain*.json (the documents' shape)
rules:
- GET and HEAD only (RFC 7480 §4.1); HEAD answers with no body.
- The path is <base>/domain/<name>; a request target that is not a valid URI (raw non-ASCII bytes,
  spaces) is a 400 "Bad Request" / "Not a valid domain name" (RdapActionBase: URISyntaxException).
- The name is canonicalised as Nomulus does (lower case, a final dot dropped, a percent-encoded
  U-label converted to its A-label); a name that is not a valid domain name (empty label, bad
  character, hyphen at a label's edge, label > 63, name > 253, a single label) is a 400 with
  "<name> is not a valid domain name: …" (RdapDomainAction: validateDomainName → BadRequestException);
  a valid name under a TLD the registry does not run is a 404 (TldDoesNotExistException).
- Not found: 404 with "<name> not found". Errors carry RFC 9083 §6 bodies (errorCode, title,
  description) with rdapConformance; every answer has Content-Type application/rdap+json;charset=UTF-8
  and Access-Control-Allow-Origin: * (RdapActionBase, RDAP Technical Implementation Guide 1.13).
- Nomulus does not look at Accept; neither does this. The request log records it for the tests.
"""
import argparse, json, re, sys, threading, time, urllib.parse
from datetime import datetime, timedelta, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TLDS = {"com", "net", "test", "example"}        # the TLDs this registry runs
REGISTERED = {"victim.com", "broken.com"}
STATES = {"active", "lame", "clienthold", "serverhold", "redemption", "pendingdelete", "renewed", "expiring",
          "404", "429", "500", "garbage", "slow", "huge", "deep", "hostile", "redirect"}
LABEL = re.compile(r"^[a-z0-9_]([a-z0-9_-]{0,61}[a-z0-9_])?$")
LOG_LOCK = threading.Lock()


def rfc3339(t):
    return t.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def validate(name):
    """Nomulus canonicalizeName + validateDomainName: returns (A-label name, None) or (None, reason)."""
    name = name.lower()
    if name.endswith("."):
        name = name[:-1]
    try:
        if any(ord(c) > 127 for c in name):
            name = name.encode("idna").decode("ascii")
    except UnicodeError as e:
        return None, f"invalid IDN: {e}"
    labels = name.split(".")
    if len(labels) < 2:
        return None, "Domain name must have exactly one part above the TLD"
    if len(name) > 253:
        return None, "Domain name is too long"
    for label in labels:
        if not label:
            return None, "Domain name contains an empty label"
        if len(label) > 63:
            return None, "Domain labels cannot be longer than 63 characters"
        if not LABEL.match(label):
            return None, "Domain name contains invalid characters"
    return name, None


def notices():
    return [{"title": "RDAP Terms of Service", "description": ["Stand-in registry for dnsprop's tests."],
             "links": [{"href": "https://example.tld/about/rdap/tos.html", "rel": "terms-of-service", "type": "text/html"}]}]


def error_body(status, title, description):
    return {"rdapConformance": ["rdap_level_0", "icann_rdap_response_profile_1", "icann_rdap_technical_implementation_guide_1"],
            "errorCode": status, "title": title, "description": [description], "lang": "en", "notices": notices()}


def domain_document(name, state, base):
    now = datetime.now(timezone.utc)
    status, changed, expires = ["active", "client transfer prohibited"], now - timedelta(days=40), now + timedelta(days=300)
    ns = ["ns1.victim.com"]
    registrar = "Stand-in Registrar, Inc."
    if state == "lame":
        ns = ["ns1.victim.com", "ns2.victim.com"]
    elif state == "clienthold":
        status, changed = ["client hold", "client transfer prohibited"], now - timedelta(hours=2)
    elif state == "serverhold":
        status, changed = ["server hold"], now - timedelta(hours=2)
    elif state == "redemption":
        status, changed, expires = ["inactive", "redemption period", "pending delete"], now - timedelta(days=3), now - timedelta(days=33)
        ns = []
    elif state == "pendingdelete":
        status, changed, expires = ["inactive", "pending delete"], now - timedelta(days=1), now - timedelta(days=70)
        ns = []
    elif state == "renewed":
        status, changed, expires = ["active", "auto renew period", "client transfer prohibited"], now - timedelta(minutes=30), now + timedelta(days=365)
    elif state == "expiring":
        expires = now + timedelta(days=10)
    doc = {
        "rdapConformance": ["rdap_level_0", "icann_rdap_response_profile_1", "icann_rdap_technical_implementation_guide_1"],
        "objectClassName": "domain",
        "handle": "2336799_DOMAIN_COM-VRSN" if name == "victim.com" else "1_DOMAIN-TEST",
        "ldhName": name.upper() if name.endswith(".com") else name,     # Verisign answers upper case
        "links": [{"href": f"{base}domain/{name}", "rel": "self", "type": "application/rdap+json", "value": f"{base}domain/{name}"}],
        "status": status,
        "entities": [
            {"objectClassName": "entity", "handle": "9999", "roles": ["registrar"],
             "publicIds": [{"type": "IANA Registrar ID", "identifier": "9999"}],
             "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", registrar]]],
             "entities": [{"objectClassName": "entity", "roles": ["abuse"],
                           "vcardArray": ["vcard", [["version", {}, "text", "4.0"], ["fn", {}, "text", ""],
                                                    ["email", {}, "text", "abuse@registrar.example"]]]}]},
        ],
        "events": [
            {"eventAction": "registration", "eventDate": rfc3339(now - timedelta(days=3000))},
            {"eventAction": "expiration", "eventDate": rfc3339(expires)},
            {"eventAction": "last changed", "eventDate": rfc3339(changed)},
            {"eventAction": "last update of RDAP database", "eventDate": rfc3339(now)},
        ],
        "nameservers": [{"objectClassName": "nameserver", "ldhName": n.upper(), "handle": n} for n in ns],
        "secureDNS": {"delegationSigned": False},
        "notices": notices(),
    }
    if state == "hostile":
        doc["entities"][0]["vcardArray"][1][1][3] = "Evil\x1b]0;pwned\x07Registrar\x1b[2J"
        doc["status"] = ["active", 42, None, {"x": 1}, "client\u202ehold"]
        doc["events"] = [{"eventAction": "expiration", "eventDate": 12345}, "not an event",
                         {"eventAction": "last changed", "eventDate": "yesterday"}]
        doc["nameservers"] = [{"ldhName": ["ns1.victim.com"]}, {"ldhName": "ns1.victim.com\x1b[31m"}]
    return doc


class Handler(BaseHTTPRequestHandler):
    server_version = "rdap-standin/1"
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):
        pass

    def record(self, status):
        if self.server.log_path:
            with LOG_LOCK, open(self.server.log_path, "a") as f:
                f.write(json.dumps({"method": self.command, "path": self.path, "accept": self.headers.get("Accept"),
                                    "host": self.headers.get("Host"), "status": status}) + "\n")

    def send(self, status, body, extra=None, content_type="application/rdap+json;charset=UTF-8"):
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Access-Control-Allow-Origin", "*")
        self.send_header("Content-Length", str(len(data)))
        for k, v in (extra or {}).items():
            self.send_header(k, v)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(data)
        self.record(status)

    def do_POST(self):
        self.send(405, error_body(405, "Method Not Allowed", "RDAP is read with GET or HEAD"), {"Allow": "GET, HEAD"})

    do_PUT = do_DELETE = do_PATCH = do_POST

    def do_HEAD(self):
        self.do_GET()

    def do_GET(self):
        raw = self.path
        # RdapActionBase: new URI(requestPath) — raw non-ASCII or space in the target is a URISyntaxException → 400.
        if any(ord(c) > 126 or ord(c) <= 32 for c in raw):
            return self.send(400, error_body(400, "Bad Request", "Not a valid domain name"))
        parts = urllib.parse.urlsplit(raw).path.split("/")
        # /<state>/domain/<name>
        if len(parts) != 4 or parts[0] != "" or parts[2] != "domain":
            if len(parts) >= 3 and parts[2] in ("nameserver", "entity", "help", "domains", "nameservers", "entities"):
                return self.send(501, error_body(501, "Not Implemented", "only domain lookups are served here"))
            return self.send(400, error_body(400, "Bad Request", "Not a valid domain name"))
        state, name = parts[1], urllib.parse.unquote(parts[3], errors="strict")
        if state not in STATES:
            return self.send(404, error_body(404, "Not Found", f"no such registry state '{state}'"))
        canonical, problem = validate(name)
        if canonical is None:
            return self.send(400, error_body(400, "Bad Request", f"{name} is not a valid domain name: {problem}"))
        if canonical.rsplit(".", 1)[1] not in TLDS:
            return self.send(404, error_body(404, "Not Found", f"{canonical} not found"))
        if state == "404" or canonical not in REGISTERED:
            return self.send(404, error_body(404, "Not Found", f"{canonical} not found"))
        if state == "429":
            return self.send(429, error_body(429, "Too Many Requests", "rate limit exceeded"), {"Retry-After": "30"})
        if state == "500":
            return self.send(500, error_body(500, "Internal Server Error", "An error was encountered"))
        if state == "garbage":
            return self.send(200, b"<html><body>Service temporarily unavailable</body></html>", content_type="text/html")
        if state == "slow":
            time.sleep(30)
        if state == "huge":
            doc = domain_document(canonical, "active", f"http://{self.headers.get('Host')}/{state}/")
            doc["remarks"] = [{"description": ["x" * 1000] * 3000}]
            return self.send(200, doc)
        if state == "deep":
            return self.send(200, b'{"objectClassName":"domain","x":' + b"[" * 100000 + b"]" * 100000 + b"}")
        if state == "redirect":
            other = self.server.other
            if other:
                return self.send(302, b"", {"Location": f"http://{other}/active/domain/{canonical}"})
        base = f"http://{self.headers.get('Host')}/{state}/"
        self.send(200, domain_document(canonical, state, base))


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--listen", action="append", required=True, help="HOST:PORT (loopback)")
    p.add_argument("--log")
    a = p.parse_args()
    servers = []
    for i, spec in enumerate(a.listen):
        host, port = spec.rsplit(":", 1)
        if not host.startswith("127."):
            sys.exit("rdap-standin: listens on loopback only")
        s = ThreadingHTTPServer((host, int(port)), Handler)
        s.daemon_threads = True
        s.log_path = a.log
        s.other = a.listen[1 - i] if len(a.listen) == 2 else None
        servers.append(s)
    for s in servers[1:]:
        threading.Thread(target=s.serve_forever, daemon=True).start()
    print("ready", flush=True)
    servers[0].serve_forever()


if __name__ == "__main__":
    main()
