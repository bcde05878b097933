"""Issue 16: registry status over RDAP, the diagnosis line, and --warn-expiry, end to end.

The binary runs against the testbed (its `delegate live|parked|hold|lame` states) and the RDAP
stand-in (Scripts/rdap-standin.py, built on Nomulus's RDAP server; its base path selects the
registry state). The three diagnosis lines of the issue must come out of real runs, in the table
and in JSON; a broken or unreachable RDAP server must never change verdicts or the exit status.
"""
import json, os, re, subprocess, time, urllib.error, urllib.request
import pytest

from conftest import NET, ROOT, dnsprop_binary, run_testbed

STANDIN = os.path.join(ROOT, "Scripts", "rdap-standin.py")
HOST, OTHER, PORT = f"{NET}.3.1", f"{NET}.3.2", 8043


@pytest.fixture(scope="module")
def rdap(world, tmp_path_factory):
    log = str(tmp_path_factory.mktemp("rdap") / "requests.jsonl")
    proc = subprocess.Popen(["python3", STANDIN, "--listen", f"{HOST}:{PORT}", "--listen", f"{OTHER}:{PORT}", "--log", log],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout.readline().strip() == "ready", proc.stderr.read()
        yield log
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def url(state):
    return f"http://{HOST}:{PORT}/{state}/"


def run(world, *args, fmt="table", usage_error=False):
    cmd = [dnsprop_binary(), "check", "victim.com", "--root-hints", world.hints, "--resolvers", world.resolvers,
           "--timeout", "1", "--retries", "1", "--format", fmt, *args]
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    assert usage_error or r.stdout, r.stderr
    return r


def diagnosis_line(table):
    """The diagnosis sentence of a table: its first line and the indented lines that continue it."""
    lines = table.splitlines()
    assert lines[0].startswith("diagnosis: "), table
    out = lines[0]
    for line in lines[1:]:
        if not line.startswith("  "):
            break
        out += " " + line.strip()
    return out[len("diagnosis: "):]


def both(world, *args):
    table = run(world, *args)
    doc = json.loads(run(world, *args, fmt="json").stdout)
    return table, doc


def test_hold(world, rdap):
    world.reset("hold")
    table, doc = both(world, "--rdap-url", url("clienthold"))
    line = diagnosis_line(table.stdout)
    assert re.fullmatch(r"registry: clientHold since (?:\d{4}-\d\d-\d\d )?\d\d:\d\d UTC — the registrar still holds the domain; "
                        r"nothing will propagate until they lift it", line), line
    d = doc["diagnosis"]
    assert d["stage"] == "registryHold" and d["line"] == line
    assert d["registry"]["statuses"][0] == "clientHold" and d["registry"]["rdapStatuses"][0] == "client hold"
    assert d["registry"]["registrar"] == "Stand-in Registrar, Inc." and d["tld"]["delegated"] is False
    # The hold is an early warning; without --warn-expiry the exit status is the verdicts' alone.
    assert table.returncode == run(world, "--no-rdap").returncode
    assert run(world, "--rdap-url", url("clienthold"), "--warn-expiry", "30d").returncode == 1


def test_renewed_with_caches_pending(world, rdap):
    world.reset("parked")
    run(world, "--no-rdap")               # the resolvers cache the parking delegation
    run_testbed("delegate", "live")       # the renewal reaches the TLD zone
    table, doc = both(world, "--rdap-url", url("renewed"))
    line = diagnosis_line(table.stdout)
    m = re.fullmatch(r"registry: renewed (?:\d{4}-\d\d-\d\d )?\d\d:\d\d \(autoRenewPeriod\), expires (\d{4}-\d\d-\d\d); the TLD delegates to the real "
                     r"nameservers; (\d+) resolvers? still follows? the parking nameservers, all gone by ≤ (?:\d{4}-\d\d-\d\d )?(\d\d:\d\d) UTC", line)
    assert m, line
    d = doc["diagnosis"]
    assert d["stage"] == "cachesPending" and d["followParking"] is True and d["resolversPending"] >= 1
    assert d["registry"]["expiration"].startswith(m.group(1))
    # "all gone by" is the report's latest expiry bound.
    assert d["allGoneBy"] is not None
    open_ = [r.get("latestAt") or r.get("expiresAt") for r in doc["results"] if r["status"] in ("stale", "parked", "nxdomain", "nodata", "servfail")]
    assert d["allGoneBy"][:19] == max(t for t in open_ if t)[:19]
    assert d["allGoneBy"][11:16] == re.search(r"≤ (?:\d{4}-\d\d-\d\d )?(\d\d:\d\d) UTC", d["line"]).group(1)


def test_lame_delegation(world, rdap):
    world.reset("lame")
    table, doc = both(world, "--rdap-url", url("lame"))
    lame = "registry and TLD agree, but the zone's own NS set differs from the parent's (lame delegation at ns2.victim.com)"
    # A resolver that tries the lame server may end with SERVFAIL (Knot Resolver does, under load):
    # the line then counts it as failing, never as one that follows old name servers.
    def with_failing(n):
        return lame + (f"; {n} resolver{'s' if n != 1 else ''} answer{'s' if n == 1 else ''} SERVFAIL" if n else "")
    line = diagnosis_line(table.stdout)
    assert any(line == with_failing(n) for n in range(5)), line
    d = doc["diagnosis"]
    statuses = {}
    for r in doc["results"]:
        # Serving the parent's NS set (from the referral) is following the TLD's delegation now: current.
        if r["type"] == "NS" and sorted(a.lower() for a in r["answers"]) == ["ns1.victim.com.", "ns2.victim.com."]:
            assert r["status"] == "current" and r["reason"].startswith("the parent's NS set"), r
        statuses.setdefault(r["resolver"]["address"], set()).add(r["status"])
    # No resolver serves an old answer; those that SERVFAIL are the ones the line counts.
    assert not any(s & {"stale", "parked", "nxdomain", "nodata"} for s in statuses.values()), statuses
    failing = sum(1 for s in statuses.values() if "servfail" in s)
    assert d["resolversPending"] == 0 and d["resolversFailing"] == failing, (d, statuses)
    assert d["line"] == with_failing(failing), d["line"]
    assert d["stage"] == "delegationMismatch"
    assert d["tld"]["nameservers"] == ["ns1.victim.com.", "ns2.victim.com."]
    assert d["zone"]["nameservers"] == ["ns1.victim.com."] and d["zone"]["lameServers"] == ["ns2.victim.com."]
    assert sorted(d["registry"]["nameservers"]) == ["ns1.victim.com.", "ns2.victim.com."]


def test_warn_expiry_exit_codes(world, rdap):
    world.reset("live")
    assert run(world, "--rdap-url", url("active")).returncode == 0
    assert run(world, "--rdap-url", url("active"), "--warn-expiry", "30d").returncode == 0
    soon = run(world, "--rdap-url", url("expiring"), "--warn-expiry", "30d")
    assert soon.returncode == 1, soon.stdout
    assert "warning: the registration expires on" in soon.stdout and "within 30 days" in soon.stdout
    assert "--warn-expiry: the registration expires on" in soon.stderr
    assert run(world, "--rdap-url", url("expiring"), "--warn-expiry", "5d").returncode == 0
    assert run(world, "--rdap-url", url("expiring")).returncode == 0          # no window, no warning
    assert run(world, "--rdap-url", url("redemption"), "--warn-expiry", "30d").returncode == 1
    assert run(world, "--rdap-url", url("serverhold"), "--warn-expiry", "1h").returncode == 1
    # A parking delegation at the TLD warns by signature, whatever the registry says (here: nothing).
    world.reset("parked")
    parked = run(world, "--no-rdap", "--warn-expiry", "30d", fmt="json")
    d = json.loads(parked.stdout)["diagnosis"]
    assert parked.returncode == 1 and d["stage"] == "parkedDelegation" and d["tld"]["parking"] is not None
    assert any("TLD delegates to" in w for w in d["warnings"])
    # Usage errors.
    bad = run(world, "--warn-expiry", "soon", usage_error=True)
    assert bad.returncode == 64 and "--warn-expiry" in bad.stderr


def statuses(doc):
    return sorted((r["resolver"]["address"], r["name"], r["type"], r["check"], r["status"]) for r in doc["results"])


@pytest.mark.parametrize("state,note", [
    ("404", "no record of victim.com (RDAP 404)"),
    ("429", "rate limiting (429), retry after 30 s"),
    ("500", "failed (HTTP 500)"),
    ("garbage", "not a JSON object"),
    ("slow", "did not answer within 2 s"),
    ("huge", "larger than 1048576 bytes"),
    ("deep", "nests deeper than 64 levels"),
    (None, "could not be reached"),
])
def test_broken_rdap_never_changes_verdicts_or_exit_status(world, rdap, state, note):
    world.reset("live")
    run(world, "--no-rdap")               # warm the restarted resolvers (a cold one may SERVFAIL once)
    baseline = run(world, "--no-rdap", fmt="json")
    base = json.loads(baseline.stdout)
    target = url(state) if state else f"http://{HOST}:1/"
    started = time.monotonic()
    r = run(world, "--rdap-url", target, "--rdap-timeout", "2", "--warn-expiry", "30d", fmt="json")
    doc = json.loads(r.stdout)
    assert r.returncode == baseline.returncode == 0, r.stdout
    assert statuses(doc) == statuses(base)
    d = doc["diagnosis"]
    assert note in d["registry"]["problem"], d["registry"]
    assert d["line"].startswith("registry: unknown (") and d["warnings"] == []
    assert time.monotonic() - started < 30, "the RDAP timeout bounds the wait"


def test_hostile_registry_text_is_escaped(world, rdap):
    world.reset("live")
    table = run(world, "--rdap-url", url("hostile"))
    assert "\x1b" not in table.stdout and "\x07" not in table.stdout and "\u202e" not in table.stdout
    doc = json.loads(run(world, "--rdap-url", url("hostile"), fmt="json").stdout)
    reg = doc["diagnosis"]["registry"]
    assert reg["registrar"].startswith("Evil\x1b]0;pwned")       # kept as data in JSON, escaped by JSON itself
    assert reg["expiration"] is None and reg["statuses"] == ["ok", "client\u202ehold"]


def test_redirect_to_another_origin_is_followed(world, rdap):
    world.reset("live")
    doc = json.loads(run(world, "--rdap-url", url("redirect"), fmt="json").stdout)
    reg = doc["diagnosis"]["registry"]
    assert reg["problem"] is None and reg["statuses"][0] == "ok", reg


def test_requests_ask_for_rdap_json_on_the_domain_path(world, rdap):
    world.reset("live")
    run(world, "--rdap-url", url("active"))
    with open(rdap) as f:
        seen = [json.loads(l) for l in f]
    mine = [s for s in seen if s["path"] == "/active/domain/victim.com"]
    assert mine and all("application/rdap+json" in (s["accept"] or "") for s in mine)
    assert all(s["method"] == "GET" for s in mine)


def test_standin_rejects_what_nomulus_rejects(rdap):
    def get(path):
        try:
            with urllib.request.urlopen(f"http://{HOST}:{PORT}{path}", timeout=5) as resp:
                return resp.status, json.loads(resp.read() or b"{}")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"{}")
    assert get("/active/domain/victim.com")[0] == 200
    assert get("/active/domain/VICTIM.COM.")[0] == 200                  # canonicalised
    status, body = get("/active/domain/-bad-.com")
    assert status == 400 and body["errorCode"] == 400 and "is not a valid domain name" in body["description"][0]
    assert get("/active/domain/com")[0] == 400                          # a single label
    assert get("/active/domain/a..com")[0] == 400
    assert get("/active/domain/victim.zz")[0] == 404                    # a TLD this registry does not run
    assert get("/active/domain/other.com")[0] == 404
    assert get("/active/domains?name=victim.com")[0] == 501
    assert get("/active/victim.com")[0] == 400
    assert get("/active/domain/b%C3%BCcher.com")[0] == 404              # a percent-encoded U-label is canonicalised
    import socket
    with socket.create_connection((HOST, PORT), timeout=5) as s:    # raw non-ASCII in the request target
        s.sendall("GET /active/domain/bücher.com HTTP/1.0\r\n\r\n".encode())
        assert s.recv(64).startswith(b"HTTP/1.1 400")


