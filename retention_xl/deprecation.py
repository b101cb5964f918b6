"""Old keywords kept working for one release: :func:`folded_keywords` warns and folds them into the new form."""

from __future__ import annotations

import functools
import inspect
import warnings
from collections.abc import Callable

REMOVED_IN = "0.3.0"


def folded_keywords(old_names: tuple[str, ...], fold: Callable[[dict, dict], dict], instead: str):
    """A decorator: a call that gives any keyword of ``old_names`` warns (``DeprecationWarning``) and is made
    with ``fold(old keywords, the call's other arguments by name)`` instead, which returns the arguments by
    name; ``instead`` says what to write now.

    >>> @folded_keywords(("name",), lambda old, new: new | {"names": [old["name"]]}, "names=[...]")
    ... def greet(*, names=()):
    ...     return ", ".join(names)
    >>> import warnings
    >>> with warnings.catch_warnings(record=True) as caught:
    ...     warnings.simplefilter("always")
    ...     greet(name="Ana"), str(caught[0].message)
    ('Ana', 'greet(name=...) is deprecated and goes in 0.3.0: write names=[...]')
    """
    def decorator(function):
        @functools.wraps(function)
        def wrapper(*args, **keywords):
            old = {name: keywords.pop(name) for name in old_names if name in keywords}
            if not old:
                return function(*args, **keywords)
            given = ", ".join(f"{name}=..." for name in old)
            warnings.warn(f"{function.__name__}({given}) is deprecated and goes in {REMOVED_IN}: write {instead}",
                          DeprecationWarning, stacklevel=2)
            arguments = inspect.signature(function).bind_partial(*args, **keywords).arguments
            return function(**fold(old, dict(arguments)))

        return wrapper

    return decorator
