"""`dnsprop watch` against the testbed: the renewal converging live, the NDJSON stream,
exit codes (converged, --max-wait passed, interrupted), --record, and the full-screen
view in a real pseudo-terminal (tmux)."""
import json, os, shutil, signal, subprocess, time

from conftest import RESOLVERS, TTL, dnsprop_binary, run_testbed


def watch_cmd(world, *args):
    return [dnsprop_binary(), "watch", "victim.com", "--type", "A", "--resolvers", world.resolvers,
            "--root-hints", world.hints, "--timeout", "1", "--retries", "1", "--interval", "2", *args]


def renewal(world):
    """The expiry replay: parked, two resolvers primed while parked, then renewed."""
    world.reset(delegation="parked")
    for name in ("unbound", "bind"):
        world.dig(RESOLVERS[name], "victim.com", "A")
        world.dig(RESOLVERS[name], "victim.com", "NS")
    run_testbed("delegate", "live")


def test_ndjson_stream_until_propagated(world, tmp_path):
    renewal(world)
    record = tmp_path / "record.ndjson"
    run = subprocess.run(watch_cmd(world, "--until-propagated", "--max-wait", "180s", "--format", "ndjson",
                                   "--record", str(record)),
                         capture_output=True, text=True, timeout=240)
    assert run.returncode == 0, run.stderr
    events = [json.loads(line) for line in run.stdout.splitlines()]
    summaries = [e for e in events if e["event"] == "summary"]
    results = [e for e in events if e["event"] == "result"]
    assert len(summaries) >= 2                      # it was not converged in round 1
    assert [s["round"] for s in summaries] == list(range(1, len(summaries) + 1))
    assert all("timestamp" in e and "round" in e for e in events)
    first = [r for r in results if r["round"] == 1]
    parked = {r["resolver"]["address"] for r in first if r["status"] == "parked"}
    assert {RESOLVERS["unbound"], RESOLVERS["bind"]} <= parked
    assert summaries[0]["summary"]["exitStatus"] == 1
    assert summaries[-1]["summary"]["exitStatus"] == 0
    last = [r for r in results if r["round"] == summaries[-1]["round"]]
    assert all(r["status"] in ("current", "refused") for r in last)
    # --record holds the same rounds, one JSON object per line.
    recorded = [json.loads(line) for line in record.read_text().splitlines()]
    assert [e["round"] for e in recorded if e["event"] == "summary"] == [s["round"] for s in summaries]


def test_max_wait_expires_with_exit_1(world):
    world.reset()
    start = time.time()
    run = subprocess.run(watch_cmd(world, "--expect", "A=192.0.2.99", "--no-delegation", "--until-propagated",
                                   "--max-wait", "5s"), capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stdout + run.stderr
    assert "not converged within 5s" in run.stderr
    assert time.time() - start < 30
    # Not a terminal: a log, with a summary line per round.
    assert "round 1:" in run.stdout and "stale" in run.stdout


def test_interrupt_and_terminate(world):
    world.reset()
    for sig, code in ((signal.SIGINT, 130), (signal.SIGTERM, 143)):
        proc = subprocess.Popen(watch_cmd(world, "--no-delegation"), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.time() + 30
        line = ""
        while "round 1:" not in line and time.time() < deadline:
            line = proc.stdout.readline()
        assert "round 1:" in line
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == code
        assert "dnsprop watch: " in err and "round" in err     # the closing timeline


def test_full_screen_in_a_pseudo_terminal(world, tmp_path):
    assert shutil.which("tmux"), "tmux is installed by Scripts/test"
    renewal(world)
    session = "dnsprop-e2e"
    done = tmp_path / "exit-status"
    cmd = " ".join(watch_cmd(world, "--until-propagated", "--max-wait", "180s")) + f"; echo $? > {done}; sleep 30"
    subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    subprocess.run(["tmux", "new-session", "-d", "-s", session, "-x", "110", "-y", "30", "env", "TERM=xterm-256color",
                    "NO_COLOR=1", "sh", "-c", cmd], check=True)
    try:
        screen = ""
        deadline = time.time() + 30
        while time.time() < deadline:
            screen = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout
            if "round 1" in screen and "STATUS" in screen:
                break
            time.sleep(0.5)
        assert "dnsprop watch · victim.com." in screen, screen
        assert "current ·" in screen and "%" in screen
        assert "parked" in screen                      # the primed resolvers, in the first round
        # It redraws in place: the title appears once, at the top.
        assert screen.count("dnsprop watch ·") == 1
        deadline = time.time() + 200
        while not done.exists() and time.time() < deadline:
            time.sleep(1)
        assert done.read_text().strip() == "0"
        after = subprocess.run(["tmux", "capture-pane", "-p", "-t", session], capture_output=True, text=True).stdout
        # The alternate screen is gone and the timeline stays on the normal screen.
        assert "dnsprop watch ·" not in after
        assert "current since" in after
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
