"""NSID in check's output and `dnsprop resolvers check` against the testbed's resolvers:
the four real ones (each configured to send an NSID), the refuser, a liar that rewrites
NXDOMAIN, one that answers only over TCP, and an address where nothing listens."""
import json, os, subprocess

from conftest import NET, RESOLVERS, REFUSER, TESTBED, dnsprop_binary, rows

LIAR, TCP_ONLY, DEAD, VALIDATOR = f"{NET}.1.6", f"{NET}.1.7", f"{NET}.1.8", f"{NET}.1.9"
SITES = {ip: f"testbed-{name}" for name, ip in RESOLVERS.items()}


def test_check_shows_each_resolvers_nsid_in_table_and_json(world):
    world.reset()
    doc = world.check("victim.com", "--type", "A")
    a = rows(doc, "victim.com.", "A", "record")
    for ip, site in SITES.items():
        assert a[ip]["site"] == site, a[ip]
    assert a[REFUSER]["site"] is None
    run = subprocess.run([dnsprop_binary(), "check", "victim.com", "--type", "A", "--root-hints", world.hints,
                          "--resolvers", world.resolvers, "--timeout", "1", "--retries", "1"],
                         capture_output=True, text=True)
    lines = run.stdout.splitlines()
    assert any(l.startswith("STATUS") and l.rstrip().endswith("SITE") for l in lines), run.stdout
    for ip, site in SITES.items():
        assert any(ip in l and l.rstrip().endswith(site) for l in lines), (site, run.stdout)
    assert all(len(l) <= 80 for l in lines), run.stdout


def resolvers_check(world, tmp_path, *extra):
    listing = subprocess.run([TESTBED, "all-resolvers"], check=True, capture_output=True, text=True).stdout
    path = tmp_path / "all.txt"
    path.write_text(listing)
    cmd = [dnsprop_binary(), "resolvers", "check", "--resolvers", str(path), "--timeout", "1", "--retries", "1",
           "--tcp-timeout", "2", "--recursion-name", "victim.com", "--honesty-zone", "victim.com",
           "--dnssec-good", "victim.com", "--dnssec-bad", "broken.com", *extra]
    return subprocess.run(cmd, capture_output=True, text=True)


def test_resolvers_check_classifies_the_testbed(world, tmp_path):
    world.reset()
    run = resolvers_check(world, tmp_path, "--format", "json")
    assert run.returncode == 1, run.stdout + run.stderr
    doc = json.loads(run.stdout)
    by = {r["resolver"]["address"]: r for r in doc["results"]}
    for ip, site in SITES.items():
        r = by[ip]
        assert r["status"] == "ok", r
        assert r["udp"] and r["tcp"] and r["recursive"] and r["honest"] is True, r
        assert r["nsid"] == site and r["site"] == site, r
        # They do not validate: no AD on the signed victim.com, an answer for the mis-signed broken.com.
        assert r["dnssec"] == "not-validating", r
        assert r["ednsBufferSize"] and r["rttMs"] is not None, r
    assert by[REFUSER]["status"] == "FAIL" and not by[REFUSER]["recursive"]
    assert any("REFUSED" in p for p in by[REFUSER]["problems"])
    liar = by[LIAR]
    assert liar["status"] == "lying" and liar["honest"] is False and liar["lie"] == "203.0.113.66", liar
    tcp = by[TCP_ONLY]
    assert tcp["status"] == "FAIL" and tcp["tcp"] and not tcp["udp"], tcp
    assert any("only over TCP" in p for p in tcp["problems"])
    assert by[DEAD]["status"] == "dead" and not by[DEAD]["udp"] and not by[DEAD]["tcp"]
    v = by[VALIDATOR]
    assert v["status"] == "ok" and v["dnssec"] == "validating", v
    # unbound names the cause (EDE 7) when it validates, "DNSSEC Bogus" (EDE 6) when it answers from its cache.
    assert "EDE 7 (Signature Expired)" in v["dnssecDetail"] or "EDE 6 (DNSSEC Bogus)" in v["dnssecDetail"], v
    assert v["site"] == "testbed-validator"
    assert doc["summary"] == {"resolvers": 9, "passed": 5, "dead": 1, "lying": 1, "validating": 1, "exitStatus": 1}

    table = resolvers_check(world, tmp_path)
    assert table.returncode == 1
    assert all(len(l) <= 80 for l in table.stdout.splitlines()), table.stdout
    assert any(l.startswith("lying") and LIAR in l for l in table.stdout.splitlines()), table.stdout


