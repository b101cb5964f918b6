"""The project's wheel, built from a copy of the source so that the checkout is never written to."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]


def build_wheel(source: Path, wheels: Path) -> Path:
    """Copy what the wheel is built from into ``source`` and build it into ``wheels``; the wheel's path.

    Built without build isolation, from the setuptools and wheel of the test extra, so that it needs no network.
    """
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy(REPO / name, source)
    for name in ("retention_xl", "templates"):
        shutil.copytree(REPO / name, source / name, ignore=shutil.ignore_patterns("__pycache__"))
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
                           "-w", str(wheels), str(source)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, f"the wheel did not build:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return next(wheels.glob("retention_xl-*.whl"))
