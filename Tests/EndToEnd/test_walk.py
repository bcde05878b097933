"""The polite walk from the root against the testbed's nsd servers: one check of a name with
its default types and the delegation check asks the root and the TLD at most three times each,
and a second watch round asks them nothing while the delegations' TTLs last."""
import re, subprocess

from conftest import dnsprop_binary

WALK = re.compile(r"walk from the root: (\d+) to root servers, (\d+) to TLD servers, (\d+) to other authoritative servers")


def test_check_asks_root_and_tld_at_most_three_times(world):
    world.reset()
    run = subprocess.run([dnsprop_binary(), "check", "victim.com", "--verbose", "--resolvers", world.resolvers,
                          "--root-hints", world.hints, "--timeout", "1", "--retries", "1"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 0, run.stdout + run.stderr
    m = WALK.search(run.stderr)
    assert m, run.stderr
    root, tld, auth = map(int, m.groups())
    assert 1 <= root <= 3 and 1 <= tld <= 3, m.group(0)
    assert auth >= 1


def test_second_watch_round_asks_root_and_tld_nothing(world):
    world.reset()
    run = subprocess.run([dnsprop_binary(), "watch", "victim.com", "--verbose", "--expect", "A=192.0.2.99",
                          "--until-propagated", "--max-wait", "4s", "--interval", "1", "--resolvers", world.resolvers,
                          "--root-hints", world.hints, "--timeout", "1", "--retries", "1"],
                         capture_output=True, text=True, timeout=60)
    assert run.returncode == 1, run.stdout + run.stderr          # the expected value is not served: max-wait ends it
    rounds = {int(n): tuple(map(int, WALK.search(line).groups()))
              for n, line in re.findall(r"round (\d+): (walk from the root: .*)", run.stdout)}
    assert len(rounds) >= 2, run.stdout
    assert rounds[1][0] >= 1 and rounds[1][1] >= 1                # the first round walked from the root
    for n in sorted(rounds)[1:]:
        assert rounds[n][0] == 0 and rounds[n][1] == 0, (n, rounds[n])
