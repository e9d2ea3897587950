"""Inputs at the edges: big specs, huge files, files that are not files, empty options.
Each is refused (or accepted) with one line and exit 2, no traceback, nothing written; and
the work is bounded, not timed."""

from __future__ import annotations

import os
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from mcgen import api
from mcgen.cli import app
from mcgen.spec import load

ONE_METRIC = """\
version: 1
service: shop
metrics:
  - name: shop_requests_total
    type: counter
    help: Requests served.
"""


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _one_line_usage_error(result: Result, says: str) -> None:
    assert result.exit_code == 2, (result.exit_code, result.output)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception))
    assert "Traceback" not in result.output
    lines = result.stderr.splitlines()
    assert len(lines) == 1, lines
    assert says in lines[0], lines[0]


def _big_spec(metrics: int) -> str:
    lines = ["version: 1", "service: big", "metrics:"]
    for i in range(metrics):
        lines += [f"  - name: big_thing_{i:05d}_requests_total", "    type: counter",
                  f"    help: Requests served by thing {i} of the big service.",
                  "    labels:", "      code: [ok, error, timeout, refused]",
                  "      method: [GET, POST, PUT, DELETE, PATCH]", "      region: [eu, us, ap]"]
    return "\n".join(lines) + "\n"


def test_a_big_plain_spec_is_no_alias_bomb(tmp_path: Path) -> None:
    """5,000 metrics written out (1.3 MB, 120k nodes, no alias) load: the alias cap counts
    nodes reached through aliases, and plain size is bounded by the file size."""
    spec = tmp_path / "big.yaml"
    spec.write_text(_big_spec(5000), encoding="utf-8")
    assert 1_000_000 < spec.stat().st_size < load.MAX_FILE_BYTES
    model = api.validate([spec])
    assert len(model.services[0].metrics) == 5000


def test_a_huge_file_is_refused_before_it_is_read(tmp_path: Path) -> None:
    """A 3 GB file (sparse: no disk used) is refused from its size; the run holds a few MB
    (it was read whole first: MemoryError, exit 3)."""
    spec = tmp_path / "huge.yaml"
    with spec.open("wb") as handle:
        handle.truncate(3_000_000_000)
    tracemalloc.start()
    try:
        result = _run("validate", str(spec))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    _one_line_usage_error(result, f"{spec}:1:1: the file is larger than 5.0 MB")
    assert peak < 20_000_000, f"{peak} bytes"


def test_a_file_that_grows_past_the_limit_is_read_no_further(tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """The size is checked before reading, and reading stops at the limit (the file may
    grow in between, or report no size, as /proc files do)."""
    spec = tmp_path / "grows.yaml"
    spec.write_text(ONE_METRIC + "#" * (load.MAX_FILE_BYTES + 10), encoding="utf-8")
    real = os.stat

    def small(path: Any, *args: Any, **kwargs: Any) -> os.stat_result:
        info = real(path, *args, **kwargs)
        if str(path) == str(spec):
            return os.stat_result((info.st_mode, *info[1:6], 10, *info[7:]))
        return info

    monkeypatch.setattr(os, "stat", small)
    doc, problems = load.load_file(spec, "grows.yaml")
    assert doc.data is None
    assert [str(p) for p in problems] == [
        "grows.yaml:1:1: the file is larger than 5.0 MB, the most a spec may hold; split it "
        "(one spec per service) or remove what is not needed"]


@pytest.mark.parametrize("command", ["validate", "generate", "lint", "check"])
def test_a_device_is_named_as_such(command: str, tmp_path: Path) -> None:
    """`validate /dev/zero` said "no such file" (lint read it forever): it is no regular
    file, and nothing reads it."""
    extra = ["--out", str(tmp_path / "out")] if command in ("generate", "check") else []
    result = _run(command, "/dev/zero", *extra)
    _one_line_usage_error(result, "/dev/zero: not a regular file (a character device); "
                                  "give spec files or folders")
    assert not (tmp_path / "out").exists()


def test_a_named_pipe_is_never_opened(tmp_path: Path) -> None:
    fifo = tmp_path / "spec.yaml"
    os.mkfifo(fifo)  # opening it would wait for a writer forever
    for command in ("validate", "lint"):
        _one_line_usage_error(_run(command, str(fifo)), "not a regular file (a named pipe)")


@pytest.mark.parametrize("command", ["generate", "check", "test", "push"])
def test_an_empty_out_is_refused(command: str, tmp_path: Path,
                                 monkeypatch: pytest.MonkeyPatch) -> None:
    """`--out ''` wrote into the current folder."""
    (tmp_path / "specs").mkdir()
    (tmp_path / "specs" / "shop.yaml").write_text(ONE_METRIC, encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    result = _run(command, "--out", "")
    _one_line_usage_error(result, "--out '': give the output folder")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["specs"]
