"""Writing results so that a folder never shows a half-written file or a mix of two sets, even
after kill -9.

A run's files are a set (`write_set`): the folder must show the previous set whole or the new one
whole. Several names cannot be renamed in one system call, so the names are not where the switch
happens. Each result name in the folder is a symbolic link through one fixed link:

    out/monthly.csv -> .result-sets/current/monthly.csv
    out/.result-sets/current -> set-k2j4x9a1            (the one entry that switches)
    out/.result-sets/set-k2j4x9a1/monthly.csv           (the real files, never changed in place)

A new set is written whole into a fresh `.result-sets/set-*` folder and flushed to disk; files of
the shown set that the new one neither replaces nor removes are hard-linked into it (another
command's tornado.csv stays); then `current` is replaced by a link to the new folder with one
rename(2). That rename is the only step that changes what any name reads: before it every name
reads the old set, after it every name reads the new one. The steps around it change nothing a
reader sees: a name the new set adds gets its link before the switch (it reads as absent until
then), a name the new set drops loses its link after it (it reads as absent from the switch on),
and a result file that is still a plain file (a folder written before this scheme, or by
`write_atomic`) is first hard-linked into a copy of the shown set, that copy switched to, and the
file then replaced by its link, each step leaving every name's content as it was. So a kill at any
point leaves either set whole; what it can leave besides are hidden temporaries, the old set's
folder and, for a dropped name, a link that resolves to nothing (`cat` says no such file,
`Path.exists()` is False); the next write removes them all. Readers use the same paths as before
(`cat out/monthly.csv`, pandas.read_csv) and `out` itself stays a real folder, so `--out .` and
unrelated files in the folder are fine. Switching `out` itself instead would have needed the
caller's folder (perhaps the current folder, or one whose parent is not writable) to become a link.

A folder holds one set: files already shown that a new set does not name are carried into it, so
`run` and `sensitivity` can share a folder; `remove` names files the new set drops. Sets are
written under a lock on the folder (the hidden file .results.lock) with Ctrl-C and SIGTERM held
back during the switch, so two runs never interleave. A writer keeps a lock on its set folder or
temporary file while writing; the kernel drops that lock when the writer dies, which is how a
later write tells a killed writer's leftovers (removed) from a live one's (left alone).

`write_atomic` replaces one file on its own (comparison.csv, a report): written to a temporary
name beside it, flushed, and moved into place with os.replace. Where that name was a link of a
set it becomes a plain file; the set's other names are untouched. It takes no folder lock (it
changes one name), and its temporaries left by a kill are removed by the next write of either kind.

Needs symbolic links (POSIX); where hard links are refused, files are copied into a new set instead.
A reader opening several files while a switch happens can still get files of two sets, as with any
scheme that keeps these paths; what is guaranteed is the state the folder is left in.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import shutil
import signal
import stat
import tempfile
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX: no locks, so no leftover is judged stale
    fcntl = None

Writer = Callable[[Path], None]
LOCK_NAME = ".results.lock"
SETS = ".result-sets"  # the hidden folder holding one folder per set
CURRENT = "current"  # the link in SETS naming the set the folder shows
_TEMP_FILE = re.compile(r"\..+\.[a-z0-9_]{8}\.tmp")  # tempfile.mkstemp's names, as write_atomic makes
_TEMP_LINK = re.compile(r"\..+\.[0-9a-f]{8}\.link")  # a link being moved into place (under the lock)
_TEMP_CURRENT = re.compile(r"\.current\.[0-9a-f]{8}")
_SET_FOLDER = re.compile(r"set-[a-z0-9_]{8}")
_TRIES = 100


# ---------------------------------------------------------------------------------------------
# signals and locks


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
    folder.mkdir(parents=True, exist_ok=True)
    if fcntl is None:  # pragma: no cover
        yield
        return
    with open(folder / LOCK_NAME, "a") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _lock(fd: int, wait: bool) -> bool:
    """Lock an open file or folder for as long as this process lives; False if someone holds it."""
    if fcntl is None:  # pragma: no cover
        return wait
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    return True


def _still_named(path: Path, fd: int) -> bool:
    """Whether `path` still names the file open as `fd` (a cleaner may have removed it meanwhile)."""
    try:
        st, held = os.lstat(path), os.fstat(fd)
    except FileNotFoundError:
        return False
    return (st.st_dev, st.st_ino) == (held.st_dev, held.st_ino)


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


def _write_synced(path: Path, write: Writer) -> None:
    """Run a writer on a new file and flush the result to disk before anything points to it."""
    write(path)
    os.chmod(path, 0o644)  # mkstemp makes owner-only files; results are for sharing
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


# ---------------------------------------------------------------------------------------------
# leftovers of killed writers


def _remove_if_abandoned(path: Path) -> None:
    """Remove a temporary file or set folder whose writer is gone (nobody holds its lock)."""
    flags = os.O_RDONLY | os.O_NOFOLLOW | (os.O_DIRECTORY if path.is_dir() else 0)
    try:
        fd = os.open(path, flags)
    except OSError:
        return
    try:
        if _lock(fd, wait=False) and _still_named(path, fd):
            if stat.S_ISDIR(os.fstat(fd).st_mode):
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
    finally:
        os.close(fd)


def _clean_temp_files(folder: Path) -> None:
    """Remove write_atomic temporaries (and those of earlier versions) left by killed writers."""
    with contextlib.suppress(OSError), os.scandir(folder) as entries:
        for e in entries:
            if _TEMP_FILE.fullmatch(e.name) and e.is_file(follow_symlinks=False):
                _remove_if_abandoned(Path(e.path))


def _clean(folder: Path) -> None:
    """Remove what a killed write left behind. Only under the folder lock: a set switch, or a
    link being moved into place, happens only under it, so what is found here is abandoned."""
    _clean_temp_files(folder)
    sets = folder / SETS
    shown = _current(folder)
    if sets.is_dir():
        for e in list(os.scandir(sets)):
            path = Path(e.path)
            if _TEMP_CURRENT.fullmatch(e.name) and e.is_symlink():
                path.unlink(missing_ok=True)
            elif _SET_FOLDER.fullmatch(e.name) and path != shown:
                _remove_if_abandoned(path)  # a live writer's folder is locked and stays
    for e in list(os.scandir(folder)):
        path = Path(e.path)
        if _TEMP_LINK.fullmatch(e.name) and e.is_symlink():
            path.unlink(missing_ok=True)
        elif _is_ours(path) and not (shown and (shown / e.name).is_file()):
            path.unlink(missing_ok=True)  # a link that resolves to nothing: absent either way


# ---------------------------------------------------------------------------------------------
# sets


def _link_text(name: str) -> str:
    return f"{SETS}/{CURRENT}/{name}"


def _is_ours(path: Path) -> bool:
    """Whether `path` is a result name's link through the switching link."""
    try:
        return os.readlink(path) == _link_text(path.name)
    except OSError:
        return False


