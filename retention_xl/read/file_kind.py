"""What kind of file a sales file is, told by its first bytes: a name can be wrong (a CSV file saved as .xls, a
workbook renamed .csv), and a file that cannot be a table should be refused with what to do rather than misread.
"""

from __future__ import annotations

import codecs
from pathlib import Path

from ..errors import InputError
from .rawtable import CSV_SUFFIXES, EXCEL_SUFFIXES, PARQUET_SUFFIXES

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_ENCRYPTED_STREAM = "EncryptedPackage".encode("utf-16-le")
_ARCHIVES = {b"Rar!\x1a\x07": "RAR", b"7z\xbc\xaf\x27\x1c": "7-Zip", b"\x1f\x8b": "gzip"}


def file_kind(path: Path) -> str:
    """``"excel"``, ``"parquet"`` or ``"csv"``, from the file's first bytes rather than its name; a file that is
    none of them (missing, a folder, empty, password-protected, an archive, binary data, damaged) is refused with
    what to do about it.

    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     renamed = Path(folder, "sales.xlsx")
    ...     _ = renamed.write_bytes(b"PAR1 not really a workbook")
    ...     file_kind(renamed)
    'parquet'
    """
    if not path.exists():
        raise InputError("file not found; check the path", file=path)
    if path.is_dir():
        raise InputError("is a folder, not a sales file", file=path)
    with path.open("rb") as handle:
        head = handle.read(8)
        handle.seek(0)
        start = handle.read(2_000_000)
    if not head:
        raise InputError("the file is empty (0 bytes)", file=path)
    suffix = path.suffix.lower()
    if head.startswith(_OLE_MAGIC):
        if _ENCRYPTED_STREAM in start:
            raise InputError("the workbook is password-protected; open it in Excel, remove the password "
                             "(File > Info > Protect Workbook) and save a copy", file=path)
        return "excel"
    if head.startswith(b"PK\x03\x04"):
        if suffix in CSV_SUFFIXES | PARQUET_SUFFIXES:
            raise InputError(f"has a {suffix} name but is a ZIP/Excel file; rename it to .xlsx", file=path)
        return "excel"
    if head.startswith(b"PAR1"):
        return "parquet"
    archive = next((kind for magic, kind in _ARCHIVES.items() if head.startswith(magic)), None)
    if archive:
        raise InputError(f"is a {archive} archive, not a sales file: unpack it and report on the workbook or CSV "
                         "file inside", file=path)
    if suffix in EXCEL_SUFFIXES | PARQUET_SUFFIXES:
        raise InputError(
            f"is not a valid {suffix} file (it may be damaged, or another kind of file renamed); "
            "open it in Excel and save it again as .xlsx or .csv",
            file=path,
        )
    sample = start[:4096]
    if b"\x00" in sample and not sample.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputError("is not a spreadsheet or CSV file (it contains binary data)", file=path)
    return "csv"
