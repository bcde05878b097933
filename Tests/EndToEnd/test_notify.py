"""Notifications of `dnsprop watch` (--webhook, --on-change, --on-converged) against the
testbed going from parked to live, and `dnsprop report` of the recorded run."""
import json, os, subprocess, urllib.error, urllib.request

from conftest import RESOLVERS, dnsprop_binary
from test_watch import renewal, watch_cmd
from webhook_standin import Receiver


def post(url, data, content_type="application/json", method="POST"):
    req = urllib.request.Request(url, data=data, method=method)
    if content_type is not None:
        req.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(req, timeout=5) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def test_standin_rejects_what_mattermost_rejects():
    with Receiver() as hook:
        assert post(hook.url(), b'{"text": "hello"}') == (200, "ok")
        assert post(hook.url(), b'{"text": "hello"} trailing') == (200, "ok")            # one value decoded
        assert post(hook.url(), b'{"text": "two\nlines"}')[0] == 200                      # raw newline escaped, retried
        assert post(hook.url(), b"payload=" + urllib.parse.quote(b'{"text":"form"}').encode(),
                    "application/x-www-form-urlencoded")[0] == 200
        assert post(hook.url(), b'{"Text": "case"}')[0] == 200                            # encoding/json field match
        assert post(hook.url(), b'{"username": "x"}')[0] == 400                           # no text, no attachments
        assert post(hook.url(), b'{"text": ""}')[0] == 400
        assert post(hook.url(), b'{"text": 5}')[0] == 400                                 # wrong type
        assert post(hook.url(), b'["text"]')[0] == 400
        assert post(hook.url(), b'{"text": "cut')[0] == 400
        assert post(hook.url(), b'{"text": "x"}', "application/json; =bad")[0] == 200  # ErrInvalidMediaParameter tolerated
        assert post(hook.url(), b'{"text": "x"}', "not a media type")[0] == 400
        assert post(hook.url("bad-id!"), b'{"text": "x"}')[0] == 404
        assert post(hook.url(), None, None, method="GET")[0] == 405
        assert post(hook.url(), b'{"text": "", "attachments": []}')[0] == 200            # attachments present
        assert len(hook.accepted) == 7


