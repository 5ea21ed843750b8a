"""Python source from small Jinja templates, with every value as a Python literal.

The environment has `StrictUndefined` and no autoescape, and its `finalize` refuses any
expression that did not go through the `py` filter: a user string can only reach the
generated file as a `repr`, never as raw text.
"""

from __future__ import annotations

import math
from typing import Any

import jinja2


class PyLiteral(str):
    """Text that is already a Python literal."""


def py_literal(value: Any) -> PyLiteral:
    """`repr` of plain data (None, bool, int, finite float, str, list, tuple, dict)."""
    _check_plain(value)
    return PyLiteral(repr(value))


def _check_plain(value: Any) -> None:
    if value is None or isinstance(value, bool | int | str):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise ValueError(f"no Python literal for {value!r}")
        return
    if isinstance(value, list | tuple):
        for item in value:
            _check_plain(item)
        return
    if isinstance(value, dict):
        for key, item in value.items():
            _check_plain(key)
            _check_plain(item)
        return
    raise TypeError(f"not plain data: {type(value).__name__}")


def _finalize(value: Any) -> Any:
    if not isinstance(value, PyLiteral):
        raise TypeError(f"template value not passed through `py`: {value!r}")
    return value


def environment(package: str) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.PackageLoader(package, "templates"),
        undefined=jinja2.StrictUndefined,
        autoescape=False,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        finalize=_finalize,
    )
    env.filters["py"] = py_literal
    return env


def render(package: str, template: str, **context: Any) -> str:
    return environment(package).get_template(template).render(**context)
