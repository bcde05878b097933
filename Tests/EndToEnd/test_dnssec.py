"""DNSSEC against the testbed's real servers (issue #14): the truth's chain of trust from the
testbed root's trust anchor, and validating resolvers' SERVFAIL told apart as DNSSEC (asked again
with CD=1, with the Extended DNS Error they gave).

For this module every resolver validates (`Scripts/testbed validation on`); afterwards they go back
to not validating and victim.com to its right key, as the other modules expect."""
import os
import re
import subprocess

import pytest

from conftest import RESOLVERS, TESTBED_DIR, dnsprop_binary, rows, run_testbed

ANCHOR = os.path.join(TESTBED_DIR, "keys", "root.ds")
# What each resolver sends with a DNSSEC SERVFAIL. BIND 9.18 sends no Extended DNS Error for a
# validation failure (its EDE support then covered other codes only); the others do.
SENDS_EDE = ("unbound", "pdns", "knot")
DNSSEC_EDE = {1, 2, 5, 6, 7, 8, 9, 10, 11, 12}


@pytest.fixture(scope="module")
def validating(world):
    run_testbed("validation", "on")
    try:
        yield world
    finally:
        run_testbed("dnssec", "ok")
        run_testbed("validation", "off")


def check(world, name, *extra, expect_status=None):
    return world.check(name, "--type", "A", "--no-delegation", "--trust-anchor", ANCHOR, *extra, expect_status=expect_status)


def truth(doc, name):
    return next(t for t in doc["truth"] if t["name"] == name and t["type"] == "A")


def assert_dnssec_servfail(result, who):
    assert result["status"] == "servfail", result
    assert result["dnssecFailure"] is not None and result["dnssecFailure"]["evidence"] == "checking-disabled", result
    assert result["reason"].startswith("SERVFAIL — DNSSEC bogus"), result
    if who in SENDS_EDE:
        codes = {e["code"] for e in result["extendedErrors"]}
        assert codes & DNSSEC_EDE, result
        code = sorted(codes & DNSSEC_EDE)[0]
        assert f"(EDE {code} (" in result["reason"], result


def test_healthy_signed_zone_is_secure_and_ad_is_shown(validating):
    validating.reset()
    doc = check(validating, "victim.com", expect_status=0)
    t = truth(doc, "victim.com.")
    assert t["dnssec"]["state"] == "secure", t
    assert t["dnssec"]["finding"] is None
    assert any(step.startswith("com.: DS for victim.com.") for step in t["dnssec"]["trail"]), t
    a = rows(doc, "victim.com.", "A", "record")
    for who, ip in RESOLVERS.items():
        assert a[ip]["status"] == "current", (who, a[ip])
        assert a[ip]["authenticatedData"] is True, (who, a[ip])
        assert a[ip]["dnssecFailure"] is None
    table = subprocess.run([dnsprop_binary(), "check", "victim.com", "--type", "A", "--no-delegation", "--trust-anchor", ANCHOR,
                            "--root-hints", validating.hints, "--resolvers", validating.resolvers, "--timeout", "1", "--retries", "1"],
                           capture_output=True, text=True)
    assert table.returncode == 0, table.stdout + table.stderr
    assert "DNSSEC: secure" in table.stdout, table.stdout
    assert "AD bit (validated with DNSSEC) from 4 of 4 answering resolvers" in table.stdout, table.stdout


def test_expired_signatures_are_the_truths_finding_and_the_resolvers_servfail_is_dnssec(validating):
    doc = check(validating, "broken.com", expect_status=1)
    t = truth(doc, "broken.com.")
    assert t["dnssec"]["state"] == "bogus", t
    # Every RRSIG of broken.com. expired in 2020; the first link to check is its DNSKEY set.
    assert re.fullmatch(r"RRSIG of broken\.com\. (DNSKEY|A) expired 2020-01-01 00:00:00 UTC.*", t["dnssec"]["finding"]), t
    a = rows(doc, "broken.com.", "A", "record")
    for who, ip in RESOLVERS.items():
        assert_dnssec_servfail(a[ip], who)
        assert a[ip]["dnssecFailure"]["checkingDisabledAnswer"] == "192.0.2.66", a[ip]


def test_stale_ds_is_a_broken_chain_and_every_validating_resolver_servfails_on_dnssec(validating):
    validating.reset()
    run_testbed("dnssec", "stale-ds")
    try:
        doc = check(validating, "victim.com", expect_status=1)
        t = truth(doc, "victim.com.")
        assert t["dnssec"]["state"] == "bogus", t
        assert t["dnssec"]["finding"].startswith("DS at com. matches no DNSKEY of victim.com."), t
        a = rows(doc, "victim.com.", "A", "record")
        for who, ip in RESOLVERS.items():
            assert_dnssec_servfail(a[ip], who)
            assert a[ip]["dnssecFailure"]["checkingDisabledAnswer"] == "192.0.2.10", a[ip]
    finally:
        run_testbed("dnssec", "ok")
    # With the right key again the chain is whole.
    doc = check(validating, "victim.com", expect_status=0)
    assert truth(doc, "victim.com.")["dnssec"]["state"] == "secure"
