"""Open a workbook in LibreOffice Calc (headless), recalculate every formula, read it back.

LibreOffice normally trusts the values cached in an .xlsx file. A private user
profile that sets "recalculate on load: always" makes it compute every formula
itself; converting the file to .xlsx then stores LibreOffice's own results, which
openpyxl reads back. Any formula it cannot evaluate shows up as an error value.
"""

from __future__ import annotations

import subprocess
import tempfile
from pathlib import Path

import openpyxl
import pytest
from helpers.dependencies import require_soffice

_PROFILE_SETTINGS = """<?xml version="1.0" encoding="UTF-8"?>
<oor:items xmlns:oor="http://openoffice.org/2001/registry" xmlns:xs="http://www.w3.org/2001/XMLSchema" xmlns:xsi="http://www.w3.org/2001/XMLSchema-instance">
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="OOXMLRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Calc/Formula/Load"><prop oor:name="ODFRecalcMode" oor:op="fuse"><value>0</value></prop></item>
<item oor:path="/org.openoffice.Office.Common/Misc"><prop oor:name="FirstRun" oor:op="fuse"><value>false</value></prop></item>
</oor:items>
"""

ERROR_VALUES = {"#DIV/0!", "#VALUE!", "#NUM!", "#N/A", "#NAME?", "#NULL!", "#REF!", "Err:502", "Err:504", "Err:508"}


def recalculate_all(workbooks: list[Path], workdir: Path) -> list[Path]:
    """Copies of ``workbooks`` as LibreOffice saves them after recalculating everything (one start for all)."""
    binary = require_soffice()
    assert len({workbook.stem for workbook in workbooks}) == len(workbooks), "the copies are named by stem"
    profile = Path(tempfile.mkdtemp(prefix="lo-profile-", dir=workdir))
    (profile / "user").mkdir()
    (profile / "user" / "registrymodifications.xcu").write_text(_PROFILE_SETTINGS, encoding="utf-8")
    outdir = workdir / "recalculated"
    outdir.mkdir(exist_ok=True)
    completed = subprocess.run(
        [
            binary,
            f"-env:UserInstallation={profile.as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "xlsx:Calc MS Excel 2007 XML",
            "--outdir",
            str(outdir),
            *map(str, workbooks),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    results = [outdir / (workbook.stem + ".xlsx") for workbook in workbooks]
    if completed.returncode != 0 or not all(result.exists() for result in results):
        raise AssertionError(f"LibreOffice could not open {workbooks}: {completed.stdout}\n{completed.stderr}")
    return results


def recalculate(workbook: Path, workdir: Path) -> Path:
    """A copy of ``workbook`` as LibreOffice saves it after recalculating everything."""
    return recalculate_all([workbook], workdir)[0]


def cell_values(workbook: Path) -> dict[str, dict[str, object]]:
    """Every non-empty cell's saved value (for a formula, the value saved with it)."""
    book = openpyxl.load_workbook(workbook, data_only=True)
    return {
        sheet.title: {cell.coordinate: cell.value for row in sheet.iter_rows() for cell in row if cell.value is not None}
        for sheet in book.worksheets
    }


def recalculated_values(workbook: Path, workdir: Path) -> dict[str, dict[str, object]]:
    """Every non-empty cell's value after LibreOffice recalculated ``workbook``."""
    return cell_values(recalculate(workbook, workdir))


def formula_cells(workbook: Path) -> dict[str, dict[str, str]]:
    """Every formula of ``workbook``, by sheet and cell."""
    book = openpyxl.load_workbook(workbook)
    # An array formula's text is on its ArrayFormula object (its spill range beside it).
    return {sheet.title: {cell.coordinate: getattr(cell.value, "text", cell.value) for row in sheet.iter_rows()
                          for cell in row if cell.data_type == "f"} for sheet in book.worksheets}


def _same(saved: object, recalculated: object) -> bool:
    if isinstance(recalculated, bool) or not isinstance(recalculated, (int, float)):
        return type(saved) is type(recalculated) and saved == recalculated
    return (isinstance(saved, (int, float)) and not isinstance(saved, bool)
            and saved == pytest.approx(recalculated, rel=1e-9, abs=1e-12))


def assert_saved_values_are_recalculated(workbook: Path, recalculated: dict[str, dict[str, object]],
                                         unless=lambda sheet, cell, formula: False) -> int:
    """Every formula cell's saved value equals LibreOffice's recalculation of it (numbers to 1e-9); returns how
    many were compared. ``unless(sheet, cell, formula)`` names cells LibreOffice cannot compute."""
    saved = cell_values(workbook)
    compared = 0
    for sheet, formulas in formula_cells(workbook).items():
        for cell, formula in formulas.items():
            if unless(sheet, cell, formula):
                continue
            value, expected = saved[sheet].get(cell), recalculated[sheet].get(cell)
            assert _same(value, expected), (workbook.name, sheet, cell, formula, value, expected)
            compared += 1
    return compared
