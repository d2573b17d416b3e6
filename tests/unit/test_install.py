"""The tests run on the versions constraints.txt pins (the README's commands install them), so a
green run means those versions work, not whatever a machine happened to hold."""

from __future__ import annotations

import importlib.metadata as md
import re

from tests.helpers import ROOT


def _pins() -> dict[str, str]:
    pins = {}
    for line in (ROOT / "constraints.txt").read_text(encoding="utf-8").splitlines():
        line = line.split("#", 1)[0].strip()
        if line:
            name, version = line.split("==")
            pins[re.sub(r"[-_.]+", "-", name).lower()] = version
    return pins


def test_every_dependency_is_pinned_and_installed_at_its_pinned_version():
    pins = _pins()
    wanted = [re.split(r"[<>=!\[; ]", r, maxsplit=1)[0] for r in md.requires("front-door-sim") or []]
    unpinned = [w for w in wanted if re.sub(r"[-_.]+", "-", w).lower() not in pins]
    assert not unpinned, f"not pinned in constraints.txt: {unpinned}"
    wrong = {}
    for name, version in pins.items():
        try:
            installed = md.version(name)
        except md.PackageNotFoundError:
            continue  # a pin for another platform's extra; pip installs only what is asked for
        if installed != version:
            wrong[name] = (installed, version)
    assert not wrong, ("installed versions differ from constraints.txt (install with"
                       f" `pip install -c constraints.txt -e \".[test]\"`): {wrong}")
