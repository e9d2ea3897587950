"""Finding and running promtool."""

from __future__ import annotations

import os
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from mcgen.errors import ToolError

INSTALL_HINT = ("install Debian's prometheus package (sudo apt-get install prometheus, "
                "or `make promtool`) or set PROMTOOL=/path/to/promtool")


@dataclass(frozen=True)
class Result:
    ok: bool
    output: str


def binary() -> str:
    found = os.environ.get("PROMTOOL") or shutil.which("promtool")
    if not found:
        raise ToolError(f"promtool not found; {INSTALL_HINT}")
    return found


def _run(args: list[str], cwd: Path) -> Result:
    try:
        proc = subprocess.run([binary(), *args], cwd=cwd, capture_output=True, text=True,
                              timeout=600, check=False)
    except OSError as exc:
        raise ToolError(f"cannot run promtool ({exc.strerror}); {INSTALL_HINT}") from exc
    return Result(proc.returncode == 0, (proc.stdout + proc.stderr).strip())


def check_rules(files: list[Path], cwd: Path) -> Result:
    """`promtool check rules` with its default lint (duplicate rules) made fatal."""
    return _run(["check", "rules", "--lint=duplicate-rules", "--lint-fatal",
                 *map(str, files)], cwd)


def test_rules(files: list[Path], cwd: Path) -> Result:
    """`promtool test rules`, one process per file on every core (promtool itself runs
    files one after another); the report keeps the order of `files`."""
    if len(files) < 2:
        return _run(["test", "rules", *map(str, files)], cwd)
    jobs = min(len(files), os.cpu_count() or 1, 8)
    with ThreadPoolExecutor(jobs) as pool:
        results = list(pool.map(lambda f: _run(["test", "rules", str(f)], cwd), files))
    return Result(all(r.ok for r in results), "\n".join(r.output for r in results))
