"""A name -> constructor registry, so that a model, PDE, strategy or augmentation is a name plus
its arguments. Adding one is one new file that calls ``REGISTRY.register("name")``."""

from __future__ import annotations

from typing import Callable, Generic, Iterator, TypeVar

from pde_lib.errors import ConfigError

T = TypeVar("T")


class Registry(Generic[T]):
    """A mapping from a lower-case name to a registered object (usually a class)."""

    def __init__(self, kind: str):
        self.kind = kind
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        def decorator(obj: T) -> T:
            if name in self._items:
                raise ValueError(f"{self.kind} {name!r} is registered twice")
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
