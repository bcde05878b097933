"""`dnsprop watch --listen` against the testbed: Debian's Prometheus scrapes /metrics and its HTTP API
returns a dnsprop series with the value the watch reported; promtool accepts /metrics and the README's
scrape config and alert rule; headless Chromium (Debian's `chromium`) loads the status page during a
renewal replay, the DOM has a row per resolver, a hostile TXT record is shown as text (it does not
script the page), and the screenshot is saved to docs/status-page.png (shown in the README) when
DNSPROP_UPDATE_SCREENSHOTS=1."""
import json, os, re, shutil, socket, subprocess, threading, time, urllib.error, urllib.parse, urllib.request

import pytest

from conftest import RESOLVERS, ROOT, dnsprop_binary, run_testbed

HOSTILE = "<script>document.title='pwned'</script>"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, timeout=10):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status, dict(r.headers), r.read().decode()


def placed_resolvers(world, path):
    """The testbed's resolver list with a country for each (the map places them by country)."""
    countries = iter(["DE", "US", "JP", "BR", "AU", "ZA", "IN", "CA"])
    lines = []
    for line in open(world.resolvers).read().splitlines():
        fields = line.split("|")
        if not line.startswith("#") and len(fields) >= 3:
            fields[2] = f" {next(countries)} "
        lines.append("|".join(fields))
    path.write_text("\n".join(lines) + "\n")
    return str(path)


class Watch:
    """A running `watch --listen 127.0.0.1:0`; `base` is the URL it printed on stderr."""

    def __init__(self, world, *args, resolvers=None):
        cmd = [dnsprop_binary(), "watch", *args, "--resolvers", resolvers or world.resolvers, "--root-hints", world.hints,
               "--timeout", "1", "--retries", "1", "--interval", "2", "--listen", "127.0.0.1:0"]
        self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        self.stderr = []
        deadline = time.time() + 60
        self.base = None
        while self.base is None and time.time() < deadline:
            line = self.proc.stderr.readline()
            if not line:
                break
            self.stderr.append(line)
            m = re.search(r"serving (http://127\.0\.0\.1:\d+)/", line)
            if m:
                self.base = m.group(1)
        assert self.base, "no 'serving' line: " + "".join(self.stderr)
        threading.Thread(target=lambda: self.stderr.extend(self.proc.stderr), daemon=True).start()

    def status(self, rounds=1, timeout=90):
        """/status.json once `rounds` rounds have finished (with the round number from /metrics)."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            try:
                _, _, metrics = get(self.base + "/metrics")
                m = re.search(r"^dnsprop_round (\S+)$", metrics, re.M)
                if m and float(m.group(1)) >= rounds:
                    return json.loads(get(self.base + "/status.json")[2])
            except urllib.error.HTTPError:
                pass
            time.sleep(0.5)
        raise AssertionError("no round finished: " + "".join(self.stderr))

    def stop(self):
        self.proc.terminate()
        self.proc.wait(timeout=20)


@pytest.fixture
def watch(world):
    started = []

    def start(*args, **kwargs):
        w = Watch(world, *args, **kwargs)
        started.append(w)
        return w
    yield start
    for w in started:
        w.stop()


def readme_block(marker):
    """The fenced block right after `<!-- marker -->` in README.md."""
    text = open(os.path.join(ROOT, "README.md")).read()
    m = re.search(r"<!-- " + re.escape(marker) + r" -->\s*```\w*\n(.*?)```", text, re.S)
    assert m, f"README.md has no block marked {marker}"
    return m.group(1)


def test_prometheus_scrapes_a_running_watch(world, watch, tmp_path):
    for tool in ("prometheus", "promtool"):
        assert shutil.which(tool), f"{tool} is missing (apt-get install prometheus; Scripts/test installs it)"
    world.reset()
    w = watch("victim.com", "--type", "A")
    doc = w.status()
    addresses = {r["resolver"]["address"] for r in doc["results"]}
    assert RESOLVERS["unbound"] in addresses

    # promtool accepts what /metrics serves.
    status, headers, metrics = get(w.base + "/metrics")
    assert headers["Content-Type"].startswith("text/plain; version=0.0.4")
    lint = subprocess.run(["promtool", "check", "metrics"], input=metrics, capture_output=True, text=True)
    assert lint.returncode == 0, lint.stdout + lint.stderr

    # The README's alert rule and scrape config pass promtool, and the rule is loaded by the real server.
    rules = tmp_path / "dnsprop-rules.yml"
    rules.write_text(readme_block("alert-rule"))
    check = subprocess.run(["promtool", "check", "rules", str(rules)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr
    readme_config = tmp_path / "readme-prometheus.yml"
    readme_config.write_text(readme_block("scrape-config"))
    check = subprocess.run(["promtool", "check", "config", str(readme_config)], capture_output=True, text=True)
    assert check.returncode == 0, check.stdout + check.stderr

    port = free_port()
    target = w.base.split("//", 1)[1]
    config = tmp_path / "prometheus.yml"
    config.write_text(f"""global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ["{rules}"]
