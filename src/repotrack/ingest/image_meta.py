"""What a user says about an image (altrepo §4.1): validated values, and the image tag.

The values and their checks are the original loaders': closed lists for edition,
release, platform, variant, arch and (image_loader only) type; ``--version`` as
``N``, ``N.N`` or ``N.N.N``; a ``YYYY-MM-DD`` date; a URL. The messages are the
original's (``Not a valid date: '...'.``, ``Failed to parse version: '...'.``, ``Not a
valid URL``, argparse's ``invalid choice``), so scripts that matched them still do.
The tag joins them as ``branch:edition:flavor:platform:release.major.minor.sub:arch:variant:type``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time

from repotrack.errors import InputError

__all__ = [
    "ARCHS",
    "EDITIONS",
    "IMAGE_TYPES",
    "ISO_EDITIONS",
    "ISO_PLATFORMS",
    "PLATFORMS",
    "RELEASES",
    "VARIANTS",
    "ImageMeta",
    "parse_image_date",
    "parse_version",
    "validate_url",
]

ARCHS = ("i586", "x86_64", "aarch64", "ppc64le")
VARIANTS = ("install", "live", "rescue")
RELEASES = ("alpha", "beta", "rc", "release")
EDITIONS = (
    "alt-server",
    "alt-server-v",
    "alt-education",
    "alt-workstation",
    "alt-kworkstation",
    "slinux",
    "cloud",
)
ISO_EDITIONS = tuple(e for e in EDITIONS if e != "cloud")
PLATFORMS = ("", "rpi4", "tegra", "baikalm", "tavolga", "bfk3", "mcom02", "hifive", "qemu")
ISO_PLATFORMS = ("", "baikalm")
IMAGE_TYPES = ("tar", "img", "qcow")

# scheme://host[:port][/path][?query][#fragment]; no spaces anywhere.
_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]{1,15}://[A-Za-z0-9._~%!$&'()*+,;=:@-]+(/\S*)?$")


def _choice(value: str, choices: tuple[str, ...], option: str) -> str:
    if value not in choices:
        listed = ", ".join(repr(c) for c in choices)
        raise InputError(f"invalid choice: {value!r} (choose from {listed})", field=option)
    return value


def parse_version(value: str) -> tuple[int, int, int]:
    """``N``, ``N.N`` or ``N.N.N`` -> (major, minor, sub)."""
    parts = value.strip().split(".")
    if not 1 <= len(parts) <= 3 or not all(p.isdigit() and p.isascii() for p in parts):
        raise InputError(f"Failed to parse version: '{value}'.", field="--version")
    numbers = [int(p) for p in parts] + [0] * (3 - len(parts))
    if any(n > 0xFFFFFFFF for n in numbers):
        raise InputError(f"Failed to parse version: '{value}'.", field="--version")
    return numbers[0], numbers[1], numbers[2]


def parse_image_date(value: str) -> date:
    try:
        if len(value) != 10:
            raise ValueError(value)
        return date.fromisoformat(value)
    except ValueError:
        raise InputError(f"Not a valid date: '{value}'.", field="--date") from None


def validate_url(value: str) -> str:
    if not _URL.match(value):
        raise InputError("Not a valid URL", field="--url")
    return value


@dataclass(frozen=True, slots=True)
class ImageMeta:
    """The validated description of one image; ``image_type`` is tar, img, qcow or iso."""

    file: str
    edition: str
    version: tuple[int, int, int]
    release: str
    platform: str
    variant: str
    flavor: str
    arch: str
    branch: str
    date: date
    url: str
    image_type: str

    @classmethod
    def build(
        cls,
        *,
        file: str,
        edition: str,
        version: str,
        release: str,
        platform: str,
        variant: str,
        flavor: str,
        arch: str,
        branch: str,
        date: str,
        url: str,
        image_type: str,
    ) -> ImageMeta:
        """Check every value as the original's options do; raises InputError naming the option."""
        iso = image_type == "iso"
        _choice(image_type, (*IMAGE_TYPES, "iso"), "--type")
        _choice(edition, ISO_EDITIONS if iso else EDITIONS, "--edition")
        _choice(release, RELEASES, "--release")
        _choice(platform, ISO_PLATFORMS if iso else PLATFORMS, "--platform")
        _choice(variant, VARIANTS, "--variant")
        _choice(arch, ARCHS, "--arch")
        if iso and flavor != "":
            raise InputError("must be empty for ISO images", field="--flavor")
        if any(c == ":" or c.isspace() for c in flavor):
            raise InputError("must not contain ':' or spaces", field="--flavor")
        name = branch.strip().lower()  # as repository loads store branch names
        if not name or any(c == ":" or c.isspace() or c in "/\\" for c in name):
            raise InputError(f"bad branch name {branch!r}", field="--branch")
        return cls(
            file=file,
            edition=edition,
            version=parse_version(version),
            release=release,
            platform=platform,
            variant=variant,
            flavor=flavor,
            arch=arch,
            branch=name,
            date=parse_image_date(date),
            url=validate_url(url),
            image_type=image_type,
        )

    @property
    def tag(self) -> str:
        major, minor, sub = self.version
        return ":".join(
            (
                self.branch,
                self.edition,
                self.flavor,
                self.platform,
                f"{self.release}.{major}.{minor}.{sub}",
                self.arch,
                self.variant,
                self.image_type,
            )
        )

    def kv(self) -> dict[str, str]:
        """The stringified metadata, as the original adds it to the root's kv.

        ``date`` is the original's ``datetime.isoformat()`` (``2024-05-02T00:00:00``): its
        ``--date`` was parsed to a midnight datetime.
        """
        major, minor, sub = self.version
        return {
            "url": self.url,
            "arch": self.arch,
            "date": datetime.combine(self.date, time()).isoformat(),
            "file": self.file,
            "branch": self.branch,
            "flavor": self.flavor,
            "edition": self.edition,
            "variant": self.variant,
            "platform": self.platform,
            "release": self.release,
            "version_major": str(major),
            "version_minor": str(minor),
            "version_sub": str(sub),
            "image_type": self.image_type,
        }
