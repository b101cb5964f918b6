"""Where the product writes: checking output paths before any work, and its temporary files.

Every file is written to a temporary file beside its target and moved into place
only when complete. The temporary file's name carries this program's mark and the
process id, ``.report.retention-xl-4242-k3j2.xlsx.tmp``, so that after a run was
killed (when nothing can clean up) the next run in that folder removes the files
of writers that are provably gone, and never a concurrent run's live file.
"""

from __future__ import annotations

import errno
import os
import re
import tempfile
from pathlib import Path

from .errors import OutputError, UsageError

MARK = "retention-xl"
_STALE = re.compile(rf"^\..*\.{MARK}-(\d+)-[^.]*\.(xlsx\.tmp|xlsx\.streaming|json\.tmp)$")


def _file_mode() -> int:
    """The permissions an ordinary new file gets here (mkstemp would make it private to its owner)."""
    umask = os.umask(0)
    os.umask(umask)
    return 0o666 & ~umask


def temporary(path: Path, suffix: str) -> str:
    """An empty temporary file beside ``path``, named with this program's mark and process id.

    It has the permissions of an ordinary new file, since it becomes the report when complete.
    """
    handle, name = tempfile.mkstemp(prefix=f".{path.stem}.{MARK}-{os.getpid()}-", suffix=suffix, dir=path.parent)
    os.close(handle)
    os.chmod(name, _file_mode())
    return name


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # someone else's live process
        return True
    return True


def remove_stale(folder: Path) -> list[Path]:
    """Remove this program's temporary files in ``folder`` whose writing process no longer exists."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed
    for entry in entries:
        match = _STALE.match(entry.name)
        if match and int(match.group(1)) != os.getpid() and not _alive(int(match.group(1))):
            try:
                os.unlink(entry.path)
                removed.append(Path(entry.path))
            except OSError:
                pass
    return removed


def _same_file(first: Path, second: Path) -> bool:
    if first.resolve() == second.resolve():
        return True
    try:
        return first.exists() and second.exists() and os.path.samefile(first, second)
    except OSError:
        return False


def check_output_folder(path: Path, what: str) -> None:
    """Exit-3 errors for a target that cannot be written: no folder, a folder in its place, no permission."""
    folder = path.parent
    if path.is_dir():
        raise OutputError(f"{path}: is a folder; give a file name for the {what}")
    if not folder.exists():
        raise OutputError(f"{folder}: the folder for the {what} does not exist")
    if not folder.is_dir():
        raise OutputError(f"{folder}: is not a folder, so the {what} cannot be written there")
    try:  # the only sure test: root ignores permission bits, and a read-only mount refuses everyone
        probe = temporary(path, ".probe")
    except OSError as error:
        raise OutputError(f"{folder}: cannot write the {what} there ({error.strerror})") from None
    os.unlink(probe)


def check_report_name(path: Path) -> None:
    if Path(path).suffix.lower() != ".xlsx":
        raise UsageError(f"the report must be an .xlsx file, got {Path(path).name}")


def check_outputs(sales: Path | None, outputs: dict[str, Path]) -> None:
    """Refuse, before reading anything, outputs that would overwrite the input or each other, or cannot be written.

    ``outputs`` maps what each file is (``"report"``, ``"JSON summary"``) to its path.
    """
    if "report" in outputs:
        check_report_name(outputs["report"])
    named = [(what, Path(path)) for what, path in outputs.items() if path is not None]
    for what, path in named:
        if sales is not None and _same_file(path, Path(sales)):
            raise UsageError(f"{path}: the {what} would overwrite the sales file; choose another name")
    for index, (what, path) in enumerate(named):
        for other_what, other in named[index + 1:]:
            if _same_file(path, other):
                raise UsageError(f"{path}: the {what} and the {other_what} would be the same file; choose two names")
    for what, path in named:
        check_output_folder(path, what)


def write_error(path: Path, what: str, error: OSError) -> OutputError:
    """The one-line error for a failed write: full disk, file open in Excel, and the rest."""
    if error.errno == errno.ENOSPC:
        reason = "the disk is full; free some space and try again"
    elif isinstance(error, PermissionError):
        reason = f"{error.strerror}; close it in Excel and try again"
    else:
        reason = error.strerror or str(error)
    return OutputError(f"{path}: cannot write the {what} ({reason}); nothing was changed")


def write_atomically(path: Path, what: str, write) -> None:
    """``write(name)`` into a temporary file beside ``path``, moved into place only when complete.

    A failure leaves no partial file and raises :class:`OutputError` naming ``what``.
    """
    name = temporary(path, f"{path.suffix}.tmp")
    try:
        write(name)
        os.replace(name, path)
    except OSError as error:
        raise write_error(path, what, error) from None
    finally:
        if os.path.exists(name):
            os.unlink(name)
