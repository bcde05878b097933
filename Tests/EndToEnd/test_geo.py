"""Issue 14, CDN and GeoDNS names, against the testbed's real servers: PowerDNS Authoritative
with LUA view() records answering by ECS network or by the asking resolver's address, and
resolvers in distinct /24s with and without ECS (Scripts/testbed-geo.sh).

  cdn.geo.com.  one answer per region (127.N.11/24 … 127.N.14/24), another for everyone else
  two.geo.com.  two answers: "east" (127.N.11/24, 127.N.13/24) and "west" (everyone else)
  www.site.com. CNAME cdn.geo.com.
"""
import json, os, subprocess
import pytest

from conftest import NET, TESTBED, dnsprop_binary, run_testbed, rows

GEO = {"a": f"{NET}.11.1", "b": f"{NET}.12.1", "ecs-unbound": f"{NET}.13.1", "ecs-pdns": f"{NET}.14.1"}
REGION = {GEO["a"]: "192.0.2.11", GEO["b"]: "192.0.2.12", GEO["ecs-unbound"]: "192.0.2.13", GEO["ecs-pdns"]: "192.0.2.14"}
DEFAULT = "192.0.2.100"   # what everyone else gets: the four scenario resolvers and this machine


@pytest.fixture
def geo(world, tmp_path):
    """Every geo answer at its default, every cache empty; the resolvers file of the geo world."""
    run_testbed("geo-reset")
    run_testbed("geo-flush")
    run_testbed("flush")
    path = str(tmp_path / "geo-resolvers.txt")
    with open(path, "w") as f:
        f.write(subprocess.run([TESTBED, "geo-resolvers"], check=True, capture_output=True, text=True).stdout)
    return {"world": world, "resolvers": path, "tmp": tmp_path}


def check(world, name, resolvers, *extra):
    cmd = [dnsprop_binary(), "check", name, "--type", "A", "--no-delegation", "--root-hints", world.hints,
           "--resolvers", resolvers, "--format", "json", "--timeout", "1", "--retries", "1", "--verbose", *extra]
    run = subprocess.run(cmd, capture_output=True, text=True)
    assert run.stdout, f"no output; stderr: {run.stderr}"
    doc = json.loads(run.stdout)
    doc["_exit"], doc["_stderr"] = run.returncode, run.stderr
    return doc


def fill(world, name, servers):
    for s in servers:
        status, records = world.dig(s, name)
        assert status == "NOERROR" and records, (s, status, records)


def test_no_resolver_is_stale_for_its_own_regions_answer(geo):
    world = geo["world"]
    doc = check(world, "cdn.geo.com", geo["resolvers"])
    got = rows(doc, name="cdn.geo.com.", rtype="A")
    for ip, answer in REGION.items():
        r = got[ip]
        assert r["answers"] == [answer], r
        assert r["status"] == "current", r
        assert r["geo"]["basis"] == "own-network" and r["geo"]["network"] == ip.rsplit(".", 1)[0] + ".0/24", r
        assert r["reason"].startswith("current — varies by location"), r
    for ip in (f"{NET}.1.1", f"{NET}.1.2", f"{NET}.1.3", f"{NET}.1.4"):
        assert got[ip]["status"] == "current" and got[ip]["answers"] == [DEFAULT], got[ip]
    assert doc["summary"]["counts"]["stale"] == 0
    assert doc["_exit"] == 0, doc["_stderr"]
    truth = doc["truth"][0]
    assert truth["answers"] == [DEFAULT] and truth["geo"]["varies"] is True and truth["geo"]["ignoresClientSubnet"] is False
    assert {n["network"]: n["answers"] for n in truth["geo"]["networks"]} == {
        ip.rsplit(".", 1)[0] + ".0/24": [a] for ip, a in REGION.items()}
    # Bounded: one ECS question per network of a resolver that differs (four /24s; the four
    # scenario resolvers agree with the truth and cost nothing), the first asked three times (a
    # per-query pick would show), nothing repeated.
    assert "geo truth: 6 queries (6 with a client subnet, 0 repeated) for 4 resolver networks" in doc["_stderr"], doc["_stderr"]


def test_cname_chain_into_the_cdn(geo):
    world = geo["world"]
    doc = check(world, "www.site.com", geo["resolvers"])
    got = rows(doc, name="www.site.com.", rtype="A")
    for ip, answer in REGION.items():
        assert got[ip]["status"] == "current", got[ip]
        assert got[ip]["answers"] == ["CNAME cdn.geo.com.", answer], got[ip]
        assert got[ip]["geo"]["basis"] == "own-network", got[ip]
    assert doc["truth"][0]["geo"]["name"] == "cdn.geo.com."
    assert doc["_exit"] == 0


def test_a_genuinely_stale_answer_is_still_stale(geo):
    world = geo["world"]
    fill(world, "cdn.geo.com", REGION)
    # The authority moves two regions (one without ECS, one with) to new addresses; the
    # resolvers keep what they cached (TTL 300 s).
    run_testbed("geo-set", "r12", "203.0.113.12")
    run_testbed("geo-set", "r13", "203.0.113.13")
    doc = check(world, "cdn.geo.com", geo["resolvers"])
    got = rows(doc, name="cdn.geo.com.", rtype="A")
    for ip in (GEO["b"], GEO["ecs-unbound"]):
        assert got[ip]["answers"] == [REGION[ip]], got[ip]
        assert got[ip]["status"] == "stale", got[ip]
        assert got[ip]["geo"] is None
        assert "none of them this one" in got[ip]["reason"], got[ip]
    for ip in (GEO["a"], GEO["ecs-pdns"]):
        assert got[ip]["status"] == "current" and got[ip]["geo"]["basis"] == "own-network", got[ip]
    assert doc["_exit"] == 1


def test_check_of_two_geo_answers_exits_0_then_1(geo):
    world = geo["world"]
    two = str(geo["tmp"] / "two.txt")
    with open(two, "w") as f:
        f.write(f"{GEO['a']} | unbound geo A |  | testbed |\n{GEO['b']} | unbound geo B |  | testbed |\n")
    doc = check(world, "two.geo.com", two)
    got = rows(doc, name="two.geo.com.", rtype="A")
    assert got[GEO["a"]]["answers"] == ["198.51.100.1"] and got[GEO["b"]]["answers"] == ["198.51.100.2"], got
    assert {r["status"] for r in got.values()} == {"current"}
    assert doc["_exit"] == 0, json.dumps(doc["summary"])
    # The east answer changes; resolver A still holds the old one.
    run_testbed("geo-set", "east", "198.51.100.11")
    doc = check(world, "two.geo.com", two)
    got = rows(doc, name="two.geo.com.", rtype="A")
    assert got[GEO["a"]]["status"] == "stale" and got[GEO["a"]]["answers"] == ["198.51.100.1"], got[GEO["a"]]
    assert got[GEO["b"]]["status"] == "current", got[GEO["b"]]
    assert doc["_exit"] == 1