def watch(world, *args):
    cmd = [dnsprop_binary(), "watch", "victim.com", "--type", "A", "--resolvers", world.resolvers, "--root-hints", world.hints,
           "--timeout", "1", "--retries", "1", "--interval", "2", "--until-propagated", "--max-wait", "120s", *args]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=180)


def test_watch_shows_the_diagnosis_and_warns(world, rdap):
    world.reset("live")
    plain = watch(world, "--rdap-url", url("active"))
    assert plain.returncode == 0, plain.stderr
    assert re.search(r"round 1: diagnosis: registry: active, expires \d{4}-\d\d-\d\d; the TLD and the zone agree on ns1\.victim\.com", plain.stdout), plain.stdout
    warned = watch(world, "--rdap-url", url("expiring"), "--warn-expiry", "30d")
    assert warned.returncode == 1, warned.stdout + warned.stderr      # converged, but the registration expires soon
    assert "--warn-expiry: the registration expires on" in warned.stderr
    stream = watch(world, "--rdap-url", url("renewed"), "--format", "ndjson")
    summaries = [json.loads(l) for l in stream.stdout.splitlines() if '"event":"summary"' in l]
    assert summaries and all(s["diagnosis"]["registry"]["statuses"][:2] == ["ok", "autoRenewPeriod"] for s in summaries)
