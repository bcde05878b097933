"""End-to-end tests: the dnsprop binary against real resolvers in the offline testbed.

Run by Scripts/test (after the Swift suites); on their own:
    python3 -m pytest Tests/EndToEnd -q
The testbed is brought up once for the session and always torn down.
"""
import json, os, subprocess, time
import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
TESTBED = os.path.join(ROOT, "Scripts", "testbed")
TTL = int(os.environ.get("TESTBED_TTL", "8"))
# DNSPROP_TESTBED_NET moves the testbed to another 127.N/16 (parallel work trees); see Scripts/testbed.
# Under pytest-xdist (Scripts/test runs `-n N --dist loadfile`) each worker brings up its own
# testbed: worker gwK uses 127.(53+K+1), or the given network's third octet + K + 1.
def _network():
    base = os.environ.get("DNSPROP_TESTBED_NET", "127.53")
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    if worker.startswith("gw"):
        second = int(base.split(".")[1]) + int(worker[2:]) + 1
        os.environ["DNSPROP_TESTBED_NET"] = f"127.{second}"
        return f"127.{second}"
    return base


NET = _network()
TESTBED_DIR = subprocess.run([TESTBED, "root-hints"], check=True, capture_output=True, text=True).stdout.strip().rsplit("/", 1)[0]
RESOLVERS = {"unbound": f"{NET}.1.1", "bind": f"{NET}.1.2", "pdns": f"{NET}.1.3", "knot": f"{NET}.1.4"}
REFUSER = f"{NET}.1.5"
# Registry look-ups (RDAP) of every run go to the stand-in's address (Scripts/rdap-standin.py, started by
# test_registry.py), never to a real registry; where it is not running the look-up is refused at once.
RDAP_STANDIN = f"{NET}.3.1:8043"
os.environ.setdefault("DNSPROP_RDAP_URL", f"http://{RDAP_STANDIN}/active/")


def dnsprop_binary():
    explicit = os.environ.get("DNSPROP_BIN")
    if explicit:
        return explicit
    return os.path.join(ROOT, ".build", "debug", "dnsprop")


def run_testbed(*args):
    env = dict(os.environ, TESTBED_TTL=str(TTL))
    subprocess.run([TESTBED, *args], check=True, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


class World:
    def __init__(self, tmp):
        self.hints = os.path.join(TESTBED_DIR, "root.hints")
        self.resolvers = os.path.join(tmp, "resolvers.txt")
        with open(self.resolvers, "w") as f:
            f.write(subprocess.run([TESTBED, "resolvers"], check=True, capture_output=True, text=True).stdout)

    def reset(self, delegation="live", a="192.0.2.10"):
        run_testbed("delegate", delegation)
        run_testbed("set-a", a)
        run_testbed("flush")

    def dig(self, server, name, rtype="A"):
        """kdig's view of what a resolver serves: (status, [(ttl, data)])."""
        out = subprocess.run(["kdig", f"@{server}", "+timeout=2", "+retry=1", name, rtype],
                             capture_output=True, text=True).stdout
        status = out.split("status: ")[1].split(";")[0] if "status: " in out else "NONE"
        records = []
        section = None
        for line in out.splitlines():
            if line.startswith(";; ANSWER SECTION"):
                section = "answer"
                continue
            if line.startswith(";;"):
                section = None if line.startswith(";; ") and "SECTION" in line else section
                continue
            if section == "answer" and line.strip():
                parts = line.split()
                records.append((int(parts[1]), parts[-1]))
        return status, records

    def check(self, *args, resolvers=None, expect_status=None):
        cmd = [dnsprop_binary(), "check", *args, "--root-hints", self.hints, "--format", "json",
               "--timeout", "1", "--retries", "1"]
        cmd += ["--resolvers", resolvers] if resolvers else ["--resolvers", self.resolvers]
        run = subprocess.run(cmd, capture_output=True, text=True)
        assert run.stdout, f"no output; stderr: {run.stderr}"
        doc = json.loads(run.stdout)
        if expect_status is not None:
            assert run.returncode == expect_status, f"exit {run.returncode}, wanted {expect_status}\n{run.stdout}"
        doc["_exit"] = run.returncode
        return doc


def rows(doc, name=None, rtype=None, check=None):
    out = {}
    for r in doc["results"]:
        if name and r["name"] != name:
            continue
        if rtype and r["type"] != rtype:
            continue
        if check and r["check"] != check:
            continue
        out[r["resolver"]["address"]] = r
    return out


@pytest.fixture(scope="session")
def world(tmp_path_factory):
    run_testbed("up")
    try:
        yield World(str(tmp_path_factory.mktemp("e2e")))
    finally:
        run_testbed("down")
