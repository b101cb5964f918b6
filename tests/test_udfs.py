"""The worksheet functions, called through xlwings' Office.js custom-functions protocol.

Payloads are shaped as Excel sends them: every argument a 2-D matrix, an omitted
optional argument as null, error cells as runtime-1.4 error objects.
"""

import json
import subprocess
import sys

import pytest

from excel_protocol import call, call_scalar, error, metadata, returned_error

DIV0, VALUE, NUM, NA = (returned_error(code) for code in ("#DIV/0!", "#VALUE!", "#NUM!", "#N/A"))


class TestRetention:
    def test_scalar(self):
        assert call_scalar("RETENTION", 110, 20, 100) == pytest.approx(0.9)

    def test_one_result_per_row(self):
        result = call("RETENTION", [110, 95, 80], [20, 10, 0], [100, 100, 0])
        assert result[0][0] == pytest.approx(0.9)
        assert result[1][0] == pytest.approx(0.85)
        assert result[2][0] == DIV0

    def test_single_cell_is_broadcast_against_a_column(self):
        result = call("RETENTION", [110, 120], 20, 100)
        assert [row[0] for row in result] == pytest.approx([0.9, 1.0])

    def test_ranges_of_different_shapes(self):
        assert call_scalar("RETENTION", [1, 2, 3], [1, 2], 100) == VALUE

    def test_blank_cells_count_as_zero(self):
        assert call_scalar("RETENTION", 90, "", 100) == pytest.approx(0.9)
        assert call_scalar("RETENTION", 90, 0, "") == DIV0

    def test_numbers_stored_as_text(self):
        assert call_scalar("RETENTION", "1,100", " 100 ", "1,000") == pytest.approx(1.0)

    def test_text_that_is_not_a_number(self):
        assert call_scalar("RETENTION", "lots", 1, 10) == VALUE

    def test_boolean_is_not_a_count(self):
        assert call_scalar("RETENTION", True, 0, 10) == VALUE

    def test_error_cell_passes_through(self):
        assert call_scalar("RETENTION", error("#N/A"), 1, 10) == NA
        assert call_scalar("RETENTION", 10, 1, error("#REF!")) == returned_error("#REF!")

    @pytest.mark.parametrize("args", [(-1, 0, 10), (10.5, 0, 10), (10, 11, 20)])
    def test_out_of_domain_counts(self, args):
        assert call_scalar("RETENTION", *args) == NUM


class TestTxnGrowth:
    def test_scalar(self):
        assert call_scalar("TXN_GROWTH", 12_000, 10_000) == pytest.approx(0.2)

    def test_spills_per_row(self):
        result = call("TXN_GROWTH", [[12_000], [5_000], [1]], [[10_000], [10_000], [0]])
        assert result[0][0] == pytest.approx(0.2)
        assert result[1][0] == pytest.approx(-0.5)
        assert result[2][0] == DIV0

    def test_currency_text(self):
        assert call_scalar("TXN_GROWTH", "¥1,200", "￥1,000") == pytest.approx(0.2)

    def test_negative_base(self):
        assert call_scalar("TXN_GROWTH", 100, -100) == NUM

    def test_error_passes_through(self):
        assert call_scalar("TXN_GROWTH", error("#DIV/0!"), 100) == DIV0


