"""Package names imported from their submodules on first use (a module ``__getattr__``).

Why: some packages re-export names whose modules are costly to import (the HTTP
client, git, the store's read queries), and most commands need none of them. A
package lists where each such name lives and gets its ``__getattr__`` from here; the
first access imports the submodule and keeps the value in the package's namespace, so
later accesses are plain attribute reads. Type checkers see the names through the
package's ``if TYPE_CHECKING:`` imports.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["lazy_getattr"]


def lazy_getattr(
    package: str, where: Mapping[str, str], namespace: dict[str, Any]
) -> Callable[[str], Any]:
    """The ``__getattr__`` of ``package``: ``where`` maps each lazy name to its submodule
    (relative to the package), ``namespace`` is the package's ``globals()``."""

    def lazy_attribute(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(f"{package}.{module}"), name)
        namespace[name] = value
        return value

    return lazy_attribute
