"""Writing results so that a folder never holds a half-written file.

Each file is written to a temporary name in the target folder and then moved into place
with os.replace, which is atomic on one file system: a reader sees the old file or the new
one, never a part. If the run is interrupted before the move, the old results stay.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pandas as pd


def write_atomic(path: Path, write) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o644)  # mkstemp makes owner-only files; results are for sharing
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_csv(df: pd.DataFrame, path: Path) -> None:
    write_atomic(path, lambda p: df.to_csv(p, index=False, float_format="%.6g"))


def write_text(text: str, path: Path) -> None:
    write_atomic(path, lambda p: p.write_text(text, encoding="utf-8"))