scrape_configs:
  - job_name: dnsprop
    static_configs:
      - targets: ["{target}"]
""")
    prom = subprocess.Popen(["prometheus", f"--config.file={config}", f"--storage.tsdb.path={tmp_path / 'data'}",
                             f"--web.listen-address=127.0.0.1:{port}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    api = f"http://127.0.0.1:{port}/api/v1/"
    try:
        def query(expr):
            _, _, body = get(api + "query?" + urllib.parse.urlencode({"query": expr}))
            return json.loads(body)["data"]["result"]

        unbound = f'dnsprop_resolver_status{{resolver="{RESOLVERS["unbound"]}",status="current"}}'
        deadline = time.time() + 90
        result = []
        while time.time() < deadline:
            try:
                result = query(unbound)
                if result:
                    break
            except (urllib.error.URLError, ConnectionError):
                pass
            time.sleep(1)
        assert result, "Prometheus never scraped dnsprop: " + prom.stderr.read(2000) if prom.poll() is not None else "no series"
        assert result[0]["metric"]["job"] == "dnsprop"
        # After a reset and flush, unbound serves the live answer: current.
        assert float(result[0]["value"][1]) == 1.0
        # Every resolver is counted once, under its worst status.
        total = query("sum(dnsprop_resolvers)")
        assert float(total[0]["value"][1]) == len(addresses)
        # The exposition's histogram made it into the TSDB.
        assert float(query("dnsprop_query_latency_seconds_count")[0]["value"][1]) > 0
        # The README's rule is loaded and evaluates against the scraped series.
        deadline = time.time() + 30
        groups = []
        while time.time() < deadline:
            groups = json.loads(get(api + "rules")[2])["data"]["groups"]
            if groups and groups[0]["rules"] and groups[0]["rules"][0].get("lastEvaluation", "").startswith("20"):
                break
            time.sleep(1)
        rule = groups[0]["rules"][0]
        assert rule["name"] == "DNSPropNotConverged" and rule["health"] == "ok", rule
    finally:
        prom.terminate()
        prom.wait(timeout=30)


def chromium(*args, timeout=120):
    cmd = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--hide-scrollbars",
           "--user-data-dir=" + args[0], *args[1:]]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)


def test_status_page_in_headless_chromium(world, watch, tmp_path):
    assert shutil.which("chromium"), "chromium is missing (apt-get install chromium; Scripts/test installs it)"
    # The renewal replay: parked, two resolvers primed while parked, then renewed.
    world.reset(delegation="parked")
    for name in ("unbound", "bind"):
        world.dig(RESOLVERS[name], "victim.com", "A")
        world.dig(RESOLVERS[name], "victim.com", "NS")
    run_testbed("delegate", "live")
    w = watch("victim.com", "hostile.victim.com", "--type", "A,TXT", resolvers=placed_resolvers(world, tmp_path / "resolvers.txt"))
    doc = w.status(rounds=2)
    addresses = {r["resolver"]["address"] for r in doc["results"]}
    hostile = [r for r in doc["results"] if r["name"].rstrip(".") == "hostile.victim.com" and r["type"] == "TXT" and r["answers"]]
    assert any(HOSTILE in a for r in hostile for a in r["answers"]), "no resolver served the hostile TXT"

    profile = str(tmp_path / "profile")
    # The screenshot first, while the renewal is still propagating (the parked caches expire within TTL seconds).
    # Into docs/ (the README's picture) only when asked: a test run leaves the work tree as it was.
    if os.environ.get("DNSPROP_UPDATE_SCREENSHOTS"):
        shot = os.path.join(ROOT, "docs", "status-page.png")
    else:
        shot = str(tmp_path / "status-page.png")
    run = chromium(profile, "--window-size=1280,1200", "--virtual-time-budget=3000", "--screenshot=" + shot, w.base + "/")
    assert run.returncode == 0, run.stderr[-2000:]
    with open(shot, "rb") as f:
        png = f.read()
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 20000

    run = chromium(profile, "--virtual-time-budget=5000", "--dump-dom", w.base + "/")
    dom = run.stdout
    assert "<table" in dom, run.stderr[-2000:]
    # One row per resolver.
    for address in addresses:
        assert f'<tr class="st-' in dom and f'data-resolver="{address}"' in dom, address
    rows = re.findall(r'<tr class="st-(\w+)[^"]*" data-resolver="([^"]+)"', dom)
    assert {a for _, a in rows} == addresses and len(rows) == len(addresses)
    # The hostile TXT is text on the page, not markup: escaped in the DOM, no element made of it.
    assert "&lt;script&gt;document.title='pwned'&lt;/script&gt;" in dom
    assert "<script>document.title" not in dom
    assert "<img" not in dom
    # Every resolver is on the map (placed by its country), coloured by status.
    dots = re.findall(r'<circle class="dot st-(\w+)"[^>]*data-resolver="([^"]+)"', dom)
    assert {a for _, a in dots} == addresses
    title = re.search(r"<title>(.*?)</title>", dom).group(1)
    assert "pwned" not in title and title.startswith("dnsprop watch")