def test_resolvers_check_write_keeps_a_hand_edited_list(world, tmp_path):
    world.reset()
    hand = (
        "# my resolvers, hand-edited\n"
        "\n"
        f"{DEAD} | gone       | DE | Berlin | unicast | someone    # it used to work\n"
        f"{RESOLVERS['unbound']}   | unbound    |    |        | unicast |\n"
        "# a comment in the middle\n"
        f"{LIAR} | liar |\n"
        f"{RESOLVERS['bind']}\n"
    )
    src = tmp_path / "hand.txt"
    src.write_text(hand)
    out = tmp_path / "cleaned.txt"
    run = subprocess.run([dnsprop_binary(), "resolvers", "check", "--resolvers", str(src), "--write", str(out),
                          "--timeout", "1", "--retries", "1", "--tcp-timeout", "2",
                          "--recursion-name", "victim.com", "--honesty-zone", "victim.com",
                          "--dnssec-good", "victim.com", "--dnssec-bad", "victim.com"], capture_output=True, text=True)
    assert run.returncode == 1, run.stdout + run.stderr
    lines = out.read_text().split("\n")
    kept = [l for l in lines if not l.startswith("# 20")]
    # Every line that was not commented out is there byte for byte, in order.
    assert kept == [
        "# my resolvers, hand-edited",
        "",
        f"# {DEAD} | gone       | DE | Berlin | unicast | someone    # it used to work",
        f"{RESOLVERS['unbound']}   | unbound    |    |        | unicast |",
        "# a comment in the middle",
        f"# {LIAR} | liar |",
        f"{RESOLVERS['bind']}",
        "",
    ], lines
    reasons = [l for l in lines if l.startswith("# 20")]
    assert len(reasons) == 2 and "dead" in reasons[0] and "lying" in reasons[1], reasons


def test_stale_answer_at_a_service_with_a_purge_page_says_where_to_flush(world, tmp_path):
    """unbound and BIND listed as if they were Google's and Cloudflare's service: their parked
    answers come with the purge page, the zone's NS and apex first (the delegation changed)."""
    world.reset(delegation="parked")
    listing = tmp_path / "services.txt"
    listing.write_text(f"{RESOLVERS['unbound']} | unbound as Google [google] | | testbed |\n"
                       f"{RESOLVERS['bind']} | BIND as Cloudflare [cloudflare] | | testbed |\n"
                       f"{RESOLVERS['pdns']} | PowerDNS [pdns] | | testbed |\n")
    for ip in (RESOLVERS["unbound"], RESOLVERS["bind"], RESOLVERS["pdns"]):
        world.dig(ip, "victim.com", "A")
        world.dig(ip, "victim.com", "NS")
    subprocess.run([TESTBED, "delegate", "live"], check=True, capture_output=True)
    doc = world.check("victim.com", "--type", "A", resolvers=str(listing), expect_status=1)
    a = rows(doc, "victim.com.", "A", "record")
    ns = rows(doc, "victim.com.", "NS", "delegation")
    g, c, p = a[RESOLVERS["unbound"]], a[RESOLVERS["bind"]], a[RESOLVERS["pdns"]]
    assert g["status"] == "parked", g
    assert g["purge"] == {"service": "google", "url": "https://developers.google.com/speed/public-dns/cache",
                          "names": ["victim.com. NS", "victim.com. A"]}, g["purge"]
    assert c["status"] == "parked" and c["purge"]["url"] == "https://one.one.one.one/purge-cache/", c
    assert ns[RESOLVERS["unbound"]]["purge"]["names"] == ["victim.com. NS"]
    assert p["status"] == "parked" and p["purge"] is None, p     # no purge page for that service
    run = subprocess.run([dnsprop_binary(), "check", "victim.com", "--type", "A", "--root-hints", world.hints,
                          "--resolvers", str(listing), "--timeout", "1", "--retries", "1"], capture_output=True, text=True)
    text = run.stdout.replace("\n  ", " ")
    assert f"flush at Google Public DNS Flush Cache ({RESOLVERS['unbound']}): https://developers.google.com/speed/public-dns/cache" in text, run.stdout
    assert "victim.com. NS, then victim.com. A" in text, run.stdout


def test_no_nsid_asks_without_it(world):
    world.reset()
    doc = world.check("victim.com", "--type", "A", "--no-nsid")
    a = rows(doc, "victim.com.", "A", "record")
    for ip in SITES:
        assert a[ip]["site"] is None, a[ip]
