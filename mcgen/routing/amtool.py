"""Running amtool (Alertmanager 0.33, Debian sid's prometheus-alertmanager): `check-config`
on a merged config, and `config routes test --verify.receivers` for each alert."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from mcgen import promql
from mcgen.errors import ToolError
from mcgen.promql import Matcher
from mcgen.routing.proof import RouteCase

INSTALL_HINT = ("set AMTOOL=/path/to/amtool (Alertmanager 0.33: `make engines` unpacks Debian "
                "sid's prometheus-alertmanager into .engines/alertmanager-sid and links its "
                "amtool into .venv/bin) or put amtool on PATH")
TIMEOUT_S = 120


def binary() -> str:
    """AMTOOL, else amtool on PATH, else the one beside the Python running mcgen (a
    virtualenv's bin/, where `make engines` links Alertmanager 0.33's)."""
    beside = Path(sys.executable).parent / "amtool"
    found = os.environ.get("AMTOOL") or shutil.which("amtool") or (
        str(beside) if os.access(beside, os.X_OK) else None)
    if not found:
        raise ToolError(f"amtool not found (needed to prove the routing); {INSTALL_HINT}")
    return os.path.abspath(found) if os.sep in found else found


@dataclass(frozen=True)
class Outcome:
    ok: bool
    line: str  # one line for the report
    output: str


def _run(args: Sequence[str]) -> tuple[int, str]:
    try:
        proc = subprocess.run([binary(), *args], capture_output=True, text=True,
                              timeout=TIMEOUT_S, check=False, stdin=subprocess.DEVNULL)
    except OSError as exc:
        raise ToolError(f"cannot run amtool ({exc}); {INSTALL_HINT}") from None
    except subprocess.TimeoutExpired:
        return 1, f"amtool did not finish in {TIMEOUT_S} s"
    return proc.returncode, (proc.stdout + proc.stderr).strip()


def check_config(config: Path, shown: str) -> Outcome:
    code, out = _run(["check-config", str(config)])
    if code == 0:
        return Outcome(True, f"{shown}: amtool check-config: ok", out)
    reason = next((ln for ln in out.splitlines() if "FAILED" in ln), out.splitlines()[0]
                  if out else "failed")
    return Outcome(False, f"{shown}: amtool check-config FAILED: {reason.strip()}", out)


def label_args(case: RouteCase) -> list[str]:
    return promql.alertmanager_matchers(Matcher(k, "=", v) for k, v in case.labels)


def route_test(config: Path, case: RouteCase) -> Outcome:
    """Whether the alert reaches exactly the receivers the spec says."""
    wanted = ",".join(case.receivers)
    code, out = _run(["config", "routes", "test", f"--config.file={config}",
                      f"--verify.receivers={wanted}", *label_args(case)])
    what = f"{case.alertname} {{{', '.join(label_args(case))}}}"
    if code == 0:
        return Outcome(True, f"{case.service}: {what} -> {wanted}: ok", out)
    got = out.splitlines()[0].strip() if out else f"exit {code}"
    return Outcome(False, f"{case.service}: {what} should reach {wanted}; amtool sends it to "
                   f"{got}", out)


def route_tests(config: Path, cases: Sequence[RouteCase]) -> Iterator[Outcome]:
    """Each case's outcome, in order, run on every core."""
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
        yield from pool.map(lambda c: route_test(config, c), cases)
