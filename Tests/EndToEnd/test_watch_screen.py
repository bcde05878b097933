"""The watch screen at world scale in a real terminal (tmux): 150 resolvers on loopback
addresses ($DNSPROP_TESTBED_NET.21.1-150, world_responder.py), of which 90 current, 30 stale
(the old address), 10 parked (an address from the parking signatures) and 20 silent, with
the truth from --expect. Checked at 60x20, 90x28 and 200x60 through capture-pane: the
groups, every non-current resolver reachable by keys alone, the filter, `f`, the map's
marks (`m`), hostile text escaped, NO_COLOR, and the redraw on `tmux resize-window`.

Needs no testbed (the truth is given), only tmux. Every wait polls the screen."""
import ipaddress, itertools, json, os, re, shutil, subprocess, sys, time

import pytest

from conftest import ROOT, dnsprop_binary

NET = os.environ.get("DNSPROP_TESTBED_NET", "127.53")
BLOCK = f"{NET}.21"            # issue 21's block inside the testbed's network
CURRENT_A, STALE_A = "192.0.2.10", "192.0.2.99"
HOSTILE_TXT = "\x1b[2J\x1b]0;pwned\x07HOSTILE"

# Countries by status, each country holding one status only, far enough apart that no two
# share a map cell at 60 columns: the map's marks can then be checked one by one.
CURRENT_IN = ["US", "BR", "JP", "IN", "KE", "AR"]      # 15 each
STALE_IN = ["RU", "CN", "DE"]                          # 10 each
PARKED_IN = ["AU"]
SILENT_IN = ["CA", "ZA"]                               # 10 each
LETTER = {"current": "C", "stale": "S", "parked": "P", "timeout": "T"}


def parking_address():
    """The first address of the first A network in the bundled parking signatures."""
    doc = json.load(open(os.path.join(ROOT, "data", "parking-signatures.json")))
    for provider in doc["providers"]:
        for net in provider.get("a", []):
            return str(next(ipaddress.ip_network(net).hosts()))
    raise AssertionError("no A network in data/parking-signatures.json")


def country_points():
    """ISO code -> (lat, lon), from the generated table the binary is built with."""
    text = open(os.path.join(ROOT, "Sources", "DNSProp", "Geography", "CountryCentroidData.swift")).read()
    return {m[1]: (float(m[2]), float(m[3])) for m in re.finditer(r"^\s+([A-Z]{2}) (-?[\d.]+) (-?[\d.]+)$", text, re.M)}


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    assert shutil.which("tmux"), "tmux is installed by Scripts/test"
    tmp = tmp_path_factory.mktemp("watch-screen")
    parked = parking_address()
    plan = (["current"] * 90) + (["stale"] * 30) + (["parked"] * 10) + (["timeout"] * 20)
    countries = ([c for c in CURRENT_IN for _ in range(15)] + [c for c in STALE_IN for _ in range(10)]
                 + PARKED_IN * 10 + [c for c in SILENT_IN for _ in range(10)])
    config, lines, truth, where = [], [], {}, {}
    for i, (status, country) in enumerate(zip(plan, countries)):
        address = f"{BLOCK}.{i + 1}"
        entry = {"address": address, "port": 53}
        if status == "current":
            entry.update(a=CURRENT_A, txt="v=current")
        elif status == "stale":
            entry.update(a=STALE_A, txt="v=old")
        elif status == "parked":
            entry.update(a=parked, txt=None)
        else:
            entry.update(silent=True)
        config.append(entry)
        truth[address] = status
        where[address] = country
        operator = f"Operator {i + 1}"
        lines.append(f"{address} | {operator} [op{i + 1}] | {country} | | unicast | e2e")
    hostile = f"{BLOCK}.91"        # the first stale one: the new A, but a TXT full of escapes
    config[90].update(a=CURRENT_A, txt=HOSTILE_TXT)
    (tmp / "responders.json").write_text(json.dumps(config))
    (tmp / "resolvers.txt").write_text("\n".join(lines) + "\n")
    responder = subprocess.Popen([sys.executable, os.path.join(os.path.dirname(__file__), "world_responder.py"),
                                  str(tmp / "responders.json")], stdout=subprocess.PIPE, text=True)
    try:
        ready = responder.stdout.readline()
        assert ready.strip() == "ready 150", ready
        yield {"dir": tmp, "resolvers": str(tmp / "resolvers.txt"), "truth": truth, "where": where, "hostile": hostile}
    finally:
        responder.kill()
        responder.wait()