class TestRepeatTier:
    def test_default_language_is_simplified_chinese(self):
        assert call_scalar("REPEAT_TIER", 0.45, None, None, None) == "中复购"

    @pytest.mark.parametrize(
        "language, expected", [("zh-CN", "高复购"), ("zh-TW", "高複購"), ("en", "High"), ("zh_hk", "高複購")]
    )
    def test_languages(self, language, expected):
        assert call_scalar("REPEAT_TIER", 0.8, None, None, language) == expected

    def test_percent_text(self):
        assert call_scalar("REPEAT_TIER", "25%", None, None, "en") == "Low"

    def test_band_edges(self):
        assert call_scalar("REPEAT_TIER", 0.7, None, None, "en") == "High"
        assert call_scalar("REPEAT_TIER", 0.3, None, None, "en") == "Medium"

    def test_thresholds(self):
        assert call_scalar("REPEAT_TIER", 0.5, 0.5, 0.2, "en") == "High"

    def test_range_of_purchase_counts(self):
        # 2 of 4 customers bought twice or more; the blank and the text are skipped like SUM
        counts = [[1], [3], [""], ["n/a"], [2], [1]]
        assert call_scalar("REPEAT_TIER", counts, None, None, "en") == "Medium"

    def test_rate_above_one(self):
        assert call_scalar("REPEAT_TIER", 45, None, None, None) == NUM

    def test_thresholds_in_wrong_order(self):
        assert call_scalar("REPEAT_TIER", 0.5, 0.2, 0.6, None) == NUM

    def test_unknown_language(self):
        assert call_scalar("REPEAT_TIER", 0.5, None, None, "fr") == VALUE

    def test_no_counts(self):
        assert call_scalar("REPEAT_TIER", [[""], ["x"]], None, None, None) == DIV0

    def test_fractional_count(self):
        assert call_scalar("REPEAT_TIER", [[1.5], [2]], None, None, None) == NUM

    def test_error_in_counts(self):
        assert call_scalar("REPEAT_TIER", [[1], [error("#N/A")]], None, None, None) == NA

    def test_threshold_range_instead_of_cell(self):
        assert call_scalar("REPEAT_TIER", 0.5, [[0.1], [0.2]], None, None) == VALUE


class TestParetoShare:
    def test_column_of_amounts(self):
        assert call_scalar("PARETO_SHARE", [50, 20, 10, 10, 10], None, None) == pytest.approx(0.5)

    def test_skips_blanks_and_text_like_sum(self):
        assert call_scalar("PARETO_SHARE", [50, "", 20, "total", 10, 10, 10, True], None, None) == pytest.approx(0.5)

    def test_top_fraction(self):
        assert call_scalar("PARETO_SHARE", [40, 30, 20, 10], None, 0.5) == pytest.approx(0.7)

    def test_ids_and_amounts(self):
        ids = [17850.0, "17850", "A", "B", "C"]
        amounts = [30, 20, 20, 10, 20]
        assert call_scalar("PARETO_SHARE", ids, amounts, 0.25) == pytest.approx(0.5)

    def test_ids_and_amounts_of_different_shapes(self):
        assert call_scalar("PARETO_SHARE", ["a", "b"], [1, 2, 3], None) == VALUE

    def test_negative_customer_total(self):
        assert call_scalar("PARETO_SHARE", [10, -5], None, None) == NUM

    def test_all_zero(self):
        assert call_scalar("PARETO_SHARE", [0, 0, ""], None, None) == DIV0

    def test_fraction_out_of_range(self):
        assert call_scalar("PARETO_SHARE", [1, 2], None, 1.5) == NUM

    def test_error_passes_through(self):
        assert call_scalar("PARETO_SHARE", [1, error("#VALUE!")], None, None) == VALUE


class TestMetadata:
    def test_functions_excel_lists(self):
        names = {f["name"] for f in metadata()["functions"]}
        assert names == {"RETENTION", "TXN_GROWTH", "REPEAT_TIER", "PARETO_SHARE", "NPS", "SATISFACTION_INDEX",
                         "CUSTOMER_BRIDGE", "COHORT_TABLE", "CUSTOMER_SEGMENTS", "CUSTOMER_VALUE", "P_ALIVE"}

    def test_every_function_and_argument_has_chinese_and_english_help(self):
        def bilingual(text):
            has_chinese = any("\u4e00" <= ch <= "\u9fff" for ch in text)
            has_english = any(ch.isascii() and ch.isalpha() for ch in text)
            return has_chinese and has_english

        for function in metadata()["functions"]:
            assert bilingual(function["description"]), function["name"]
            for parameter in function["parameters"]:
                assert bilingual(parameter["description"]), (function["name"], parameter["name"])

    def test_optional_arguments(self):
        functions = {f["name"]: f for f in metadata()["functions"]}
        optional = {
            name: [p["name"] for p in f["parameters"] if p.get("optional")] for name, f in functions.items()
        }
        assert optional == {
            "RETENTION": [],
            "TXN_GROWTH": [],
            "REPEAT_TIER": ["high", "low", "language"],
            "PARETO_SHARE": ["amounts", "top_fraction"],
            "NPS": [],
            "SATISFACTION_INDEX": [],
            "CUSTOMER_BRIDGE": ["window", "language"],
            "COHORT_TABLE": ["measure", "language"],
            "CUSTOMER_SEGMENTS": ["as_of", "language", "window"],
            "CUSTOMER_VALUE": ["as_of", "months", "monthly_discount", "language"],
            "P_ALIVE": [],
        }

    def test_errors_may_be_passed_in(self):
        assert metadata()["allowErrorForDataTypeAny"] is True


