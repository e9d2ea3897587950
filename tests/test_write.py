"""A generation is all or nothing (mcgen/write.py): killed at any moment it leaves the old
tree or the new one, never a mix; the next run removes what it left; a full disk changes
nothing; two runs into one folder take turns; `check` never reports staging leftovers.

The kill tests run mcgen in a real subprocess that SIGKILLs itself just before its k-th
filesystem operation in mcgen/write.py (every point, or a seeded random sample of them),
and a few that are killed from outside at a random moment while writing. Nothing here
asserts how long anything takes."""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from mcgen import api, write
from mcgen.cli import app

ROOT = Path(__file__).resolve().parent.parent
SPEC = """\
version: 1
service: shop
metrics:
  - name: shop_requests_total
    type: counter
    help: {help}
    labels: {{code: [ok, error]}}
    alerts:
      - {{alert: RequestRateHigh, rate: true, above: 100}}
  - name: shop_queue_depth
    type: gauge
    help: {help}
"""
# Runs mcgen's CLI, counting the filesystem operations mcgen/write.py makes: SIGKILL just
# before operation KILL_AT (0: never); prints "writing" when the write starts and the
# count at the end.
HARNESS = """\
import os, shutil, signal, sys, tempfile
from types import SimpleNamespace
from mcgen import write
from mcgen.cli import main

KILL_AT = int(os.environ["KILL_AT"])
count = 0

def counted(fn):
    def op(*args, **kwargs):
        global count
        count += 1
        if count == KILL_AT:
            os.kill(os.getpid(), signal.SIGKILL)
        return fn(*args, **kwargs)
    return op

OPS = ("mkdir", "chmod", "symlink", "link", "makedirs", "open", "write", "fchmod", "close",
       "rename", "replace", "unlink")
write.os = SimpleNamespace(**{name: getattr(os, name) for name in dir(os)})
for name in OPS:
    setattr(write.os, name, counted(getattr(os, name)))
write.shutil = SimpleNamespace(rmtree=counted(shutil.rmtree), copy2=counted(shutil.copy2))
write.tempfile = SimpleNamespace(mkdtemp=counted(tempfile.mkdtemp),
                                 mkstemp=counted(tempfile.mkstemp))
if hasattr(write, "_exchange"):
    write._exchange = counted(write._exchange)
start = write._write

def announced(*args, **kwargs):
    print("writing", flush=True)
    return start(*args, **kwargs)

write._write = announced
sys.argv = ["mcgen", *sys.argv[1:]]
try:
    main()
finally:
    print(f"operations: {count}", flush=True)
"""


def _tree(root: Path) -> dict[str, str]:
    """Every entry under `root`: files by content, links by target, folders."""
    out: dict[str, str] = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for name in [*dirnames, *filenames]:
            path = Path(dirpath) / name
            rel = path.relative_to(root).as_posix()
            if path.is_symlink():
                out[rel] = "-> " + os.readlink(path)
            elif path.is_dir():
                out[rel] = "dir"
            else:
                out[rel] = hashlib.sha256(path.read_bytes()).hexdigest()
    return out


def _leftovers(out: Path) -> list[str]:
    beside = [p.name for p in out.parent.iterdir() if p.name.startswith(".mcgen-")]
    inside = [p for p in _tree(out) if Path(p).name.startswith(".mcgen-")] \
        if out.exists() else []
    return beside + inside


