"""A tiny declarative schema for YAML parameter files.

Each ``Spec`` checks one value and returns it normalised; an error raises ``ConfigError`` naming
the file, the YAML path of the key (``grid.strategies[2]``) and what was expected. Unknown keys
name the valid ones with a did-you-mean suggestion; unknown registry names list the valid names."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Callable

from pde_lib.errors import ConfigError

_MISSING = object()


class SchemaError(ConfigError):
    """A ConfigError that knows the YAML path at fault (the loader adds the file name)."""

    def __init__(self, path: str, message: str):
        self.path, self.detail = path, message
        super().__init__(f"{path or '<top level>'}: {message}")


def did_you_mean(word: str, choices) -> str:
    close = difflib.get_close_matches(str(word), [str(c) for c in choices], n=1, cutoff=0.6)
    return f" (did you mean {close[0]!r}?)" if close else ""


def _type_name(value: Any) -> str:
    return "null" if value is None else type(value).__name__


def join(path: str, key: str | int) -> str:
    if isinstance(key, int):
        return f"{path}[{key}]"
    return f"{path}.{key}" if path else str(key)


class Spec:
    def check(self, value: Any, path: str) -> Any:  # pragma: no cover - interface
        raise NotImplementedError


@dataclass
class Int(Spec):
    min: int | None = None
    max: int | None = None

    def check(self, value, path):
        if isinstance(value, bool) or not isinstance(value, int):
            raise SchemaError(path, f"expected an integer{self._range()}, got {value!r} ({_type_name(value)})")
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise SchemaError(path, f"expected an integer{self._range()}, got {value}")
        return int(value)

    def _range(self) -> str:
        if self.min is not None and self.max is not None:
            return f" in [{self.min}, {self.max}]"
        if self.min is not None:
            return f" >= {self.min}"
        return f" <= {self.max}" if self.max is not None else ""


@dataclass
class Float(Spec):
    min: float | None = None
    max: float | None = None
    exclusive_min: bool = False

    def check(self, value, path):
        if isinstance(value, str):  # YAML 1.1 reads "1e-3" as a string
            try:
                value = float(value)
            except ValueError:
                pass
        if isinstance(value, bool) or not isinstance(value, (int, float)) or value != value:
            raise SchemaError(path, f"expected a number{self._range()}, got {value!r} ({_type_name(value)})")
        low_bad = self.min is not None and (value <= self.min if self.exclusive_min else value < self.min)
        if low_bad or (self.max is not None and value > self.max):
            raise SchemaError(path, f"expected a number{self._range()}, got {value}")
        return float(value)

    def _range(self) -> str:
        lo = "(" if self.exclusive_min else "["
        if self.min is not None and self.max is not None:
            return f" in {lo}{self.min}, {self.max}]"
        if self.min is not None:
            return f" {'>' if self.exclusive_min else '>='} {self.min}"
        return f" <= {self.max}" if self.max is not None else ""


@dataclass
class FractionSpec(Spec):
    """A fraction in (0, 1]: a number or a string "a/b" (kept exact, e.g. "1/9")."""

    def check(self, value, path):
        try:
            if isinstance(value, bool):
                raise ValueError
            frac = Fraction(str(value)) if isinstance(value, str) else Fraction(value).limit_denominator(1000)
        except (ValueError, TypeError, ZeroDivisionError):
            raise SchemaError(path, f"expected a fraction in (0, 1] such as 0.5 or \"1/9\", got {value!r}") from None
        if not 0 < frac <= 1:
            raise SchemaError(path, f"expected a fraction in (0, 1], got {value!r}")
        return frac


@dataclass
class Bool(Spec):
    def check(self, value, path):
        if not isinstance(value, bool):
            raise SchemaError(path, f"expected true or false, got {value!r} ({_type_name(value)})")
        return value


@dataclass
class Str(Spec):
    choices: tuple[str, ...] | None = None

    def check(self, value, path):
        if not isinstance(value, str):
            raise SchemaError(path, f"expected a string, got {value!r} ({_type_name(value)})")
        if self.choices is not None and value not in self.choices:
            raise SchemaError(path, f"unknown value {value!r}{did_you_mean(value, self.choices)}; "
                                    f"valid values: {', '.join(self.choices)}")
        return value


@dataclass
class Name(Spec):
    """A name in a registry: ``Name(PDES, "PDE")``; ``extra`` names are accepted too. The
    registry is passed in (the study schema imports the registries; this module stays generic)."""

    registry: Any
    kind: str
    extra: tuple[str, ...] = ()

    def names(self) -> list[str]:
        return sorted(set(self.registry.names()) | set(self.extra))

    def check(self, value, path):
        if not isinstance(value, str):
            raise SchemaError(path, f"expected a {self.kind} name, got {value!r} ({_type_name(value)})")
        valid = self.names()
        if value not in valid:
            raise SchemaError(path, f"unknown {self.kind} {value!r}{did_you_mean(value, valid)}; "
                                    f"valid {self.kind} names: {', '.join(valid)}")
        return value


@dataclass
class Anything(Spec):
    """Any YAML value (model keyword arguments are checked by ``build_model``)."""

    def check(self, value, path):
        return value


@dataclass
class Optional(Spec):
    inner: Spec

    def check(self, value, path):
        return None if value is None else self.inner.check(value, path)


@dataclass
class List(Spec):
    item: Spec
    min_len: int = 0
    unique: bool = False

    def check(self, value, path):
        if not isinstance(value, list):
            raise SchemaError(path, f"expected a list, got {value!r} ({_type_name(value)})")
        if len(value) < self.min_len:
            raise SchemaError(path, f"expected a list of at least {self.min_len} item(s), got {len(value)}")
        out = [self.item.check(v, join(path, i)) for i, v in enumerate(value)]
        if self.unique:
            seen = set()
            for i, v in enumerate(out):
                key = repr(v)
                if key in seen:
                    raise SchemaError(join(path, i), f"duplicate entry {value[i]!r}")
                seen.add(key)
        return out


@dataclass
class Mapping(Spec):
    """A mapping with free keys (checked by ``key``) and values checked by ``value``."""

    key: Spec
    value: Spec
    min_len: int = 0

    def check(self, value, path):
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise SchemaError(path, f"expected a mapping, got {value!r} ({_type_name(value)})")
        if len(value) < self.min_len:
            raise SchemaError(path, f"expected at least {self.min_len} entr{'y' if self.min_len == 1 else 'ies'}")
        return {self.key.check(k, join(path, str(k))): self.value.check(v, join(path, str(k)))
                for k, v in value.items()}


@dataclass
class Section(Spec):
    """A mapping with fixed keys: ``fields`` maps key -> (Spec, default). ``_MISSING`` = required."""

    fields: dict[str, tuple[Spec, Any]]
    post: Callable[[dict, str], None] | None = field(default=None)

    def check(self, value, path):
        if value is None:
            value = {}
        if not isinstance(value, dict):
            raise SchemaError(path, f"expected a mapping with keys {', '.join(self.fields)}, "
                                    f"got {value!r} ({_type_name(value)})")
        for key in value:
            if key not in self.fields:
                raise SchemaError(join(path, str(key)),
                                  f"unknown key {key!r}{did_you_mean(key, self.fields)}; "
                                  f"valid keys: {', '.join(self.fields)}")
        out = {}
        for key, (spec, default) in self.fields.items():
            if key in value:
                out[key] = spec.check(value[key], join(path, key))
            elif default is _MISSING:
                raise SchemaError(join(path, key), f"missing required key {key!r}")
            else:
                out[key] = spec.check(default() if callable(default) else default, join(path, key))
        if self.post is not None:
            self.post(out, path)
        return out


REQUIRED = _MISSING
