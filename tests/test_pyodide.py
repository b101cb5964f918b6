"""The worksheet functions in Pyodide, as xlwings Lite runs them: installed by micropip, called through
xlwings' custom-functions protocol, answering with the same cells as in CPython.

Pyodide comes from npm (its package holds the interpreter but no package wheels), micropip and
xlwings' Pyodide wheel from the package index, the project's wheel is built here. Nothing is read from
Pyodide's CDN. Needs node and npm: without them the test is skipped locally and fails on CI.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers.dependencies import require_node
from helpers.wheel import build_wheel

REPO = Path(__file__).resolve().parents[1]
HARNESS = Path(__file__).resolve().parent / "pyodide"
PYODIDE_VERSION = os.environ.get("RETENTION_XL_PYODIDE_VERSION", "314.0.7")
CACHE = Path(os.environ.get("RETENTION_XL_PYODIDE_CACHE", Path.home() / ".cache" / "retention_xl_pyodide"))


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, command))}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


def _pyodide() -> Path:
    """The npm package of Pyodide, installed once into the cache."""
    folder = CACHE / f"node-{PYODIDE_VERSION}"
    package = folder / "node_modules" / "pyodide"
    if not (package / "package.json").exists() or \
            json.loads((package / "package.json").read_text())["version"] != PYODIDE_VERSION:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.json").write_text('{"private": true}')
        _run([require_node("npm"), "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(folder),
              f"pyodide@{PYODIDE_VERSION}"], timeout=600)
    return package


def _download(requirement: str, target: Path, lock: dict, pyodide_platform: bool) -> Path:
    """A wheel of ``requirement`` for Pyodide's Python, from the package index (cached)."""
    python = ".".join(lock["info"]["python"].split(".")[:2])
    abi = lock["info"]["abi_version"]
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
               "--only-binary=:all:", "--python-version", python, "--implementation", "cp",
               "--abi", "cp" + python.replace(".", ""), "--abi", "abi3", "--abi", "none", "-d", str(target)]
    if pyodide_platform:
        command += ["--platform", f"pyemscripten_{abi}_wasm32", "--platform", f"pyodide_{abi}_wasm32"]
    name = requirement.split("==")[0]
    existing = sorted(target.glob(f"{name}-{requirement.split('==')[1]}-*.whl")) if "==" in requirement else []
    if not existing:
        _run(command + [requirement], timeout=300)
        existing = sorted(target.glob(f"{name}-*.whl"))
    return existing[-1]


def lite_requirements() -> list[str]:
    """The lines of examples/lite/requirements.txt: the project first, then what the sales-list functions need."""
    lines = (REPO / "examples" / "lite" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


@pytest.fixture(scope="module")
def in_pyodide(tmp_path_factory) -> dict:
    node = require_node("node")
    package = _pyodide()
    lock = json.loads((package / "pyodide-lock.json").read_text())
    wheels = tmp_path_factory.mktemp("wheels")
    cache = CACHE / f"wheels-{PYODIDE_VERSION}"
    cache.mkdir(parents=True, exist_ok=True)
    import xlwings

    micropip = _download(f"micropip=={lock['packages']['micropip']['version']}", cache, lock, False)
    xlwings_wheel = _download(f"xlwings=={xlwings.__version__}", cache, lock, True)
    shutil.copy(xlwings_wheel, wheels)
    project_wheel = build_wheel(tmp_path_factory.mktemp("source"), wheels).name
    out = tmp_path_factory.mktemp("out") / "pyodide.json"
    config = {
        "pyodide": str(package), "packages": str(CACHE / f"packages-{PYODIDE_VERSION}"), "micropip": str(micropip),
        "wheels": str(wheels), "project_wheel": project_wheel, "xlwings_wheel": xlwings_wheel.name,
        "harness": str(HARNESS), "out": str(out), "sales_requirements": lite_requirements()[1:],
    }
    Path(config["packages"]).mkdir(parents=True, exist_ok=True)
    config_path = out.with_suffix(".config.json")
    config_path.write_text(json.dumps(config))
    done = subprocess.run([node, str(HARNESS / "run_in_pyodide.cjs"), str(config_path)], capture_output=True,
                          text=True, timeout=600)
    assert done.returncode == 0, f"Pyodide run failed:\n{done.stderr[-3000:]}"
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def in_cpython(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("cpython") / "cpython.json"
    _run([sys.executable, str(HARNESS / "calls.py"), str(out)], cwd=tmp_path_factory.mktemp("elsewhere"), timeout=300)
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.mark.pyodide
@pytest.mark.slow  # Node starts Pyodide and micropip installs the wheels: tens of seconds
def test_micropip_installs_the_functions_in_pyodide(in_pyodide):
    assert in_pyodide["platform"] == "emscripten"
    assert in_pyodide["functions"] == ["COHORT_TABLE", "CUSTOMER_BRIDGE", "CUSTOMER_SEGMENTS", "CUSTOMER_VALUE",
                                       "NPS", "PARETO_SHARE", "P_ALIVE", "REPEAT_TIER", "RETENTION",
                                       "SATISFACTION_INDEX", "TXN_GROWTH"]
    for text in in_pyodide["help"].values():  # help text in Chinese and in English
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text) and any("a" <= ch <= "z" for ch in text), text
    assert in_pyodide["report_modules_loaded"] == []


@pytest.mark.pyodide
@pytest.mark.slow
def test_every_call_gives_the_same_cells_as_in_cpython(in_pyodide, in_cpython):
    assert in_pyodide["cells"] == in_cpython["cells"]
    assert in_cpython["cells"]["retention"] == [[0.9]]
    assert in_cpython["cells"]["tier in traditional Chinese"] == [["低複購"]]
    assert in_cpython["cells"]["retention S = 0"][0][0]["errorType"] == "Div0"
    assert in_cpython["cells"]["nps of scores"] == [[0.25]]
    assert in_cpython["cells"]["satisfaction of levels and stars"] == [[3.5]]


@pytest.mark.pyodide
@pytest.mark.slow
def test_a_ten_thousand_row_spill(in_pyodide, in_cpython):
    assert in_pyodide["spill_rows"] == in_cpython["spill_rows"] == 10_000
    assert in_pyodide["spill_sample"] == in_cpython["spill_sample"]


def test_the_lite_requirements_name_pyodide_builds_unpinned():
    """Pyodide ties the version of its own builds to its release: Lite's requirements.txt must not pin them."""
    assert lite_requirements() == ["retention-xl", "pandas", "scipy", "pyarrow"]


@pytest.mark.pyodide
@pytest.mark.slow
def test_the_sales_list_functions_in_pyodide(in_pyodide, in_cpython):
    """With requirements.txt's packages installed, every sales-list call gives CPython's cells, and each function
    takes at most 20 s on 100,000 rows; without them a call says which lines requirements.txt needs."""
    if len(in_pyodide["sales_packages"]) < 4:
        assert "requirements.txt" in str(in_pyodide["without_packages"])
        pytest.skip(f"Pyodide's own builds of numpy, pandas, SciPy and pyarrow are not in {CACHE}/packages-"
                    f"{PYODIDE_VERSION} (they are published only on Pyodide's CDN): the functions were checked to "
                    f"register and to ask for them, not run")
    assert in_pyodide["sales_cells"] == in_cpython["sales_cells"]
    assert all(seconds <= 20 for seconds in in_pyodide["sales_seconds"].values()), in_pyodide["sales_seconds"]
