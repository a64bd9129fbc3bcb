#!/usr/bin/env python3
"""For tests/tools/systemd.sh: checks a `strace -f` log of epserve against a unit file's
SystemCallFilter= and RestrictAddressFamilies=, so a syscall the sandbox would refuse shows up
here rather than as EPERM on a real host. Groups (@system-service, ...) are expanded with the
installed systemd's own table (`systemd-analyze syscall-filter`). Prints what was seen; exits 1
naming any syscall or address family the unit does not allow."""
import re
import subprocess
import sys


def groups() -> dict:
    text = subprocess.run(["systemd-analyze", "syscall-filter"], check=True,
                          capture_output=True, text=True, timeout=60).stdout
    table, current = {}, None
    for line in text.splitlines():
        if line.startswith("@"):
            current = table.setdefault(line.split()[0], [])
        elif current is not None and line.strip() and not line.strip().startswith("#"):
            current.append(line.strip())
    return table


def expand(names, table) -> set:
    out = set()
    for name in names:
        if name.startswith("@"):
            out |= expand(table.get(name, []), table)
        else:
            out.add(name)
    return out


def main() -> int:
    unit, trace = sys.argv[1], sys.argv[2]
    allow, deny, families = [], [], set()
    for line in open(unit):
        key, _, value = line.strip().partition("=")
        if key == "SystemCallFilter":
            (deny if value.startswith("~") else allow).extend(value.lstrip("~").split())
        elif key == "RestrictAddressFamilies":
            families |= set(value.split())
    if not allow or not families:
        print(f"{unit}: no SystemCallFilter= allow list or RestrictAddressFamilies=")
        return 1
    table = groups()
    allowed = expand(allow, table) - expand(deny, table)
    calls, used_families = set(), set()
    for line in open(trace):
        m = re.match(r"^\d+\s+(?:<\.\.\. )?([a-z0-9_]+)[( ]", line)
        if m:
            calls.add(m.group(1))
        f = re.search(r"\bsocket\((AF_[A-Z0-9]+),", line)
        if f:
            used_families.add(f.group(1))
    print(f"{len(calls)} distinct syscalls, address families {sorted(used_families)}")
    refused = sorted(calls - allowed)
    bad_families = sorted(used_families - families)
    if refused:
        print("not allowed by SystemCallFilter=:", " ".join(refused))
    if bad_families:
        print("not allowed by RestrictAddressFamilies=:", " ".join(bad_families))
    return 1 if refused or bad_families else 0


if __name__ == "__main__":
    sys.exit(main())
