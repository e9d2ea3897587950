"""The only code that touches the output folder: a generation is all or nothing.

The new tree is staged whole in a sibling folder (`.mcgen-XXXXXXXX-<name>` beside the
output folder): every file this run renders, and every other file the folder holds (hard
links: nothing is copied). One atomic exchange then swaps the staged tree in
(renameat2(RENAME_EXCHANGE) on Linux, renamex_np(RENAME_SWAP) on macOS; a plain rename
when the folder is new), and the old tree, now at the staging path, is removed. A run
killed at any moment leaves the output folder as it was or as the new tree, never mixed;
what it leaves beside it (a staged or an old tree) is removed by the next run, as are the
`.mcgen-*` files earlier versions staged inside the folder. A run that cannot write (a
full disk) removes its staging folder and changes nothing.

Runs into folders of one parent take turns: an fcntl lock (flock) on the parent folder
(no lock file to leave behind); comparing takes it shared. A run that has to wait says
so on stderr.

Where the folder cannot be swapped (a mount point, the working directory or one of its
parents, a filesystem or system without an exchange, a parent folder mcgen may not write
to), each changed file is staged next to its target and renamed into place: a failure
while staging still leaves the folder as it was, but a run killed while renaming may
leave old and new files mixed until the next run.
"""

from __future__ import annotations

import ctypes
import errno
import os
import re
import shutil
import stat
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from mcgen.errors import UsageError

TEMP_PREFIX = ".mcgen-"
# What the exchange cannot do here: fall back to replacing file by file.
_NO_SWAP = {errno.EINVAL, errno.ENOSYS, errno.EXDEV, errno.EBUSY, errno.ENOTSUP,
            errno.EPERM, errno.EACCES, errno.EROFS}
_FULL = {errno.ENOSPC, errno.EDQUOT}
Notify = Callable[[str], None]


