"""ISO images: placeholder until the ISO 9660 and SquashFS readers land."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from repotrack.errors import InputError

if TYPE_CHECKING:
    from repotrack.ingest.image import ChildSet
    from repotrack.ingest.image_meta import ImageMeta
    from repotrack.store import Store

__all__ = ["IsoReading", "read_iso_image"]


@dataclass(slots=True)
class IsoReading:
    children: list[ChildSet] = field(default_factory=list)
    kv: dict[str, str] = field(default_factory=dict)

    def write_metapackages(self, store: Store) -> None:
        return None


def read_iso_image(store: Store, *, path: Path, meta: ImageMeta, workdir: Path) -> IsoReading:
    raise InputError("ISO images are not supported yet", path=str(path))
