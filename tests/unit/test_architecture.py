"""The layer rule of sim/__init__.py holds: no upward import, no cycle (import-linter's contracts
in pyproject.toml, checked on this checkout's sources)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from tests.helpers import ROOT


def test_imports_follow_the_layers_and_have_no_cycles():
    exe = Path(sys.executable).with_name("lint-imports")
    assert exe.exists(), "lint-imports is missing: pip install -c constraints.txt -e '.[test]'"
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    res = subprocess.run([str(exe), "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=300,
                         env=env)
    assert res.returncode == 0, res.stdout[-3000:] + res.stderr[-2000:]
    assert "2 kept, 0 broken" in res.stdout