class Pane:
    """One `dnsprop watch` in a tmux server of its own (a private socket)."""
    serial = itertools.count()

    def __init__(self, world, width, height, colour=False, extra=()):
        self.socket = f"dnsprop-e2e-21-{os.getpid()}-{next(Pane.serial)}"
        cmd = [dnsprop_binary(), "watch", "victim.example", "--resolvers", world["resolvers"],
               "--expect", f"A={CURRENT_A}", "--expect", "TXT=v=current", "--no-delegation",
               "--timeout", "1", "--retries", "1", "--interval", "600", *extra]
        env = ["env", "TERM=xterm-256color"] + ([] if colour else ["NO_COLOR=1"])
        if colour:
            env = ["env", "-u", "NO_COLOR", "TERM=xterm-256color"]
        self.tmux("new-session", "-d", "-s", "w", "-x", str(width), "-y", str(height), *env, *cmd)
        self.tmux("set-option", "-g", "remain-on-exit", "on")

    def tmux(self, *args):
        run = subprocess.run(["tmux", "-L", self.socket, *args], capture_output=True, text=True)
        assert run.returncode == 0, f"tmux {args[0]}: exit {run.returncode}: {run.stderr}"
        return run.stdout

    def capture(self, escapes=False):
        return self.tmux("capture-pane", "-p", *(["-e"] if escapes else []), "-t", "w")

    def lines(self):
        return self.capture().split("\n")

    def keys(self, *keys):
        self.tmux("send-keys", "-t", "w", *keys)

    def wait(self, predicate, what, timeout=30):
        deadline = time.time() + timeout
        screen = ""
        while time.time() < deadline:
            screen = self.capture()
            if predicate(screen):
                return screen
            if "Pane is dead" in screen:
                break
            time.sleep(0.2)
        raise AssertionError(f"timed out waiting for {what}; screen:\n{screen}")

    def first_round(self):
        # The first round waits out the silent ones (--timeout 1, one retry); generous for loaded CI machines.
        return self.wait(lambda s: "round 1" in s and "current ·" in s and ("STATUS" in s or "map of" in s), "round 1",
                         timeout=90)

    def close(self):
        subprocess.run(["tmux", "-L", self.socket, "kill-server"], capture_output=True)


@pytest.fixture
def pane(world):
    panes = []

    def make(width, height, **kw):
        p = Pane(world, width, height, **kw)
        panes.append(p)
        return p
    yield make
    for p in panes:
        p.close()


ROW = re.compile(r"^[* ] (current|stale|parked|nxdomain|nodata|servfail|refused|timeout|error)\s+(\d+\.\d+\.\d+\.\d+)\b")
FOOTER = re.compile(r"(\d+)–(\d+) of (\d+)")


def rows(screen):
    return {m[2]: m[1] for m in (ROW.match(line) for line in screen.split("\n")) if m}


def last_line(screen):
    return [l for l in screen.split("\n") if l.strip()][-1]


def footer(screen):
    m = FOOTER.search(last_line(screen))
    assert m, screen
    return tuple(int(x) for x in m.groups())


def collect_by_keys(p, key):
    """Presses `key` until the footer's position stops moving; every row seen, by address."""
    seen = {}
    screen = p.capture()
    for _ in range(100):
        seen.update(rows(screen))
        before = footer(screen)
        if before[1] == before[2]:
            break
        p.keys(key)
        screen = p.wait(lambda s: footer(s) != before, f"{key} to move the list")
    return seen, screen


@pytest.mark.parametrize("size", [(60, 20), (90, 28), (200, 60)], ids=["60x20", "90x28", "200x60"])
def test_groups_and_every_non_current_resolver_reachable_by_keys(world, pane, size):
    p = pane(*size)
    screen = p.first_round()
    assert screen.count("dnsprop watch ·") == 1
    # Under the title (and the registry diagnosis line): "90/130 current" (130 answering).
    assert any(re.search(r"\b90/130 current", l) for l in screen.split("\n")[1:4]), screen
    seen, last = collect_by_keys(p, "PageDown")
    # The 90 current resolvers collapse into group lines ("current · N resolvers · answer · regions")
    # at the end of the list, under the ones that need attention.
    groups = [l for l in last.split("\n") if re.match(r"^\s+current · \d+ resolvers? · ", l)]
    assert 1 <= len(groups) <= 3, last
    assert sum(int(re.search(r"· (\d+) resolver", g)[1]) for g in groups) == 90
    # Every stale, parked and silent resolver was on screen, with its true status.
    non_current = {a: s for a, s in world["truth"].items() if s != "current"}
    assert {a: seen.get(a) for a in non_current} == non_current
    # Current ones are never listed one by one in this grouping.
    assert not any(s == "current" for s in seen.values())
    # The list's lines: 60 non-current rows and the groups.
    assert footer(last)[2] == 60 + len(groups)
    # Home goes back to the top; End to the bottom; Up and Down move by one.
    p.keys("Home")
    top = p.wait(lambda s: footer(s)[0] == 1, "Home")
    p.keys("Down")
    p.wait(lambda s: footer(s)[0] == 2, "Down")
    p.keys("Up")
    p.wait(lambda s: footer(s)[0] == 1, "Up")
    p.keys("End")
    p.wait(lambda s: footer(s)[1] == footer(s)[2], "End")
    # The ones that hold out longest come first: stale and parked before the silent ones.
    first = list(rows(top).values())
    assert first and first[0] in ("stale", "parked"), top


