"""Validated parameters as nested attribute dicts, and back to plain YAML/JSON-safe values.

``attr_dict(obj)``: dicts (recursively) become ``AttrDict`` (``params.grid.seeds``);
``to_plain(obj)``: AttrDicts become dicts and fractions become "a/b" strings (or ints)."""

from __future__ import annotations

from fractions import Fraction
from typing import Any


class AttrDict(dict):
    """A dict whose keys are also attributes (``params.grid.seeds``)."""

    def __getattr__(self, key: str) -> Any:
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None


def attr_dict(obj: Any) -> Any:
    """``obj`` with every dict (recursively, also inside lists) turned into an ``AttrDict``."""
    if isinstance(obj, dict):
        return AttrDict({k: attr_dict(v) for k, v in obj.items()})
    if isinstance(obj, list):
        return [attr_dict(v) for v in obj]
    return obj


def to_plain(obj: Any) -> Any:
    """``obj`` as plain dicts / lists / scalars; a Fraction becomes "a/b" (an int if whole)."""
    if isinstance(obj, dict):
        return {k: to_plain(v) for k, v in obj.items()}
    if isinstance(obj, list):
        return [to_plain(v) for v in obj]
    if isinstance(obj, Fraction):
        return str(obj) if obj.denominator != 1 else int(obj)
    return obj
