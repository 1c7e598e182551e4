"""A Python program that holds a cache it can rebuild and sheds it under memory pressure: half
at level 1, all of it at level 2 (the twin of shedding_cache.cpp). One JSON line per
transition on stdout.

    PYTHONPATH=build/python python3 examples/shedding_cache.py [--mib N] [--seconds S]

Level 1: more than 10 % of the last tick's wall time with some task of this process's cgroup
stalled on memory, until that falls under 2 %. Level 2: more than 30 % "full" stall, until
under 5 %. A kernel trigger ("memory some 10%/2s" on the own cgroup) wakes the manager at once;
otherwise it looks every 250 ms. A second cache is registered weakly: it is cleared on level 2
while it lives, and forgotten once the program drops it.
"""

from __future__ import annotations

import argparse
import json
import signal
import threading
import time
from typing import Dict, List

from pressure import levels


class Cache:
    """Blocks of 1 MiB, really resident."""

    def __init__(self, mib: int) -> None:
        self.blocks: List[bytearray] = [bytearray(b"x" * (1 << 20)) for _ in range(mib)]

    def drop_half(self) -> None:
        del self.blocks[len(self.blocks) // 2:]

    def drop_all(self) -> None:
        self.blocks.clear()

    @property
    def mib(self) -> int:
        return len(self.blocks)


def say(event: str, cache: Cache, **fields: object) -> None:
    line: Dict[str, object] = {"time": round(time.time(), 3), "event": event, **fields, "cache_mib": cache.mib}
    print(json.dumps(line), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description="a cache that sheds itself under memory pressure")
    parser.add_argument("--mib", type=int, default=16)
    parser.add_argument("--seconds", type=float, default=0.0, help="0: until SIGTERM/SIGINT")
    args = parser.parse_args()
    cache = Cache(args.mib)
    side = Cache(args.mib // 4)

    manager = levels.Manager([
        levels.hysteresis(levels.psi_share_above("memory", "some", 10),
                          ~levels.psi_share_above("memory", "some", 2)),
        levels.hysteresis(levels.psi_share_above("memory", "full", 30),
                          ~levels.psi_share_above("memory", "full", 5)),
    ], interval=0.25, wake_on=["memory some 10%/2s"], wake_scope="local")

    @manager.on_entered(1)
    def shed_half(t: levels.Transition) -> None:
        cache.drop_half()
        say("entered", cache, level=t.level, previous=t.previous, current=t.current)

    @manager.on_entered(2)
    def shed_all(t: levels.Transition) -> None:
        cache.drop_all()
        say("entered", cache, level=t.level, previous=t.previous, current=t.current)

    for level in (1, 2):
        manager.on_left(level, lambda t: say("left", cache, level=t.level, previous=t.previous, current=t.current))
    manager.on_normal(lambda t: say("normal", cache, level=t.level, previous=t.previous, current=t.current))
    manager.cleanup_on_entered(2, side, Cache.drop_all)
    manager.install_force_gc_collect(2)

    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    with manager:
        say("ready", cache)
        done.wait(args.seconds if args.seconds > 0 else None)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
