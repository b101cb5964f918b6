"""Running the command as a user does, on a CSV file a test writes."""

from __future__ import annotations

import csv
import json

from retention_xl import cli


def write_csv(path, header, rows, delimiter=",", encoding="utf-8"):
    """``rows`` under ``header`` as a CSV file at ``path``; returns ``path``."""
    with open(path, "w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, delimiter=delimiter)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def run_report(tmp_path, capsys, sales, *options, as_of: str):
    """``retention-xl report`` on ``sales`` in English with --json: (exit code, standard output, standard error,
    figures or None)."""
    code = cli.main(["report", str(sales), "-o", str(tmp_path / "report.xlsx"), "--as-of", as_of, "--lang", "en",
                     "--json", str(tmp_path / "figures.json"), *options])
    captured = capsys.readouterr()
    figures = json.loads((tmp_path / "figures.json").read_text(encoding="utf-8")) if code == 0 else None
    return code, captured.out, captured.err, figures
