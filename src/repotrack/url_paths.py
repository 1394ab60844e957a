"""A local path written into a URL (``sqlite:///``, ``chdb://``) so that it reads back as
the same path.

URL parsers (``urllib``, SQLAlchemy's) take ``%XX`` as an escape, ``?`` as the start of
a query and ``#`` as the start of a fragment, so those three are escaped; every other
character (spaces, quotes, Cyrillic) stays as it is, readable in messages. Before
2026-12-07 the default URLs held the home's path as it was, and a home named
``p%41th`` had its store and state database made in ``pAth``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

__all__ = ["url_path"]

_ESCAPES: Final = str.maketrans({"%": "%25", "?": "%3F", "#": "%23"})


def url_path(path: Path | str) -> str:
    """``path`` as the path part of a URL; unquoting it gives ``path`` back."""
    return str(path).translate(_ESCAPES)
