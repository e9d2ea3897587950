"""Finding and running promtool: one process per file, on every core, each file's
outcome parsed into failures (output.py) and timed."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from mcgen.errors import ToolError
from mcgen.promtool import output as promtool_output
from mcgen.promtool.output import Failure

INSTALL_HINT = ("install Debian's prometheus package (sudo apt-get install prometheus, "
                "or `make promtool`) or set PROMTOOL=/path/to/promtool")
TIMEOUT_S = 600


@dataclass(frozen=True)
class Result:
    ok: bool
    output: str


@dataclass(frozen=True)
class FileRun:
    """`promtool check rules` or `promtool test rules` on one file."""

    shown: str  # the file as users see it, e.g. generated/prometheus/codehub.test.yml
    command: str  # check | test
    ok: bool
    seconds: float
    output: str  # everything promtool printed (stdout, then stderr)
    failures: tuple[Failure, ...]
    unparsed: tuple[str, ...]  # lines of a failed run that fit no known failure

    def lines(self) -> list[str]:
        """The report: one line for the file, then one per failure and per line of
        promtool's that could not be read as one."""
        if self.ok:
            return [f"{self.shown}: ok ({self.seconds:.1f} s)"]
        count = len(self.failures)
        what = "failing check" if self.command == "test" else "problem"
        head = f"{self.shown}: FAILED ({self.seconds:.1f} s)" + (
            f": {count} {what}{'s' if count != 1 else ''}" if count else "")
        body = [f"{self.shown}: {f.line()}" for f in self.failures]
        body += [f"{self.shown}: promtool: {line.strip()}" for line in self.unparsed]
        if not self.failures and not self.unparsed:
            body += [f"{self.shown}: promtool: {line.strip()}"
                     for line in self.output.splitlines() if line.strip()]
        return [head, *body]


def binary() -> str:
    """PROMTOOL, else promtool on PATH. A relative PROMTOOL is taken from the working
    directory mcgen was started in (promtool itself runs in the output folder)."""
    found = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if not found:
        raise ToolError(f"promtool not found; {INSTALL_HINT}")
    return os.path.abspath(found) if os.sep in found else found


# promtool's test runs allocate much and keep little: collecting garbage at 5x the live
# heap instead of 2x costs about 130 MB per process and saves 13% (2.42) to 23% (3.5) of
# its CPU (measured on the examples). A GOGC of the caller's own wins.
GOGC = "400"


def _environment() -> dict[str, str]:
    env = dict(os.environ)
    env.setdefault("GOGC", GOGC)
    return env


def _exec(args: list[str], cwd: Path) -> tuple[int, str, str]:
    try:
        proc = subprocess.run([binary(), *args], cwd=cwd, capture_output=True, text=True,
                              timeout=TIMEOUT_S, check=False, env=_environment())
    except OSError as exc:
        raise ToolError(f"cannot run promtool {binary()} ({exc.strerror}); {INSTALL_HINT}"
                        ) from exc
    except subprocess.TimeoutExpired:
        return -1, "", f"promtool did not finish within {TIMEOUT_S} s"
    return proc.returncode, proc.stdout, proc.stderr


def _one(command: str, path: Path, shown: str, cwd: Path) -> FileRun:
    args = ["check", "rules", "--lint=duplicate-rules", "--lint-fatal", str(path)] \
        if command == "check" else ["test", "rules", str(path)]
    start = time.monotonic()
    code, stdout, stderr = _exec(args, cwd)
    seconds = time.monotonic() - start
    output = "\n".join(part.strip("\n") for part in (stdout, stderr) if part.strip())
    if code == 0:
        return FileRun(shown, command, True, seconds, output, (), ())
    parsed = promtool_output.parse_check(stderr) if command == "check" else \
        promtool_output.parse_test(stderr, cwd / path)
    return FileRun(shown, command, False, seconds, output, parsed.failures, parsed.unparsed)


def jobs(files: int) -> int:
    """How many promtool processes run at once: one per core, at most 8."""
    return max(1, min(files, os.cpu_count() or 1, 8))


def run_each(command: str, files: Sequence[tuple[Path, str]], cwd: Path) -> Iterator[FileRun]:
    """`promtool <command> rules` on each (path relative to `cwd`, name shown) pair, a
    process per file on every core (promtool itself runs files one after another).
    Results come in the order of `files`, each as soon as it and those before it are done."""
    if not files:
        return
    binary()  # a missing promtool is one error, not one per file
    workers = jobs(len(files))
    with ThreadPoolExecutor(workers) as pool:
        yield from pool.map(lambda f: _one(command, f[0], f[1], cwd), files)


def test_rules(files: list[Path], cwd: Path) -> Result:
    """`promtool test rules` on every file; ok when all pass, with everything printed."""
    runs = list(run_each("test", [(f, str(f)) for f in files], cwd))
    return Result(all(r.ok for r in runs), "\n".join(r.output for r in runs))
