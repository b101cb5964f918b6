"""Comparing reports made by different engines: equal, but money and fitted values only to a tolerance.

Parallel engines add floats in another order, so sums differ far below a cent; model
parameters fitted to them differ in the last digits.
"""

import math


def assert_close(left, right, where: str = "", rel: float = 1e-9, money: float = 0.01 + 1e-9) -> None:
    """``left`` equals ``right``: dicts and lists element by element, floats within ``rel`` or ``money``
    (a cent: a value rounded to cents may fall either side of a half cent)."""
    if isinstance(left, dict):
        assert isinstance(right, dict) and left.keys() == right.keys(), (where, set(left) ^ set(right))
        for key in left:
            assert_close(left[key], right[key], f"{where}.{key}", rel, money)
    elif isinstance(left, list):
        assert isinstance(right, list) and len(left) == len(right), where
        for index, (a, b) in enumerate(zip(left, right)):
            assert_close(a, b, f"{where}[{index}]", rel, money)
    elif isinstance(left, float) and isinstance(right, (int, float)):
        assert math.isclose(left, right, rel_tol=rel, abs_tol=money), (where, left, right)
    else:
        assert left == right, (where, left, right)