def test_parked_to_live_notifies_once_and_the_report_names_the_flips(world, tmp_path):
    renewal(world)
    record = tmp_path / "rounds.ndjson"
    converged_json, converged_env, changes = tmp_path / "converged.json", tmp_path / "converged.env", tmp_path / "changes.ndjson"
    with Receiver() as hook:
        run = subprocess.run(watch_cmd(world, "--until-propagated", "--max-wait", "180s", "--record", str(record),
                                       "--webhook", hook.url(),
                                       "--on-change", f"cat >> '{changes}'",
                                       "--on-converged", f"cat > '{converged_json}'; env | grep '^DNSPROP_' | sort > '{converged_env}'"),
                             capture_output=True, text=True, timeout=240)
        assert run.returncode == 0, run.stderr
        assert "notification" not in run.stderr and "webhook" not in run.stderr, run.stderr
        assert hook.rejected == []
        events = [request["dnsprop"] for _, request in hook.accepted]
        assert all(isinstance(request["text"], str) and request["text"] for _, request in hook.accepted)
        converged = [e for e in events if e["event"] == "converged"]
        assert len(converged) == 1
        assert converged[0]["outcome"] == "converged"
        assert converged[0] is events[-1]
        change_events = [e for e in events if e["event"] == "change"]
        assert change_events, events
        flipped = {c["resolver"] for e in change_events for c in e["changes"] if c["from"] == "parked" and c["to"] == "current"}
        assert {RESOLVERS["unbound"], RESOLVERS["bind"]} <= flipped

    # --on-converged: the event as JSON on stdin, the essentials in the environment.
    event = json.loads(converged_json.read_text())
    assert event["event"] == "converged" and event["names"] == ["victim.com."]
    assert event["round"] == converged[0]["round"]
    env = dict(line.split("=", 1) for line in converged_env.read_text().splitlines())
    assert env["DNSPROP_EVENT"] == "converged" and env["DNSPROP_OUTCOME"] == "converged"
    assert env["DNSPROP_DOMAIN"] == "victim.com." and env["DNSPROP_ROUND"] == str(event["round"])
    assert env["DNSPROP_CURRENT"] == str(event["resolversCurrent"]) and env["DNSPROP_TOTAL"] == str(event["resolvers"])
    # --on-change: one JSON document per change event, the same ones the webhook got.
    assert [json.loads(l)["round"] for l in changes.read_text().splitlines()] == [e["round"] for e in change_events]

    # The postmortem of the recorded run names the resolvers that flipped, with the round they did.
    md = subprocess.run([dnsprop_binary(), "report", str(record)], capture_output=True, text=True, timeout=60)
    assert md.returncode == 0, md.stderr
    assert md.stderr == ""
    flips = {}
    for line in md.stdout.splitlines():
        for name in ("unbound", "bind"):
            address = RESOLVERS[name]
            if line.startswith(f"| {address} ") or line.startswith(f"| {address}|"):
                flips[name] = line
    assert set(flips) == {"unbound", "bind"}, md.stdout
    for line in flips.values():
        assert "parked, round 1" in line and "| round " in line, line
    assert f"Converged in round {event['round']}" in md.stdout
    html_path = tmp_path / "report.html"
    html = subprocess.run([dnsprop_binary(), "report", str(record), "--format", "html", "-o", str(html_path)],
                          capture_output=True, text=True, timeout=60)
    assert html.returncode == 0 and html.stdout == "", html.stderr
    page = html_path.read_text()
    assert page.startswith("<!DOCTYPE html>") and "<svg" in page and "<polyline" in page
    assert "<script" not in page and " src=" not in page and "<link" not in page and "url(" not in page
    assert RESOLVERS["unbound"] in page and RESOLVERS["bind"] in page

    # A recording cut short in the middle of a line: reported with its line number, the rest read.
    lines = record.read_text().splitlines(keepends=True)
    cut = tmp_path / "cut.ndjson"
    cut.write_text("".join(lines[:3]) + lines[3][: len(lines[3]) // 2] + "\n" + "".join(lines[4:]))
    partial = subprocess.run([dnsprop_binary(), "report", str(cut)], capture_output=True, text=True, timeout=60)
    assert partial.returncode == 0, partial.stderr
    assert "line 4: not complete JSON" in partial.stderr
    assert "Converged in round" in partial.stdout


def test_failing_webhook_is_retried_once_and_reported_once(world):
    world.reset()
    for status in (500, 307):
        with Receiver(status=status) as hook:
            run = subprocess.run([dnsprop_binary(), "watch", "victim.com", "--type", "A", "--resolvers", world.resolvers,
                                  "--root-hints", world.hints, "--timeout", "1", "--retries", "1", "--interval", "1",
                                  "--no-delegation", "--expect", "A=192.0.2.10", "--until-propagated", "--max-wait", "60s",
                                  "--webhook", hook.url("s3cr3tToken"), "--notify-timeout", "5"],
                                 capture_output=True, text=True, timeout=120)
            assert run.returncode == 0, run.stderr               # a failed notification never fails the watch
            assert hook.requests == 2                            # one converged event: the attempt and one retry
            failures = [l for l in run.stderr.splitlines() if "--webhook" in l]
            assert len(failures) == 1, run.stderr
            assert f"http://127.0.0.1:{hook.port}/" in failures[0]
            assert "s3cr3tToken" not in run.stderr               # the hook URL's secret is never shown
            assert ("HTTP 500" if status == 500 else "redirect not followed") in failures[0]
            assert "\x1b" not in run.stderr
            if status == 500:
                assert "forced failure \\x1B[31mred" in failures[0]      # the reply's text, escaped