def _current(folder: Path) -> Path | None:
    """The folder of the set `folder` shows, or None."""
    try:
        name = os.readlink(folder / SETS / CURRENT)
    except OSError:
        return None
    path = folder / SETS / name
    return path if _SET_FOLDER.fullmatch(name) and path.is_dir() else None


def _new_set_folder(folder: Path) -> tuple[Path, int]:
    """A fresh set folder, locked by this process until it closes the returned descriptor."""
    sets = folder / SETS
    for _ in range(_TRIES):
        try:
            sets.mkdir(exist_ok=True)
            path = Path(tempfile.mkdtemp(prefix="set-", dir=sets))
            fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
        except FileNotFoundError:  # a cleaner removed it in the instant before the lock
            continue
        try:
            _lock(fd, wait=True)
            if _still_named(path, fd):
                os.chmod(path, 0o755)  # mkdtemp makes owner-only folders; results are for sharing
                return path, fd
        except BaseException:
            os.close(fd)
            raise
        os.close(fd)
    raise OSError(f"could not make a folder for results in {sets}")


def _add(src: Path, dst: Path) -> None:
    """Put `src`'s content at `dst` (a new name in a set folder): a hard link, else a copy."""
    try:
        os.link(src, dst, follow_symlinks=True)
    except FileExistsError:
        dst.unlink()
        _add(src, dst)
    except OSError:  # no hard links on this file system
        shutil.copy2(src, dst)
        with open(dst, "rb+") as fh:
            os.fsync(fh.fileno())


def _switch(folder: Path, target: Path) -> None:
    """Make `folder` show the set in `target`: one rename(2) of the one switching link."""
    sets = folder / SETS
    _sync_folder(target)
    _sync_folder(folder)  # links made before the switch exist on disk before it does
    while True:
        tmp = sets / f".current.{secrets.token_hex(4)}"
        try:
            os.symlink(target.name, tmp)
            break
        except FileExistsError:  # pragma: no cover - 32 random bits
            continue
    os.replace(tmp, sets / CURRENT)
    _sync_folder(sets)


def _link(folder: Path, name: str) -> None:
    """Make `folder/name` the link to the shown set's file of that name."""
    path = folder / name
    if _is_ours(path):
        return
    while True:
        tmp = folder / f".{name}.{secrets.token_hex(4)}.link"
        try:
            os.symlink(_link_text(name), tmp)
            break
        except FileExistsError:  # pragma: no cover - 32 random bits
            continue
    os.replace(tmp, path)


def _plain_content(path: Path) -> bool:
    """Whether `path` is a result file not yet read through a set (a plain file, or another link
    to a file)."""
    return not _is_ours(path) and path.is_file()