def test_filter_and_show_cycle(world, pane):
    p = pane(90, 28)
    p.first_round()
    p.keys("/")
    p.wait(lambda s: "filter: ▏" in s, "the filter prompt")
    p.keys("-l", "AU")
    p.keys("Enter")
    screen = p.wait(lambda s: 'filter "AU"' in s, "the filter to apply")
    assert set(rows(screen).values()) == {"parked"} and len(rows(screen)) == 10, screen
    assert footer(screen) == (1, 10, 10)
    # Esc after `/` clears it.
    p.keys("/")
    p.wait(lambda s: "filter: ▏" in s, "the filter prompt")
    p.keys("Escape")
    screen = p.wait(lambda s: "filter:" not in last_line(s) and "filter \"" not in last_line(s) and footer(s)[2] > 10,
                    "the filter to clear")
    # f: all -> not current -> failing -> all
    p.keys("f")
    screen = p.wait(lambda s: "showing not current" in s, "f once")
    assert footer(screen)[2] == 60
    p.keys("f")
    screen = p.wait(lambda s: "showing failing" in s, "f twice")
    assert footer(screen)[2] == 20 and set(rows(screen).values()) == {"timeout"}
    p.keys("f")
    p.wait(lambda s: "showing" not in s and footer(s)[2] > 60, "f three times")
    # g: grouped by continent shows headings.
    p.keys("g")
    p.wait(lambda s: "grouped by continent" in s and re.search(r"(Europe|Asia|Africa) · \d+ resolvers", s), "g")


def map_lines(screen):
    """The map's rows: between the blank line under the summary and the legend."""
    lines = screen.split("\n")
    start = lines.index("", 1) + 1
    end = next(i for i, l in enumerate(lines) if re.match(r"^\s+(●|C) current \d+", l))
    return lines[start:end], lines[end]


@pytest.mark.parametrize("size", [(60, 20), (90, 28), (200, 60)], ids=["60x20", "90x28", "200x60"])
def test_map_marks_resolvers_where_they_are(world, pane, size):
    p = pane(*size)
    p.first_round()
    p.keys("m")
    screen = p.wait(lambda s: re.search(r"C current \d+", s), "the map")
    rows_, legend = map_lines(screen)
    assert "C current 90" in legend and "P parked 10" in legend and "S stale 30" in legend and "T timeout 20" in legend
    assert any(re.search("[\u2801-\u28ff]", r) for r in rows_), "no land drawn"
    # Where the map is: land reaches both edges (Chukotka at 180°W/E), rows from 84°N to 58°S.
    left = min(len(r) - len(r.lstrip()) for r in rows_ if r.strip())
    right = max(len(r.rstrip()) for r in rows_)
    width, height = right - left, len(rows_)
    points = country_points()
    for country, status in ([(c, "current") for c in CURRENT_IN] + [(c, "stale") for c in STALE_IN]
                            + [(c, "parked") for c in PARKED_IN] + [(c, "timeout") for c in SILENT_IN]):
        lat, lon = points[country]
        col = left + int((lon + 180) / 360 * width)
        row = int((84 - lat) / 142 * height)
        near = [rows_[r][c] for r in range(max(0, row - 1), min(height, row + 2))
                for c in range(max(0, col - 2), col + 3) if c < len(rows_[r])]
        assert LETTER[status] in near, f"{country}: no {LETTER[status]} near column {col}, row {row}\n" + "\n".join(rows_)
    letters = "".join(rows_)
    for status, letter in LETTER.items():
        assert letter in letters
    # The list is one key away, and under the map where there is room.
    assert ("STATUS" in screen) == (size[1] >= 40)
    p.keys("m")
    p.wait(lambda s: "STATUS" in s and "C current" not in s, "m back to the list")


