#!/usr/bin/env python3
"""Fetch binaries from another Debian suite without changing the system.

    fetch-debian.py SUITE DEST PACKAGE[/SUITE] ...

    fetch-debian.py sid .engines/sid promtool prometheus prometheus-alertmanager
    fetch-debian.py trixie .engines/trixie promtool prometheus

Builds a temporary sources list from the machine's own apt URIs (the entries that serve
the machine's release, deb822 `.sources` or one-line `.list` files alike) with the suite
replaced, runs `apt-get update` and `apt-get download` against that list and a temporary
state folder, and unpacks the packages with `dpkg-deb -x` into DEST (so DEST/usr/bin/promtool).
No package is installed, no system file is written; root is not needed.

DEST/.fetched records what was unpacked; a second run with the same request does nothing.
Where apt is missing this prints how to do the same by hand and exits 1.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

SOURCES = Path("/etc/apt/sources.list")
SOURCE_PARTS = Path("/etc/apt/sources.list.d")
MANUAL = ("download the .deb files of {pkgs} for Debian {suite} from "
          "https://packages.debian.org/{suite}/ and unpack each with `dpkg-deb -x FILE {dest}` "
          "(or `ar x FILE && tar xf data.tar.* -C {dest}`)")


def fail(message: str) -> None:
    print(f"fetch-debian: {message}", file=sys.stderr)
    sys.exit(1)


def codename() -> str:
    try:
        text = Path("/etc/os-release").read_text()
    except OSError:
        return ""
    found = re.search(r"^VERSION_CODENAME=\"?([a-z]+)", text, re.M)
    return found.group(1) if found else ""


def _deb822(text: str) -> list[dict[str, str]]:
    entries, current = [], {}
    for line in [*text.splitlines(), ""]:
        if not line.strip():
            if current:
                entries.append(current)
            current = {}
        elif not line.startswith("#") and ":" in line and not line[0].isspace():
            key, _, value = line.partition(":")
            current[key.strip().lower()] = value.strip()
    return entries


def archive_uris(release: str) -> list[tuple[str, str]]:
    """(URI, signed-by) of the entries that serve `release` itself (not -security/-updates)."""
    found: list[tuple[str, str]] = []
    files = [SOURCES] + sorted(SOURCE_PARTS.glob("*.list")) + sorted(SOURCE_PARTS.glob("*.sources"))
    for path in files:
        try:
            text = path.read_text()
        except OSError:
            continue
        if path.suffix == ".sources":
            for entry in _deb822(text):
                if entry.get("enabled", "yes") == "no" or "deb" not in entry.get("types", ""):
                    continue
                if release in entry.get("suites", "").split():
                    for uri in entry.get("uris", "").split():
                        found.append((uri, entry.get("signed-by", "")))
            continue
        for line in text.splitlines():
            words = re.sub(r"\[[^]]*\]", "", line.split("#", 1)[0]).split()
            options = re.search(r"\[([^]]*)\]", line)
            signed = re.search(r"signed-by=(\S+)", options.group(1)) if options else None
            if len(words) >= 3 and words[0] == "deb" and words[2] == release:
                found.append((words[1], signed.group(1) if signed else ""))
    return list(dict.fromkeys(found))


def main(argv: list[str]) -> None:
    if len(argv) < 3:
        fail("usage: fetch-debian.py SUITE DEST PACKAGE[/SUITE] ...")
    suite, dest, packages = argv[0], Path(argv[1]), argv[2:]
    request = f"{suite} {' '.join(packages)}\n"
    stamp = dest / ".fetched"
    if stamp.is_file() and stamp.read_text().startswith(request):
        return
    manual = MANUAL.format(pkgs=", ".join(packages), suite=suite, dest=dest)
    if not shutil.which("apt-get") or not shutil.which("dpkg-deb"):
        fail(f"apt-get and dpkg-deb are needed; {manual}")
    release = codename()
    uris = archive_uris(release) if release else []
    if not uris:
        fail(f"no apt source for this machine's release ({release or 'unknown'}) to take "
             f"Debian's archive address from; {manual}")
    suites = sorted({suite, *(p.split("/", 1)[1] for p in packages if "/" in p)})
    with tempfile.TemporaryDirectory(prefix="mcgen-apt-") as tmp:
        work = Path(tmp)
        (work / "lists/partial").mkdir(parents=True)
        (work / "cache/archives/partial").mkdir(parents=True)
        entries = []
        for uri, signed in uris:
            entry = f"Types: deb\nURIs: {uri}\nSuites: {' '.join(suites)}\nComponents: main\n"
            if signed:
                entry += f"Signed-By: {signed}\n"
            entries.append(entry)
        (work / "mcgen.sources").write_text("\n".join(entries))
        (work / "empty.d").mkdir()
        options = [
            "-o", f"Dir::Etc::sourcelist={work / 'mcgen.sources'}",
            "-o", f"Dir::Etc::sourceparts={work / 'empty.d'}",
            "-o", f"Dir::State::Lists={work / 'lists'}",
            "-o", f"Dir::Cache={work / 'cache'}",
            "-o", "Dir::State::status=/var/lib/dpkg/status",
            "-o", "Debug::NoLocking=1",
            "-o", "APT::Sandbox::User=root" if os.geteuid() == 0 else "APT::Sandbox::User=",
            "-q",
        ]
        debs = work / "debs"
        debs.mkdir()
        steps = [("update", ["apt-get", *options, "update"], work),
                 ("download", ["apt-get", *options, "download", *packages], debs)]
        print(f"fetch-debian: downloading {', '.join(packages)} from Debian {suite} "
              f"({uris[0][0]})", file=sys.stderr)
        for step, cmd, cwd in steps:
            proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
            if proc.returncode != 0:
                tail = (proc.stderr or proc.stdout).strip().splitlines()[-1:] or ["?"]
                fail(f"apt-get {step} for Debian {suite} failed ({tail[0]}); {manual}")
        if dest.exists():
            shutil.rmtree(dest)
        dest.mkdir(parents=True)
        names = []
        for deb in sorted(debs.glob("*.deb")):
            subprocess.run(["dpkg-deb", "-x", str(deb), str(dest)], check=True)
            names.append(deb.name)
    stamp.write_text(request + "".join(f"{n}\n" for n in names))
    print(f"fetch-debian: unpacked {', '.join(names)} into {dest}", file=sys.stderr)


if __name__ == "__main__":
    main(sys.argv[1:])
