"""Writing results so that a folder never holds a half-written file or a mixed set.

Each file is written to a temporary name in the target folder, flushed to disk, and then moved
into place with os.replace, which is atomic on one file system: a reader sees the old file or
the new one, never a part. A run's files are written as one set (`write_set`): every file goes
to its temporary name first, and only when all are complete are they moved into place, one
after the other with Ctrl-C and SIGTERM held back until the last is in place, and under a lock
on the folder (the hidden file .results.lock) so that two runs writing to the same folder
cannot interleave their files. If
the run is interrupted before that, the temporary files are removed and the previous results
stay as they were.
"""

from __future__ import annotations

import os
import signal
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

Writer = Callable[[Path], None]
LOCK_NAME = ".results.lock"


def _temp_for(path: Path, write: Writer) -> Path:
    """Write `path`'s new content to a temporary file beside it and flush it to disk."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)  # mkstemp makes owner-only files; results are for sharing
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return tmp


@contextmanager
def signals_held() -> Iterator[None]:
    """Hold back SIGINT and SIGTERM for the duration and deliver them afterwards.

    Only the main thread can handle signals; elsewhere this does nothing.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    caught: list[int] = []
    previous = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        previous[sig] = signal.signal(sig, lambda signum, _frame: caught.append(signum))
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_DFL if handler is None else handler)
        for sig in dict.fromkeys(caught):
            signal.raise_signal(sig)


@contextmanager
def folder_lock(folder: Path) -> Iterator[None]:
    """An exclusive lock on a results folder (POSIX advisory lock; none where unsupported)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - not POSIX
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / LOCK_NAME, "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _sync_folder(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:  # pragma: no cover - folders cannot be opened on some systems
        return
    try:
        os.fsync(fd)
    except OSError:  # pragma: no cover
        pass
    finally:
        os.close(fd)


def write_set(files: Mapping[Path, Writer], remove: Iterable[Path] = ()) -> None:
    """Write several files as one set: all complete, or none changed.

    `remove` names files of an earlier set that this one does not replace (for example an
    event log the new run did not ask for); they are removed in the same step, so the folder
    never mixes two runs' files.
    """
    temps: dict[Path, Path] = {}
    try:
        for path, write in files.items():
            temps[path] = _temp_for(path, write)
        folders = {p.parent.resolve() for p in [*temps, *remove]}
        several = len(temps) + len(set(remove) - set(temps)) > 1  # one file needs no lock
        with signals_held():
            with _locks(sorted(folders) if several else []):
                for path, tmp in temps.items():
                    os.replace(tmp, path)
                for path in remove:
                    if path not in temps:
                        path.unlink(missing_ok=True)
            for folder in folders:
                _sync_folder(folder)
    finally:
        for tmp in temps.values():
            tmp.unlink(missing_ok=True)


@contextmanager
def _locks(folders: list[Path]) -> Iterator[None]:
    if not folders:
        yield
        return
    with folder_lock(folders[0]), _locks(folders[1:]):
        yield


def write_atomic(path: Path, write: Writer) -> None:
    write_set({path: write})


def csv_writer(df: pd.DataFrame) -> Writer:
    return lambda p: df.to_csv(p, index=False, float_format="%.6g")


def text_writer(text: str) -> Writer:
    return lambda p: p.write_text(text, encoding="utf-8")


def write_csv(df: pd.DataFrame, path: Path) -> None:
    write_atomic(path, csv_writer(df))


def write_text(text: str, path: Path) -> None:
    write_atomic(path, text_writer(text))