def _stderr(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


@dataclass(frozen=True, order=True)
class Change:
    path: str  # relative to the output folder, posix
    status: str  # "new" | "changed" | "same"


def _compare(out: Path, files: dict[str, str]) -> list[Change]:
    changes = []
    for rel, text in sorted(files.items()):
        target = out / rel
        try:
            current = target.read_bytes()
        except (FileNotFoundError, NotADirectoryError):
            changes.append(Change(rel, "new"))
            continue
        changes.append(Change(rel, "same" if current == text.encode("utf-8") else "changed"))
    return changes


def compare(out: Path, files: dict[str, str]) -> list[Change]:
    """How the files on disk differ from `files` (nothing is written; a generation into
    `out` that is under way finishes first)."""
    with _locked(out, shared=True):
        return _compare(out, files)


def write(out: Path, files: dict[str, str], notify: Notify = _stderr) -> list[Change]:
    """Make `out` hold `files` (paths relative to it) besides what else it holds, all at
    once; UsageError (one line) when it cannot be written."""
    try:
        return _write(out, files, notify)
    except OSError as exc:
        hint = "free some space, then run again" if exc.errno in _FULL \
            else "choose another --out"
        raise UsageError(f"{out}: cannot write ({exc.strerror or exc}); {hint}") from exc


def fresh(root: Path, files: dict[str, str]) -> None:
    """Write `files` into `root`, a new private folder (a scratch copy for promtool): no
    lock, no swap."""
    for rel, text in sorted(files.items()):
        target = root / rel
        os.makedirs(target.parent, exist_ok=True)
        _new_file(target, text)


def _real(out: Path) -> Path:
    """The folder itself (a symbolic link to a folder is followed: the folder is swapped,
    not the link)."""
    return Path(os.path.realpath(out))


@contextmanager
def _locked(out: Path, shared: bool = False, notify: Notify = _stderr) -> Iterator[None]:
    """Hold the lock of `out`'s parent folder (waiting for a run that holds it)."""
    try:
        import fcntl
        fd: int | None = os.open(_real(out).parent, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except (ImportError, OSError):
        fd = None  # no parent yet (nothing to compare), not ours to open, or no flock
    if fd is None:
        yield
        return
    mode = fcntl.LOCK_SH if shared else fcntl.LOCK_EX
    try:
        try:
            fcntl.flock(fd, mode | fcntl.LOCK_NB)
        except BlockingIOError:
            notify(f"{out}: another mcgen run is writing it; waiting for it to finish")
            fcntl.flock(fd, mode)
        except OSError:
            pass  # a filesystem without locks: go on unlocked
        yield
    finally:
        os.close(fd)  # releases the lock


def _write(out: Path, files: dict[str, str], notify: Notify) -> list[Change]:
    real = _real(out)
    real.parent.mkdir(parents=True, exist_ok=True)
    with _locked(out, notify=notify):
        remove_leftovers(real)
        changes = _compare(real, files)
        if all(c.status == "same" for c in changes):
            return changes
        if not _swap(real, files, changes):
            _in_place(real, files, changes)
    return changes


# ---- leftovers of interrupted runs ----------------------------------------------------


def _staging_name(name: str) -> re.Pattern[str]:
    return re.compile(re.escape(TEMP_PREFIX) + r"[a-z0-9_]{8}-" + re.escape(name))


def _own_temp(real: Path) -> Iterator[Path]:
    """`.mcgen-*` files inside the folder: staged by an interrupted run of a version that
    wrote file by file (or by the file-by-file fallback)."""
    if real.is_dir():
        for dirpath, _, filenames in os.walk(real):
            yield from (Path(dirpath) / f for f in filenames if f.startswith(TEMP_PREFIX))


def remove_leftovers(out: Path) -> list[Path]:
    """Remove what interrupted runs left: staged or old trees beside `out`, and staged
    files inside it. Returns what was removed."""
    real = _real(out)
    found: list[Path] = []
    pattern = _staging_name(real.name)
    if real.parent.is_dir():
        found += [p for p in real.parent.iterdir() if pattern.fullmatch(p.name)]
    found += list(_own_temp(real))
    for path in found:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            os.unlink(path)
    return found


# ---- the whole tree, swapped in -------------------------------------------------------


def _exchange(staged: Path, real: Path) -> None:
    """Swap two paths atomically, or OSError (ENOSYS where the system cannot)."""
    libc = ctypes.CDLL(None, use_errno=True)
    a, b = os.fsencode(staged), os.fsencode(real)
    if hasattr(libc, "renameat2"):
        at_fdcwd, rename_exchange = -100, 2
        result = libc.renameat2(at_fdcwd, a, at_fdcwd, b, ctypes.c_uint(rename_exchange))
    elif hasattr(libc, "renamex_np"):
        result = libc.renamex_np(a, b, ctypes.c_uint(0x2))  # RENAME_SWAP
    else:
        raise OSError(errno.ENOSYS, "no atomic exchange on this system", str(real))
    if result != 0:
        code = ctypes.get_errno()
        raise OSError(code, os.strerror(code), str(real))


def _swappable(real: Path) -> bool:
    if not real.exists():
        return True
    cwd = Path.cwd().resolve()
    return real.is_dir() and not os.path.ismount(real) and real != cwd \
        and real not in cwd.parents


def _swap(real: Path, files: dict[str, str], changes: list[Change]) -> bool:
    """Stage the whole tree beside `real` and swap it in; False (nothing changed) when
    this folder cannot be swapped."""
    if not _swappable(real):
        return False
    try:
        staged = Path(tempfile.mkdtemp(prefix=TEMP_PREFIX, suffix=f"-{real.name}",
                                       dir=real.parent))
    except OSError as exc:
        if exc.errno in _NO_SWAP:
            return False
        raise
    try:
        _stage(real, staged, files, changes)
        if not real.exists():
            os.rename(staged, real)
            return True
        _exchange(staged, real)
    except OSError as exc:
        shutil.rmtree(staged, ignore_errors=True)
        if exc.errno in _NO_SWAP and exc.filename == str(real):
            return False  # the exchange itself: this filesystem cannot
        raise
    except BaseException:
        shutil.rmtree(staged, ignore_errors=True)
        raise
    shutil.rmtree(staged, ignore_errors=True)  # the old tree; else the next run does
    return True


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _stage(real: Path, staged: Path, files: dict[str, str], changes: list[Change]) -> None:
    """Fill `staged` with the new tree: what `real` holds (links), with `files` written."""
    os.chmod(staged, stat.S_IMODE(real.stat().st_mode) if real.exists() else 0o777 & ~_umask())
    rewrite = {c.path for c in changes if c.status != "same"}
    for dirpath, dirnames, filenames in os.walk(real, onerror=_raise) if real.exists() else ():
        here = Path(dirpath)
        into = staged / here.relative_to(real)
        for name in list(dirnames):
            source = here / name
            if source.is_symlink():
                dirnames.remove(name)
                os.symlink(os.readlink(source), into / name)
            else:
                os.mkdir(into / name)
                os.chmod(into / name, stat.S_IMODE(source.stat().st_mode))
        for name in filenames:
            source = here / name
            rel = (into / name).relative_to(staged).as_posix()
            if name.startswith(TEMP_PREFIX) or rel in rewrite:
                continue
            _keep(source, into / name)
    for rel in sorted(rewrite):
        target = staged / rel
        os.makedirs(target.parent, exist_ok=True)
        _new_file(target, files[rel])


def _raise(exc: OSError) -> None:
    raise exc  # a folder it cannot read would be missing from the new tree


def _keep(source: Path, target: Path) -> None:
    if source.is_symlink():
        os.symlink(os.readlink(source), target)
        return
    try:
        os.link(source, target, follow_symlinks=False)
    except OSError as exc:
        if exc.errno in _FULL:
            raise
        shutil.copy2(source, target)  # a filesystem without hard links


def _new_file(target: Path, text: str) -> None:
    _fill(os.open(target, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644), text)


def _fill(fd: int, text: str) -> None:
    """Write `text` to a new file's descriptor (rw-r--r--) and close it."""
    try:
        data = memoryview(text.encode("utf-8"))
        while data:
            data = data[os.write(fd, data):]
        os.fchmod(fd, 0o644)
    finally:
        os.close(fd)


# ---- file by file, where the folder cannot be swapped ---------------------------------


def _in_place(out: Path, files: dict[str, str], changes: list[Change]) -> None:
    """Write what changed. Every file is staged next to its target first and only then
    renamed into place, so a failure while staging leaves the folder as it was."""
    staged: list[tuple[str, Path]] = []
    try:
        for change in changes:
            if change.status == "same":
                continue
            target = out / change.path
            os.makedirs(target.parent, exist_ok=True)
            fd, tmp = tempfile.mkstemp(prefix=TEMP_PREFIX, dir=target.parent)
            staged.append((change.path, Path(tmp)))
            _fill(fd, files[change.path])
    except BaseException:
        for _, path in staged:
            path.unlink(missing_ok=True)
        raise
    for rel, path in staged:
        os.replace(path, out / rel)
