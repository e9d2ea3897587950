"""The invalid-spec corpus: every case is rejected with exactly the expected message.

Each `tests/invalid/<case>.yaml` is a small spec that is valid except for one defect, and
`tests/invalid/<case>.expected` holds the exact stderr `mcgen validate` must print for it.
A case that needs several files is a folder `tests/invalid/<case>/` (validated as a whole)
with its `tests/invalid/<case>.expected` next to it.
"""

from __future__ import annotations

import hashlib
import re
import tracemalloc
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner, Result

from mcgen.cli import app
from mcgen.spec import load

REPO = Path(__file__).resolve().parents[2]
CORPUS = REPO / "tests" / "invalid"
LINE = re.compile(r"^tests/invalid/[^:]+:\d+:\d+: .+; .+$")


def _cases() -> list[str]:
    files = [p.stem for p in CORPUS.glob("*.yaml")]
    folders = [p.name for p in CORPUS.iterdir() if p.is_dir()]
    return sorted(files + folders)


CASES = _cases()


def _arg(case: str) -> str:
    """The path given to the CLI, relative to the repository root."""
    folder = CORPUS / case
    target = folder if folder.is_dir() else CORPUS / f"{case}.yaml"
    return target.relative_to(REPO).as_posix()


def _expected(case: str) -> str:
    return (CORPUS / f"{case}.expected").read_text(encoding="utf-8")


@pytest.fixture(autouse=True)
def _at_repo_root(monkeypatch: pytest.MonkeyPatch) -> None:
    """Relative paths print as `tests/invalid/...`; no debug tracebacks."""
    monkeypatch.chdir(REPO)
    monkeypatch.delenv("MCGEN_DEBUG", raising=False)


def _run(*args: str) -> Result:
    return CliRunner().invoke(app, list(args))


def _assert_user_error(result: Result) -> None:
    """Exit 2, a clean message on stderr, no traceback and no exception escaping."""
    assert result.exit_code == 2, (result.exit_code, result.stdout, result.stderr)
    assert result.exception is None or isinstance(result.exception, SystemExit), (
        repr(result.exception))
    for text in (result.output, result.stdout, result.stderr):
        assert "Traceback" not in text
    assert result.stderr, "no message on stderr"
    for line in result.stderr.splitlines():
        assert LINE.match(line), f"not `path:line:col: what is wrong; what to do`: {line!r}"


def _tree(root: Path) -> dict[str, str]:
    """Every file under `root` (relative path -> sha256 of its bytes)."""
    if not root.exists():
        return {}
    return {p.relative_to(root).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(root.rglob("*")) if p.is_file()}


def test_corpus_is_complete() -> None:
    assert len(CASES) >= 40
    for case in CASES:
        assert (CORPUS / f"{case}.expected").is_file(), f"{case} has no .expected"
    for expected in CORPUS.glob("*.expected"):
        assert expected.stem in CASES, f"{expected.name} has no case"


@pytest.mark.parametrize("case", CASES)
def test_invalid_case(case: str) -> None:
    result = _run("validate", _arg(case))
    _assert_user_error(result)
    assert result.stdout == ""
    assert result.stderr == _expected(case)


def test_errors_of_several_files_are_reported_together() -> None:
    """One run reports every problem of every file: a YAML error in one file, a schema
    error in another, semantic and cross-file errors in others; none hides the rest."""
    cases = ["yaml_syntax_error", "unknown_top_level_key", "version_2", "counter_without_total",
             "env_unknown_alert", "multi_dup_metric"]
    result = _run("validate", *(_arg(c) for c in cases))
    _assert_user_error(result)
    expected = [line for c in cases for line in _expected(c).splitlines()]
    got = result.stderr.splitlines()
    assert sorted(got) == sorted(expected)
    assert len(got) == len(expected)
    shown = [line.split(":", 1)[0] for line in got]
    assert shown == sorted(shown), "problems are not ordered by file"


@pytest.mark.parametrize("case", ["alias_bomb", "merge_key_bomb"])
def test_alias_bomb_is_rejected_briefly_and_with_bounded_work(
        case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """The work is bounded, not timed (a busy machine is no failure): the loader walks no
    more nodes than the alias cap and what the file writes out, and holds a few MB."""
    walked = 0
    walk = load._Walker.walk

    def counting(self: load._Walker, *args: Any, **kwargs: Any) -> Any:
        nonlocal walked
        walked += 1
        return walk(self, *args, **kwargs)

    monkeypatch.setattr(load._Walker, "walk", counting)
    tracemalloc.start()
    try:
        result = _run("validate", _arg(case))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    _assert_user_error(result)
    written = (CORPUS / f"{case}.yaml").read_text().count(",") + 100  # plain nodes, at most
    assert walked <= load.MAX_ALIAS_NODES + written, walked
    assert peak < 64_000_000, f"{peak} bytes"
    lines = result.stderr.splitlines()
    assert len(lines) == 1
    assert len(lines[0]) < 300


@pytest.mark.parametrize("case", ["yaml_syntax_error", "counter_without_total",
                                  "ratio_to_unknown_metric"])
def test_generate_on_invalid_spec_creates_nothing(case: str, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = _run("generate", _arg(case), "--out", str(out))
    _assert_user_error(result)
    assert result.stderr == _expected(case)
    assert not out.exists() or not any(out.iterdir()), sorted(_tree(out))


@pytest.mark.parametrize("case", ["yaml_syntax_error", "counter_without_total",
                                  "ratio_to_unknown_metric"])
def test_generate_on_invalid_spec_leaves_existing_output_alone(case: str,
                                                               tmp_path: Path) -> None:
    out = tmp_path / "out"
    existing = out / "prometheus" / "shop.rules.yml"
    existing.parent.mkdir(parents=True)
    existing.write_bytes(b"# committed by hand\r\ngroups: []\n\x00\xff")
    before = _tree(out)
    result = _run("generate", _arg(case), "--out", str(out))
    _assert_user_error(result)
    assert result.stderr == _expected(case)
    assert _tree(out) == before
    assert existing.read_bytes() == b"# committed by hand\r\ngroups: []\n\x00\xff"


@pytest.mark.parametrize("case", ["tag_bool_not_a_bool", "tag_timestamp_not_a_date",
                                  "tag_int_not_a_number", "implicit_date_invalid",
                                  "tag_on_key"])
@pytest.mark.parametrize("command", ["generate", "lint"])
def test_values_their_tag_cannot_read_are_user_errors_everywhere(case: str, command: str,
                                                                  tmp_path: Path) -> None:
    """`!!bool x`, `!!timestamp shop`, `!!int abc`: one line at the value, exit 2, from
    every command that reads specs (they were internal errors, exit 3)."""
    extra = ["--out", str(tmp_path / "out")] if command == "generate" else []
    result = _run(command, _arg(case), *extra)
    _assert_user_error(result)
    assert result.stderr == _expected(case)
    assert not (tmp_path / "out").exists()
