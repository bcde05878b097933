"""The testbed's scenarios, each asserting dnsprop's verdicts against what the resolvers really serve."""
import time
from datetime import datetime, timezone

from conftest import NET, RESOLVERS, REFUSER, TTL, rows, run_testbed


def parse_time(s):
    return datetime.strptime(s, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=timezone.utc).timestamp()


def prime(world, servers, *questions):
    for s in servers:
        for name, rtype in questions:
            world.dig(s, name, rtype)


def test_expiry_then_renewal(world):
    world.reset(delegation="parked")
    primed = [RESOLVERS["unbound"], RESOLVERS["bind"]]
    prime(world, primed, ("victim.com", "A"), ("victim.com", "NS"))
    run_testbed("delegate", "live")      # renewed

    doc = world.check("victim.com", "--type", "A", expect_status=1)
    a = rows(doc, "victim.com.", "A", "record")
    ns = rows(doc, "victim.com.", "NS", "delegation")
    for ip in primed:
        assert a[ip]["status"] == "parked", a[ip]
        assert a[ip]["parking"]["provider"] == "Skenzo / Confluence Networks"
        assert ns[ip]["status"] == "parked", ns[ip]
        assert ns[ip]["parking"]["provider"] == "Network Solutions expiry NS"
        assert ns[ip]["parking"]["kind"] == "registrar-expiry"
        # The expiry is the remaining TTL the resolver reports; kdig sees the same countdown.
        _, records = world.dig(ip, "victim.com", "A")
        assert records and records[0][1] == "208.91.197.46"
        assert 0 <= a[ip]["ttl"] <= TTL
        assert abs(a[ip]["ttl"] - records[0][0]) <= 2
        checked = parse_time(a[ip]["checkedAt"][:19] + "Z")
        assert abs(parse_time(a[ip]["expiresAt"]) - (checked + a[ip]["ttl"])) <= 1
    for name in ("pdns", "knot"):
        ip = RESOLVERS[name]
        assert a[ip]["status"] == "current", (name, a[ip]["status"], a[ip]["reason"])
        assert ns[ip]["status"] == "current", (name, ns[ip]["status"], ns[ip]["reason"])
    assert doc["summary"]["parkingProviders"][0]["provider"] in ("Skenzo / Confluence Networks", "Network Solutions expiry NS")
    assert doc["summary"]["lastExpiry"] is not None

    # After the caches let go (the delegation's TTL, then the parked record's own), everything is current.
    deadline = time.time() + 6 * TTL + 20
    while True:
        time.sleep(2)
        doc = world.check("victim.com", "--type", "A")
        if doc["_exit"] == 0:
            break
        assert time.time() < deadline, f"not converged: {doc['summary']}"
    assert all(r["status"] == "current" for r in doc["results"] if r["resolver"]["address"] in RESOLVERS.values())


def test_changed_record_is_stale(world):
    world.reset(a="192.0.2.10")
    primed = [RESOLVERS["unbound"], RESOLVERS["pdns"]]
    prime(world, primed, ("victim.com", "A"))
    run_testbed("set-a", "192.0.2.20")
    doc = world.check("victim.com", "--type", "A", "--no-delegation", expect_status=1)
    a = rows(doc)
    for ip in primed:
        assert a[ip]["status"] == "stale", a[ip]
        assert a[ip]["answers"] == ["192.0.2.10"]
        assert "differs from the authoritative data" in a[ip]["reason"]
    for name in ("bind", "knot"):
        assert a[RESOLVERS[name]]["status"] == "current"
        assert a[RESOLVERS[name]]["answers"] == ["192.0.2.20"]
    assert doc["truth"][0]["answers"] == ["192.0.2.20"]


def test_registry_hold_is_cached_nxdomain(world):
    world.reset(delegation="hold")
    primed = [RESOLVERS["bind"], RESOLVERS["knot"]]
    for ip in primed:
        status, _ = world.dig(ip, "victim.com", "A")
        assert status == "NXDOMAIN"
    run_testbed("delegate", "live")
    doc = world.check("victim.com", "--type", "A", "--no-delegation", expect_status=1)
    a = rows(doc)
    for ip in primed:
        assert a[ip]["status"] == "nxdomain", a[ip]
        assert a[ip]["rcode"] == "NXDOMAIN"
        assert a[ip]["ttl"] is not None and a[ip]["ttl"] <= TTL
        assert "negative cache expires" in a[ip]["reason"]
    for name in ("unbound", "pdns"):
        assert a[RESOLVERS[name]]["status"] == "current"


def test_down_refused_and_dead_resolvers(world, tmp_path):
    world.reset()
    run_testbed("stop", "pdns")
    try:
        listing = tmp_path / "resolvers.txt"
        listing.write_text("\n".join([
            RESOLVERS["unbound"] + " | unbound",
            RESOLVERS["pdns"] + " | PowerDNS (stopped)",
            REFUSER + " | refuser",
            f"{NET}.9.9 | nothing listens here",
            "this is not an address",
        ]) + "\n")
        doc = world.check("victim.com", "--type", "A", "--no-delegation", resolvers=str(listing), expect_status=0)
        a = rows(doc)
        assert a[RESOLVERS["unbound"]]["status"] == "current"
        assert a[RESOLVERS["pdns"]]["status"] == "error"
        assert "connection refused" in a[RESOLVERS["pdns"]]["reason"]
        assert a[REFUSER]["status"] == "refused"
        assert a[f"{NET}.9.9"]["status"] == "error"
        assert len(doc["results"]) == 4          # the bad line was reported and skipped
        assert doc["summary"]["resolversAnswering"] == 1
    finally:
        run_testbed("start", "pdns")


def test_expect_overrides_truth_and_root_hints_reach_the_testbed(world):
    world.reset()
    doc = world.check("victim.com", "--expect", "A=192.0.2.10", "--no-delegation", expect_status=0)
    assert doc["truth"][0]["source"] == "expected"
    doc = world.check("victim.com", "--expect", "A=192.0.2.99", "--no-delegation", expect_status=1)
    assert {r["status"] for r in doc["results"] if r["resolver"]["address"] in RESOLVERS.values()} == {"stale"}
    # Without --expect the truth came from the testbed's own root, TLD and authoritative server.
    doc = world.check("victim.com", "--type", "A", "--no-delegation", expect_status=0)
    truth = doc["truth"][0]
    assert truth["source"] == "authoritative"
    assert truth["zone"] == "victim.com."
    assert truth["servers"] == ["ns1.victim.com."]