REPORT_ONLY = ("openpyxl", "fastexcel", "jinja2", "lxml", "duckdb", "pyspark")
FIRST_CALL_ONLY = ("numpy", "pandas", "scipy", "pyarrow")  # the sales-list functions' packages
REPORT_MODULES = {"retention_xl.report", "retention_xl.workbook", "retention_xl.read.reader"}

_WHO_IMPORTS_WHAT = """
import builtins, json, sys
seen = []
original = builtins.__import__

def recording(name, globals=None, locals=None, fromlist=(), level=0):
    importer = (globals or {}).get("__name__", "")
    if importer.startswith("retention_xl") and level == 0:
        seen.append([importer, name])
    return original(name, globals, locals, fromlist, level)

def modules():
    return sorted(m for m in sys.modules if m.startswith("retention_xl"))

builtins.__import__ = recording
import retention_xl.udfs
on_import = {"imports": list(seen), "modules": modules()}
answer = retention_xl.udfs.CUSTOMER_BRIDGE([["a"], ["b"]], [[45292], [45330]], [[10], [20]], 1, "en")
builtins.__import__ = original
print(json.dumps({"on_import": on_import, "first_call": {"imports": seen, "modules": modules()}, "answer": answer}, default=str))
"""


def test_the_functions_import_no_report_only_package():
    """An import hook records what each retention_xl module imports on the functions' path: on import nothing
    beyond xlwings, on the first call of a sales-list function its packages but nothing of the report's."""
    completed = subprocess.run([sys.executable, "-c", _WHO_IMPORTS_WHAT], capture_output=True, text=True, check=True)
    record = json.loads(completed.stdout.strip().splitlines()[-1])
    on_import, first_call = record["on_import"], record["first_call"]
    assert on_import["imports"], "the hook saw no import at all"
    heavy = REPORT_ONLY + FIRST_CALL_ONLY
    assert [(who, name) for who, name in on_import["imports"] if name.split(".")[0] in heavy] == []
    assert "retention_xl.sales_functions" not in on_import["modules"]
    assert {name.split(".")[0] for _, name in first_call["imports"]} >= {"numpy", "pandas", "scipy"}
    assert [(who, name) for who, name in first_call["imports"] if name.split(".")[0] in REPORT_ONLY] == []
    assert not REPORT_MODULES & set(first_call["modules"])
    assert record["answer"][0][0] == "Month" and record["answer"][2][1:6] == [1, 1, 1, 0, 1]


class TestInputsNoFunctionCanAnswer:
    """Called from Python with what Excel never sends, each function still answers with an Excel error."""

    def test_an_integer_beyond_float_range(self):
        from retention_xl import udfs

        assert udfs.TXN_GROWTH(10**400, 1) == "#NUM!"
        assert udfs.RETENTION(10**400, 1, 1) == "#NUM!"
        assert udfs.PARETO_SHARE([[10**400], [1]]) == "#NUM!"

    def test_ragged_ranges(self):
        from retention_xl import udfs

        ragged = [[1, 2], [3]]
        assert udfs.RETENTION(ragged, 1, 1) == "#VALUE!"
        assert udfs.PARETO_SHARE(ragged) == "#VALUE!"
        assert udfs.REPEAT_TIER(ragged) == "#VALUE!"
        assert udfs.PARETO_SHARE([[]]) == "#VALUE!"

    def test_pareto_share_of_amounts_near_the_largest_float(self):
        amounts = [[1e308], [1e308], [1e308], [1e308], [1e308]]
        assert call_scalar("PARETO_SHARE", amounts) == pytest.approx(0.2)
