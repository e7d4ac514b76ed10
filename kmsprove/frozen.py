"""Read-only mappings in frozen values that still cross process boundaries.

`types.MappingProxyType` keeps a `World` or a `Context` from being changed, but it
does not pickle, and estate runs send worlds to worker processes (and, with Dask, to
other hosts). `Picklable` gives a frozen dataclass a `__reduce__` that rebuilds its
read-only mappings on the other side.
"""

from __future__ import annotations

import dataclasses
import types
from typing import Any


def _rebuild(cls: type[Any], plain: dict[str, Any], proxied: dict[str, dict[Any, Any]]) -> Any:
    return cls(**plain, **{k: types.MappingProxyType(v) for k, v in proxied.items()})


class Picklable:
    """Mixin for frozen dataclasses whose fields hold `MappingProxyType`s."""

    __slots__ = ()

    def __reduce__(self) -> tuple[Any, ...]:
        plain: dict[str, Any] = {}
        proxied: dict[str, dict[Any, Any]] = {}
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            if not f.init:
                continue
            value = getattr(self, f.name)
            if isinstance(value, types.MappingProxyType):
                proxied[f.name] = dict(value)
            else:
                plain[f.name] = value
        return (_rebuild, (type(self), plain, proxied))
