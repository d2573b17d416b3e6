"""The layer rule of sim/__init__.py holds: no upward import, no cycle (import-linter's contracts
in pyproject.toml, checked on this checkout's sources), and an import inside a function says why."""

from __future__ import annotations

import ast
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


def in_function_imports_without_a_reason(text: str) -> list[int]:
    """Lines of imports inside functions with no comment on them or the two lines above, in a
    module whose docstring does not explain its imports inside functions."""
    tree = ast.parse(text)
    doc = ast.get_docstring(tree) or ""
    if "imports inside functions" in doc or "inside its own function" in doc:
        return []
    lines = text.splitlines()
    inside = sorted({node.lineno for fn in ast.walk(tree)
                     if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef))
                     for node in ast.walk(fn) if isinstance(node, (ast.Import, ast.ImportFrom))})
    explained: set[int] = set()
    for n in inside:  # a run of imports, one after another, shares the comment above the first
        near = lines[max(n - 3, 0):n]
        if any("#" in line for line in near) or n - 1 in explained or n - 2 in explained:
            explained.add(n)
    return [n for n in inside if n not in explained]


def test_an_import_inside_a_function_says_why():
    files = [*sorted((ROOT / "sim").rglob("*.py")), *sorted((ROOT / "ui").rglob("*.py")), ROOT / "app.py"]
    bad = {str(f.relative_to(ROOT)): lines for f in files
           if (lines := in_function_imports_without_a_reason(f.read_text()))}
    assert not bad, f"imports inside functions with no comment saying why: {bad}"


def test_the_import_check_finds_an_unexplained_import():
    quiet = "def f():\n    import json\n    return json\n"
    said = "def f():\n    # here: start-up time\n    import json\n    return json\n"
    assert in_function_imports_without_a_reason(quiet) == [2]
    assert in_function_imports_without_a_reason(said) == []
