"""A name -> constructor registry, so that a model, PDE, strategy or augmentation is a name plus
its arguments. Adding one is one new file that calls ``REGISTRY.register("name")``."""

from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

from pde_lib.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """A mapping from a lower-case name to a registered object (usually a class)."""

    def __init__(self, kind: str, allowed: tuple[str, ...] | None = None, allowed_where: str = ""):
        """``allowed``: the only names that may register (a lower layer's fixed list, e.g. the PDE
        names a data file can hold); ``allowed_where`` says where that list is defined."""
        self.kind = kind
        self.allowed, self.allowed_where = allowed, allowed_where
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
            if self.allowed is not None and name not in self.allowed:
                raise ValueError(f"{self.kind} {name!r} is not one of {', '.join(self.allowed)}; "
                                 f"add it to {self.allowed_where or 'the allowed names'} first")
            self._items[name] = obj
            return obj

        return decorator

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise ConfigError(
                f"unknown {self.kind} {name!r}; valid {self.kind} names: {', '.join(self.names())}"
            ) from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())