class Project:
    """specs/shop.yaml and its output folder `out`, with a file of the user's in it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.spec = root / "specs" / "shop.yaml"
        self.out = root / "out"
        self.spec.parent.mkdir(parents=True)
        self.set_help("Old.")
        api.generate([self.spec], self.out)
        (self.out / "README.md").write_text("kept by hand\n")
        (self.out / "see").symlink_to("README.md")
        self.old = _tree(self.out)
        self.set_help("New.")
        self.new = self._expected()

    def set_help(self, text: str) -> None:
        self.spec.write_text(SPEC.format(help=text), encoding="utf-8")

    def _expected(self) -> dict[str, str]:
        """The tree a complete run would leave (rendered in a scratch copy)."""
        scratch = self.root / "scratch"
        subprocess.run(["cp", "-a", str(self.out), str(scratch)], check=True)
        api.generate([self.spec], scratch)
        tree = _tree(scratch)
        subprocess.run(["rm", "-rf", str(scratch)], check=True)
        return tree

    def run(self, kill_at: int, args: tuple[str, ...] = ()) -> subprocess.Popen[str]:
        env = {**os.environ, "KILL_AT": str(kill_at)}
        return subprocess.Popen(
            [sys.executable, "-c", HARNESS, "generate", str(self.spec), "--out", str(self.out),
             *args], cwd=self.root, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            text=True)

    def state(self) -> str:
        tree = _tree(self.out)
        return "old" if tree == self.old else "new" if tree == self.new else "MIXED"


@pytest.fixture
def project(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Project:
    monkeypatch.chdir(tmp_path)  # as the subprocesses run: headers name specs/shop.yaml
    return Project(tmp_path)


def _operations(project: Project) -> int:
    """How many filesystem operations a whole run makes (run, then undone)."""
    proc = project.run(0)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert project.state() == "new" and not _leftovers(project.out)
    count = int(stdout.strip().splitlines()[-1].split()[-1])
    _restore(project)
    return count


def _restore(project: Project) -> None:
    """Back to the old tree (a run of the old spec, then the user's files as they were)."""
    project.set_help("Old.")
    api.generate([project.spec], project.out)
    project.set_help("New.")
    assert project.state() == "old"


def _recovers(project: Project) -> None:
    """The next run completes the generation and leaves nothing behind."""
    proc = project.run(0)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert project.state() == "new"
    assert _leftovers(project.out) == []


def test_killed_at_any_operation_leaves_old_or_new(project: Project) -> None:
    total = _operations(project)
    assert total > 10
    rng = random.Random(19)
    points = sorted({1, 2, total - 2, total - 1, total, *rng.sample(range(1, total + 1),
                                                                    min(total, 16))})
    seen = {}
    for k in points:
        proc = project.run(k)
        proc.communicate(timeout=300)
        assert proc.returncode == -signal.SIGKILL, (k, proc.returncode)
        state = project.state()
        assert state in ("old", "new"), f"killed before operation {k} of {total}: {state}"
        seen[k] = state
        print(f"killed before operation {k} of {total}: {state}")
        _recovers(project)
        _restore(project)
    assert set(seen.values()) == {"old", "new"}, seen  # some kills came before the swap


def test_killed_from_outside_at_random_moments(project: Project) -> None:
    rng = random.Random(1919)
    for _ in range(4):
        proc = project.run(0)
        assert proc.stdout is not None
        assert proc.stdout.readline() == "writing\n"  # the write has started
        time.sleep(rng.uniform(0, 0.02))
        proc.kill()
        proc.communicate(timeout=300)
        assert project.state() in ("old", "new")
        _recovers(project)
        _restore(project)


def _runner(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


@pytest.mark.parametrize("swap", [True, False], ids=["swapped", "file-by-file"])
def test_a_full_disk_changes_nothing_and_leaves_no_temp_file(
        project: Project, monkeypatch: pytest.MonkeyPatch, swap: bool) -> None:
    if not swap:
        monkeypatch.setattr(write, "_swappable", lambda real: False)
    real_fill = write._fill
    calls = 0

    def fill(fd: int, text: str) -> None:
        nonlocal calls
        calls += 1
        if calls < 3:
            return real_fill(fd, text)
        os.write(fd, text[: len(text) // 2].encode())  # the disk fills up half way
        os.close(fd)
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(write, "_fill", fill)
    result = _runner("generate", str(project.spec), "--out", str(project.out))
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output
    assert result.stderr.splitlines() == [
        f"{project.out}: cannot write (No space left on device); free some space, then run "
        "again"]
    assert calls == 3
    assert project.state() == "old"
    assert _leftovers(project.out) == []


def test_file_by_file_where_the_folder_cannot_be_swapped(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(write, "_swappable", lambda real: False)
    (project.out / "prometheus" / ".mcgen-interrupted").write_text("half")
    api.generate([project.spec], project.out)
    assert project.state() == "new" and _leftovers(project.out) == []


def test_an_output_folder_that_is_a_link_stays_a_link(project: Project) -> None:
    link = project.root / "link"
    link.symlink_to("out")
    api.generate([project.spec], link)
    assert link.is_symlink() and project.state() == "new"
    assert _leftovers(project.out) == []


def test_check_ignores_and_generate_removes_leftovers(
        project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    """Staged files inside the folder (earlier versions wrote file by file) and a staged
    or old tree beside it: `check` reports none of them; the next generate removes them."""
    api.generate([project.spec], project.out)
    inside = project.out / "prometheus" / ".mcgen-k2j4h5.yml"
    inside.write_text((project.out / "prometheus" / "shop.rules.yml").read_text())
    beside = project.root / ".mcgen-abcd1234-out"
    beside.mkdir()
    (beside / "prometheus").mkdir()
    other = project.root / ".mcgen-abcd1234-out2"  # another folder's: not ours to remove
    other.mkdir()
    monkeypatch.chdir(project.root)
    report = api.check([project.spec], project.out, run_promtool=False)
    assert report.drift == [] and report.orphans == [] and report.ok
    assert inside.exists() and beside.exists()
    api.generate([project.spec], project.out)
    assert not inside.exists() and not beside.exists() and other.exists()


def test_a_second_run_waits_for_the_first(project: Project) -> None:
    """Runs into one folder take turns: while another run holds the lock, a run says it
    waits (one line) and writes nothing until the lock is released."""
    fd = os.open(project.root, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    try:
        proc = project.run(0)
        assert proc.stderr is not None and proc.stdout is not None
        assert proc.stdout.readline() == "writing\n"
        assert proc.stderr.readline() == \
            f"{project.out}: another mcgen run is writing it; waiting for it to finish\n"
        assert project.state() == "old"
    finally:
        os.close(fd)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    assert project.state() == "new"


def test_an_unchanged_run_touches_nothing(project: Project) -> None:
    api.generate([project.spec], project.out)
    before = {p: p.stat().st_ino for p in project.out.rglob("*")}
    inode = project.out.stat().st_ino
    changes: list[Any] = api.generate([project.spec], project.out)
    assert all(c.status == "same" for c in changes)
    assert project.out.stat().st_ino == inode
    assert {p: p.stat().st_ino for p in project.out.rglob("*")} == before
