"""The wheel: every package of retention_xl in it, the wording templates with them, each importable from the
wheel alone, and the licence declared as an SPDX expression with its text."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers.wheel import REPO, build_wheel


def packages() -> list[str]:
    """Every folder of the source holding an ``__init__.py``, by the name it is installed under."""
    found = [".".join(init.parent.relative_to(REPO).parts) for init in (REPO / "retention_xl").rglob("__init__.py")]
    return sorted(found) + ["retention_xl.templates"]


def templates() -> list[str]:
    """The wording files of every language, as paths inside the wheel."""
    return sorted(f"retention_xl/templates/{path.relative_to(REPO / 'templates').as_posix()}"
                  for pattern in ("*/*.j2", "*/*.json") for path in (REPO / "templates").glob(pattern))


@pytest.fixture(scope="module")
def wheel(tmp_path_factory) -> Path:
    return build_wheel(tmp_path_factory.mktemp("source"), tmp_path_factory.mktemp("wheels"))


def test_every_package_and_template_is_in_the_wheel(wheel):
    names = set(zipfile.ZipFile(wheel).namelist())
    stages = {"retention_xl.read", "retention_xl.read.scan", "retention_xl.table", "retention_xl.figures",
              "retention_xl.figures.models", "retention_xl.workbook"}
    assert stages <= set(packages()) and len(templates()) == 9  # three languages, three files each
    missing = [package for package in packages() if f"{package.replace('.', '/')}/__init__.py" not in names]
    assert missing == [], f"add {missing} to [tool.setuptools] packages in pyproject.toml"
    assert [path for path in templates() if path not in names] == []


def test_the_licence_is_an_spdx_expression_with_its_text(wheel):
    archive = zipfile.ZipFile(wheel)
    metadata = next(name for name in archive.namelist() if name.endswith(".dist-info/METADATA"))
    assert "License-Expression: MIT" in archive.read(metadata).decode().splitlines()
    licence = metadata.replace("METADATA", "licenses/LICENSE")
    assert archive.read(licence).decode().startswith("MIT License\n\nCopyright (c) 2026 the retention_xl authors")


def test_every_package_imports_from_the_wheel(wheel, tmp_path):
    """Unpacked and first on the path: each package, and its wording, comes from the wheel, not the checkout."""
    unpacked = tmp_path / "unpacked"
    zipfile.ZipFile(wheel).extractall(unpacked)
    script = f"""
import importlib, importlib.resources, json, sys
sys.path.insert(0, {str(unpacked)!r})
files = {{name: importlib.import_module(name).__file__ for name in {packages()!r}}}
labels = json.loads(importlib.resources.files("retention_xl.templates").joinpath("en/labels.json").read_text("utf-8"))
print(json.dumps({{"files": files, "labels": len(labels)}}))
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, cwd=tmp_path, timeout=120)
    assert done.returncode == 0, done.stderr
    imported = json.loads(done.stdout)
    assert {name: Path(file).is_relative_to(unpacked) for name, file in imported["files"].items()} == \
        dict.fromkeys(packages(), True)
    assert imported["labels"] > 0
