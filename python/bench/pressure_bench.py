#!/usr/bin/env python3
"""pressure.pressure_memory() per call next to the seed's pure-Python parsing, in one run.

    PYTHONPATH=build/python /usr/bin/python3 python/bench/pressure_bench.py [--calls N] [--repeat R]

Peers, all reading /proc/pressure/memory:
  seed        the psutil request's snippet: Path.read_text(), then full avg10 only
  seed-full   the same approach parsing all eight fields into a dict (what spressure holds)
  pressure    pressure.pressure_memory(): the C++ Reader (file kept open, one pread) + spressure
  oneshot     pressure.pressure_memory(proc_root="/proc"): opens, reads, closes every call
  floor       os.pread of 256 bytes on an fd kept open: the system call alone, from Python
Medians of R interleaved repeats of N calls; ratios against pressure. Never fails on times.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import timeit
from pathlib import Path

import pressure


def seed() -> None:
    content = Path("/proc/pressure/memory").read_text()
    for line in content.splitlines():
        if line.startswith("full "):
            for token in line.split():
                if token.startswith("avg10="):
                    pressure_pct = float(token[6:])  # noqa: F841


def seed_full() -> dict:
    out = {}
    for line in Path("/proc/pressure/memory").read_text().splitlines():
        name, *tokens = line.split()
        for token in tokens:
            key, _, value = token.partition("=")
            out[f"{name}_{key}"] = int(value) if key == "total" else float(value)
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=20000)
    parser.add_argument("--repeat", type=int, default=9)
    args = parser.parse_args()
    if args.calls <= 0 or args.repeat <= 0:
        parser.error("--calls and --repeat must be positive")
    if not os.access("/proc/pressure/memory", os.R_OK):
        print("pressure_bench: no /proc/pressure/memory (PSI off); nothing to measure", file=sys.stderr)
        return 1

    fd = os.open("/proc/pressure/memory", os.O_RDONLY)
    try:
        peers = {
            "seed": seed,
            "seed-full": seed_full,
            "pressure": pressure.pressure_memory,
            "oneshot": lambda: pressure.pressure_memory(proc_root="/proc"),
            "floor": lambda: os.pread(fd, 256, 0),
        }
        # Same answer first: the parsed dict equals the module's fields.
        reading, parsed = pressure.pressure_memory(), seed_full()
        assert set(parsed) == set(reading._fields), (parsed, reading)
        # Interleaved: each repeat times every peer, so load from other processes on the
        # machine falls on all of them alike.
        times = {name: [] for name in peers}
        for fn in peers.values():
            fn()
        for _ in range(args.repeat):
            for name, fn in peers.items():
                times[name].append(timeit.timeit(fn, number=args.calls))
        ns = {name: statistics.median(t) / args.calls * 1e9 for name, t in times.items()}
    finally:
        os.close(fd)

    print(f"python {sys.version.split()[0]}, {args.calls} calls x {args.repeat} repeats, median ns per call")
    base = ns["pressure"]
    for name, value in ns.items():
        print(f"  {name:<10} {value:9.0f} ns   {value / base:5.2f}x pressure")
    print(f"ratio seed/pressure={ns['seed'] / base:.2f} seed_full/pressure={ns['seed-full'] / base:.2f} "
          f"pressure/floor={base / ns['floor']:.2f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
