#!/usr/bin/env python3
"""The manual pages against the program, so neither drifts from the other silently.

- every built page formats without a warning (man --warnings, as lintian checks);
- pressure(1) has a section for every command `pressure --help` lists, and each section lists
  exactly the flags that command's --help lists (the global flags likewise);
- pressure-daemon.toml(5) lists exactly the keys src/daemon/config.cpp and rule_config.cpp accept.

Usage: man_check.py PRESSURE_BINARY MAN_DIR SOURCE_DIR
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

FLAG = re.compile(r"(?<![\w-])(-[a-zA-Z]|--[a-z][a-z0-9-]*)")


def help_text(binary: str, *args: str) -> str:
    r = subprocess.run([binary, *args, "--help"], capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"'{binary} {' '.join(args)} --help' exited {r.returncode}: {r.stderr}")
    return r.stdout


def help_flags(text: str) -> set[str]:
    """The flags an option line of CLI11's help starts with ("  -o,--output FILE.svg ...")."""
    flags = set()
    for line in text.splitlines():
        m = re.match(r"^\s*((?:-[a-zA-Z],\s*)?--[a-z][a-z0-9-]*)", line)
        if m:
            flags.update(FLAG.findall(m.group(1)))
    return flags - {"-h", "--help"}


def help_commands(text: str) -> set[str]:
    commands, inside = set(), False
    for line in text.splitlines():
        if line.strip().upper().startswith("SUBCOMMANDS"):
            inside = True
            continue
        if inside:
            m = re.match(r"^\s+([a-z][a-z-]*)\s", line)
            if m:
                commands.add(m.group(1))
            elif line.strip() and not line.startswith(" "):
                inside = False
    return commands


def man_sections(source: Path) -> dict[str, set[str]]:
    """Flags per command ("" for GLOBAL OPTIONS): lines that start with *-flag* under a heading."""
    sections: dict[str, set[str]] = {}
    current = None
    for line in source.read_text().splitlines():
        if line.startswith("# "):
            current = "" if line == "# GLOBAL OPTIONS" else None
        elif line.startswith("## pressure "):
            current = line.split()[2]
        if current is not None:
            sections.setdefault(current, set())
            if line.startswith("*-"):
                head = line.split("_")[0]  # the flag and its own spellings, not its argument
                sections[current].update(FLAG.findall(head))
    for flags in sections.values():
        flags.discard("-h")
        flags.discard("--help")
    return sections


def config_keys(*sources: Path) -> dict[str, set[str]]:
    """The keys of each table the daemon's config parser accepts, from its only_keys(...) calls
    (`only_keys(ck, *table, {...}, "[daemon]: ")`, `TRY(only_keys(in.ck, in.t, {...}, in.ctx))`)."""
    text = "\n".join(source.read_text() for source in sources)
    keys: dict[str, set[str]] = {}
    pattern = r"only_keys\(\s*(?:in\.)?ck,\s*\*?[\w.]+,\s*\{([^}]*)\},\s*([^;]*?)\)\s*;"
    for m in re.finditer(pattern, text, re.S):
        names = set(re.findall(r'"([a-z_]+)"', m.group(1)))
        where = m.group(2)
        prefix = re.search(r'"\[?(\w+)\]?: "', where)
        table = prefix.group(1) if prefix else "rule"
        keys.setdefault(table, set()).update(names)
    return keys


def man_keys(source: Path) -> dict[str, set[str]]:
    """Keys per table: *key* lines under '# THE [daemon] TABLE', '# THE [[rule]] TABLES'."""
    keys: dict[str, set[str]] = {}
    current = None
    for line in source.read_text().splitlines():
        if line.startswith("# "):
            current = "daemon" if "[daemon]" in line else "rule" if "[[rule]]" in line else None
            continue
        m = re.match(r"^\*([a-z_]+)(?:\.([a-z_]+))?\*$", line)
        if current and m:
            if m.group(2):
                keys.setdefault(m.group(1), set()).add(m.group(2))
            else:
                keys.setdefault(current, set()).add(m.group(1))
    return keys


def check_warnings(page: Path) -> list[str]:
    env = dict(os.environ, LC_ALL="C.UTF-8", MANWIDTH="80", MAN_KEEP_FORMATTING="0")
    r = subprocess.run(["man", "--warnings", "-E", "UTF-8", "-l", str(page)],
                       capture_output=True, text=True, env=env)
    problems = []
    if r.returncode != 0:
        problems.append(f"{page.name}: man exited {r.returncode}")
    problems += [f"{page.name}: {line}" for line in r.stderr.splitlines() if line.strip()]
    if len(r.stdout) < 1000:
        problems.append(f"{page.name}: formats to almost nothing ({len(r.stdout)} characters)")
    return problems


def main() -> int:
    binary, man_dir, source_dir = sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])
    problems: list[str] = []
    pages = sorted(man_dir.glob("man[0-9]/*.[0-9]"))
    if {p.name for p in pages} != {"pressure.1", "pressure-daemon.toml.5"}:
        problems.append(f"built pages are {[p.name for p in pages]}")
    for page in pages:
        problems += check_warnings(page)

    top = help_text(binary)
    man = man_sections(source_dir / "src/cli/pressure.1.scd")
    commands = help_commands(top)
    if not commands:
        problems.append("found no commands in 'pressure --help'")
    for missing in sorted(commands - man.keys()):
        problems.append(f"pressure.1 has no '## pressure {missing}' section, --help lists the command")
    for extra in sorted(man.keys() - commands - {""}):
        problems.append(f"pressure.1 documents 'pressure {extra}', --help lists no such command")
    for command in sorted(commands & man.keys()) + [""]:
        helped = help_flags(help_text(binary, command) if command else re.split(r"(?im)^subcommands:", top)[0])
        name = f"pressure {command}" if command else "global options"
        for flag in sorted(helped - man.get(command, set())):
            problems.append(f"{name}: --help lists {flag}, pressure.1 does not")
        for flag in sorted(man.get(command, set()) - helped):
            problems.append(f"{name}: pressure.1 lists {flag}, --help does not")

    accepted = config_keys(source_dir / "src/daemon/config.cpp", source_dir / "src/daemon/rule_config.cpp")
    documented = man_keys(source_dir / "src/daemon/pressure-daemon.toml.5.scd")
    if not accepted.get("rule") or not accepted.get("daemon"):
        problems.append(f"could not read the keys of src/daemon/config.cpp: {accepted}")
    for table in sorted(accepted.keys() | documented.keys()):
        for key in sorted(accepted.get(table, set()) - documented.get(table, set())):
            problems.append(f"config.cpp accepts {table}.{key}, pressure-daemon.toml.5 does not list it")
        for key in sorted(documented.get(table, set()) - accepted.get(table, set())):
            problems.append(f"pressure-daemon.toml.5 lists {table}.{key}, config.cpp does not accept it")

    for p in problems:
        print(f"man_check: {p}", file=sys.stderr)
    if not problems:
        counted = sum(len(v) for v in man.values())
        print(f"man_check: {len(pages)} pages without warnings; {len(commands)} commands and {counted} "
              f"flags as --help lists them; {sum(len(v) for v in accepted.values())} configuration keys")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
