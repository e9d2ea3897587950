"""The only code that touches the output folder: atomic writes and drift comparison."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

from mcgen.errors import UsageError


@dataclass(frozen=True, order=True)
class Change:
    path: str  # relative to the output folder, posix
    status: str  # "new" | "changed" | "same"


def compare(out: Path, files: dict[str, str]) -> list[Change]:
    """How the files on disk differ from `files` (nothing is written)."""
    changes = []
    for rel, text in sorted(files.items()):
        target = out / rel
        try:
            current = target.read_bytes()
        except FileNotFoundError:
            changes.append(Change(rel, "new"))
            continue
        changes.append(Change(rel, "same" if current == text.encode("utf-8") else "changed"))
    return changes


def write(out: Path, files: dict[str, str]) -> list[Change]:
    try:
        return _write(out, files)
    except OSError as exc:
        where = exc.filename or out
        raise UsageError(f"{where}: cannot write ({exc.strerror}); choose another --out") \
            from exc


def _write(out: Path, files: dict[str, str]) -> list[Change]:
    """Write what changed. Every file is staged next to its target first and only then
    renamed into place, so a failure while staging leaves the folder as it was."""
    changes = compare(out, files)
    staged: list[tuple[str, Path]] = []
    try:
        for change in changes:
            if change.status == "same":
                continue
            target = out / change.path
            target.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=".mcgen-", dir=target.parent)
            with os.fdopen(fd, "wb") as handle:
                handle.write(files[change.path].encode("utf-8"))
            os.chmod(tmp, 0o644)
            staged.append((change.path, Path(tmp)))
    except BaseException:
        for _, path in staged:
            path.unlink(missing_ok=True)
        raise
    for rel, path in staged:
        os.replace(path, out / rel)
    return changes