def test_map_in_colour_and_no_colour(world, pane):
    p = pane(90, 28, colour=True)
    p.first_round()
    coloured = p.capture(escapes=True)
    assert "\x1b[" in coloured and re.search(r"\x1b\[[0-9;]*3[0-9]", coloured), "no colour without NO_COLOR"
    p.keys("m")
    p.wait(lambda s: "current 90" in s, "the map")
    screen = p.capture(escapes=True)
    assert "●" in screen
    assert not re.search(r"(?m)^[^\x1b]*[CSPT][^\x1b]*$", "\n".join(map_lines(p.capture())[0])), "letters in colour mode"
    q = pane(90, 28)
    q.first_round()
    q.keys("m")
    q.wait(lambda s: "C current 90" in s, "the map")
    # NO_COLOR: no colour anywhere (tmux's capture shows attributes as SGR sequences).
    assert not re.search(r"\x1b\[[0-9;]*m", q.capture(escapes=True).replace("\x1b[0m", "").replace("\x1b[39m", "")), \
        q.capture(escapes=True)[:2000]
    assert "●" not in q.capture()
    # --no-color does the same where NO_COLOR is not set.
    r = pane(90, 28, colour=True, extra=("--no-color",))
    r.first_round()
    r.keys("m")
    r.wait(lambda s: "C current 90" in s, "the map with --no-color")
    assert not re.search(r"\x1b\[[0-9;]*m", r.capture(escapes=True).replace("\x1b[0m", "").replace("\x1b[39m", "")), \
        r.capture(escapes=True)[:2000]


def test_hostile_answers_and_names_are_escaped(world, pane):
    p = pane(200, 60)
    p.first_round()
    hostile = world["hostile"]
    p.keys("/")
    p.wait(lambda s: "filter: ▏" in s, "the filter prompt")
    p.keys("-l", hostile)
    p.keys("Enter")
    screen = p.wait(lambda s: f'filter "{hostile}"' in s and hostile in s, "the hostile resolver")
    line = next(l for l in screen.split("\n") if hostile + " " in l)
    assert "HOSTILE" in line and "[2J" in line and "\\" in line.split("[2J")[0][-5:], line
    # The screen was not cleared by it and the title was not set by it.
    assert screen.count("dnsprop watch ·") == 1
    assert "pwned" not in p.tmux("display-message", "-p", "-t", "w", "#{pane_title}")
    # (Names in a resolver list cannot carry such text: the list parser skips the line with a
    # diagnostic (ResolverListTests); a probe's names are escaped as answers are.)


def test_resize_redraws_at_the_new_size(world, pane):
    p = pane(90, 28)
    screen = p.first_round()
    assert "OPERATOR" not in screen                  # the operator column needs 110 columns
    p.tmux("resize-window", "-t", "w", "-x", "200", "-y", "60")
    screen = p.wait(lambda s: s.startswith("dnsprop watch ·") and "OPERATOR" in s and footer(s)[1] - footer(s)[0] > 40,
                    "the redraw at 200x60")
    assert screen.count("dnsprop watch ·") == 1
    assert max(len(l) for l in screen.split("\n")) <= 200
    p.tmux("resize-window", "-t", "w", "-x", "60", "-y", "20")
    # (tmux first crops the old frame; the redraw puts the title back on top and a 60-column header.)
    screen = p.wait(lambda s: s.startswith("dnsprop watch ·") and "STATUS" in s and "QUESTION" not in s
                    and footer(s)[1] - footer(s)[0] < 20, "the redraw at 60x20")
    assert screen.count("dnsprop watch ·") == 1
    # The map follows the size too.
    p.keys("m")
    small = map_lines(p.wait(lambda s: "C current" in s, "the map"))[0]
    p.tmux("resize-window", "-t", "w", "-x", "200", "-y", "60")
    big = map_lines(p.wait(lambda s: "C current" in s and len(s.split("\n")) >= 60 and "STATUS" in s, "the map at 200x60"))[0]
    assert len(big) > len(small) and max(len(l) for l in big) > max(len(l) for l in small)
    # q leaves the alternate screen and prints the timeline.
    p.keys("q")
    after = p.wait(lambda s: "dnsprop watch ·" not in s and "still" in s, "the timeline after q")
    assert "still stale" in after or "still timeout" in after or "still parked" in after
