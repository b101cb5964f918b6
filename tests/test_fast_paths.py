"""The shortcuts taken for speed give what the long way gives: text that needs no escaping streamed as it is,
each kind of text that does escaped alone in its column, and the rows compressed by ISA-L read back whole."""

from __future__ import annotations

import zipfile

import openpyxl
import pandas as pd
import pytest

from retention_xl.workbook import stream

from test_fast_writer import template_workbook


@pytest.mark.parametrize("texts, read_back", [
    (["plain", "纯文本", None], ["plain", "纯文本", None]),
    (["a & b", "x", "y"], ["a & b", "x", "y"]),
    (["x", " padded", "y"], ["x", " padded", "y"]),
    (["x", "bell\x07", "y"], ["x", "bell", "y"]),
])
def test_a_column_with_one_kind_of_text_is_streamed_as_written(tmp_path, texts, read_back):
    source, target = tmp_path / "s.xlsx", tmp_path / "t.xlsx"
    template_workbook(source)
    columns = [stream.Column("A", "text", pd.Series(texts, dtype="string")),
               stream.Column("B", "number", pd.Series([1.0, 2.0, 3.0])),
               stream.Column("C", "date", pd.Series(pd.to_datetime(["2024-01-02"] * 3)))]
    stream.finish(source, target, {}, stream.Rows("data", columns))
    with zipfile.ZipFile(target) as package:
        assert package.testzip() is None  # every member's CRC checks out
    sheet = openpyxl.load_workbook(target).active
    assert [sheet[f"A{r}"].value for r in range(2, 5)] == read_back
    assert [sheet[f"B{r}"].value for r in range(2, 5)] == [1, 2, 3]