def _adopt(folder: Path, names: set[str], shown: Path | None) -> Path | None:
    """Bring plain files among `names` into the shown set without changing what any name reads.

    A copy of the shown set plus these files (hard links) is switched to first, so every existing
    link reads the same file as before; then each plain file is replaced by its link, which reads
    the same file too. Returns the set folder shown afterwards.
    """
    plain = sorted(n for n in names if _plain_content(folder / n))
    if not plain:
        return shown
    merged, fd = _new_set_folder(folder)
    try:
        if shown is not None:
            for e in os.scandir(shown):
                _add(Path(e.path), merged / e.name)
        for name in plain:
            _add(folder / name, merged / name)
        _switch(folder, merged)
        for name in plain:
            _link(folder, name)
        _sync_folder(folder)
        if shown is not None:
            shutil.rmtree(shown, ignore_errors=True)
    finally:
        os.close(fd)
    return merged


def _one_folder(paths: Iterable[Path]) -> Path:
    folders = {os.path.abspath(p.parent) for p in paths}
    if len(folders) != 1:
        raise ValueError(f"a result set lives in one folder, not {len(folders)}: {sorted(folders)}")
    return Path(folders.pop())


def _check_names(folder: Path, names: Iterable[str]) -> None:
    for name in names:
        if name in (SETS, LOCK_NAME) or _TEMP_LINK.fullmatch(name) or _TEMP_FILE.fullmatch(name):
            raise ValueError(f"{name!r} is a name the result writer keeps for itself")
        path = folder / name
        if path.is_dir() and not path.is_symlink():
            raise IsADirectoryError(f"{path} is a folder, not a result file")


def write_set(files: Mapping[Path, Writer], remove: Iterable[Path] = ()) -> None:
    """Write several files of one folder as one set: after any interruption or kill the folder
    shows the previous set whole or this one whole (see the module docstring for how).

    `remove` names files of an earlier set that this one does not replace (for example an event
    log the new run did not ask for); they go in the same switch. Files of the shown set named in
    neither are kept.
    """
    files, remove = dict(files), list(remove)
    if not files and not remove:
        return
    folder = _one_folder([*files, *remove])
    new = {p.name: w for p, w in files.items()}
    dropped = {p.name for p in remove} - set(new)
    _check_names(folder, [*new, *dropped])
    folder.mkdir(parents=True, exist_ok=True)
    staged, fd = _new_set_folder(folder)
    switched = False
    try:
        for name, write in new.items():
            open(staged / name, "xb").close()  # a writer that writes nothing leaves an empty file
            _write_synced(staged / name, write)
        with folder_lock(folder), signals_held():
            _clean(folder)
            shown = _adopt(folder, set(new) | dropped, _current(folder))
            if shown is not None:
                for e in os.scandir(shown):  # what the new set keeps of the shown one
                    if e.name not in new and e.name not in dropped and _is_ours(folder / e.name):
                        _add(Path(e.path), staged / e.name)
            for name in new:
                _link(folder, name)  # reads as absent until the switch
            _switch(folder, staged)
            switched = True
            for e in list(os.scandir(folder)):  # dropped names: absent since the switch
                path = Path(e.path)
                if e.is_symlink() and not path.exists() and (_is_ours(path) or e.name in dropped):
                    path.unlink(missing_ok=True)
            _sync_folder(folder)
            if shown is not None:
                shutil.rmtree(shown, ignore_errors=True)
    finally:
        try:
            if not switched:
                shutil.rmtree(staged, ignore_errors=True)
                with contextlib.suppress(OSError):
                    (folder / SETS).rmdir()  # only if empty: nothing was ever switched to here
        finally:
            os.close(fd)  # unlocks: from now on a later write may remove what is left


# ---------------------------------------------------------------------------------------------
# single files


def write_atomic(path: Path, write: Writer) -> None:
    """Replace one file so that a reader sees the old content or the new, never a part."""
    folder = path.parent
    folder.mkdir(parents=True, exist_ok=True)
    _clean_temp_files(folder)
    for _ in range(_TRIES):
        fd, name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=folder)
        tmp = Path(name)
        _lock(fd, wait=True)
        if _still_named(tmp, fd):
            break
        os.close(fd)  # a cleaner saw it before it was locked and removed it: make another
    else:  # pragma: no cover
        raise OSError(f"could not make a temporary file in {folder}")
    done = False
    try:
        _write_synced(tmp, write)
        with signals_held():
            os.replace(tmp, path)
            done = True
        _sync_folder(folder)
    finally:
        try:
            if not done:
                tmp.unlink(missing_ok=True)
        finally:
            os.close(fd)


def csv_writer(df: pd.DataFrame) -> Writer:
    return lambda p: df.to_csv(p, index=False, float_format="%.6g")


def text_writer(text: str) -> Writer:
    return lambda p: p.write_text(text, encoding="utf-8")


def write_csv(df: pd.DataFrame, path: Path) -> None:
    write_atomic(path, csv_writer(df))


def write_text(text: str, path: Path) -> None:
    write_atomic(path, text_writer(text))
