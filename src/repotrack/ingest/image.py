"""``load_image``: one distribution image (tar, img, qcow, iso) into the store as a package set.

Order of work (altrepo §4.2–§4.3, made atomic for readers):

1. refuse an image whose tag is already loaded for that date (unless ``force``);
2. read the image in user space into a work directory: its installed packages
   (rpmdb), its own os-release, and for ISO images the RPM headers and SquashFS
   images inside (``sources.images``); digest the whole file in one pass;
3. guess the branch: the repository snapshot of ``--branch`` (any depth of package
   set) holding most of the image's packages, the latest on ties; none at all
   rejects the image unless ``force`` or ``dry_run`` (ISO images: always);
4. every package must already be in the store (``PackageHash``), unless ``force``
   or ``dry_run``; orphaned-files metapackages are the loader's own and exempt;
5. with ``dry_run``, stop here and report;
6. repair what a killed earlier load left half-written (``journal``);
7. write any orphaned-files metapackages the store lacks, then the PackageSet rows
   and PackageSetName rows of the child nodes (``rpms``, one per SquashFS), then the
   default ``ImageStatus``/``ImageTagStatus`` rows when missing, and the root row
   LAST: until it exists no reader (and no ``ImagePackageSetName`` row, which the
   materialized view derives from it) sees the image.

A load killed before its root row is loaded again by the same command. Why the
repair and the journal: the child nodes and their members are recorded as pending
(``record_sets``) before they are written, as ``load repo`` does, so the rerun's
repair deletes those of the killed load; without it every killed load left its
nodes and members behind for good (no reader reaches them, but nothing removed
them, and ``db gc`` had to scan the tables to find them). A metapackage is written
like any package (journal, rows, ``PackageHash`` last) and only when the store
lacks it, so a rerun neither keeps a half-written one nor writes a whole one twice.
"""

from __future__ import annotations

import logging
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from repotrack.errors import ConflictError, InputError
from repotrack.ingest import tables
from repotrack.ingest.batch import RowBatcher
from repotrack.ingest.dedupe import known_hashes
from repotrack.ingest.image_meta import ImageMeta
from repotrack.ingest.journal import forget, record_sets, repair
from repotrack.ingest.pkgset import ZERO_UUID, PackageSetNode, node_row, snapshot_datetime
from repotrack.sources.images import InstalledPackage, image_digests, read_image
from repotrack.sources.images.checksums import CHUNK

if TYPE_CHECKING:
    from repotrack.ingest.image_iso import IsoReading
    from repotrack.ingest.repo import LoadProgress
    from repotrack.store import Store

__all__ = [
    "BranchMatch",
    "ChildSet",
    "ImageLoad",
    "ImageSummary",
    "child_kv",
    "guess_branch",
    "load_image",
    "rpms_child",
]

log = logging.getLogger(__name__)

#: End date of a default ImageStatus row (the original's).
STATUS_END = datetime(2099, 1, 1, tzinfo=UTC)
#: The root's digest keys; a reader puts them where the original's kv has them.
DIGEST_KEYS = ("md5_cs", "sha256_cs", "gost12_cs")
#: Missing packages named in the error before "and N more".
SHOW_MISSING = 5


@dataclass(frozen=True, slots=True)
class BranchMatch:
    """The repository snapshot that holds most of an image's packages."""

    branch: str
    date: datetime
    root: uuid.UUID
    matched: int


@dataclass(frozen=True, slots=True)
class ImageSummary:
    """What an image load did (or, with ``dry_run``, would do)."""

    tag: str
    date: str
    kind: str
    root_uuid: uuid.UUID | None
    packages: int
    unknown: int
    branch_match: BranchMatch | None
    dry_run: bool
    seconds: float

    def as_dict(self) -> dict[str, object]:
        """The plain form a service job reports (``line`` is what the CLI prints)."""
        match = self.branch_match
        return {
            "branch": self.tag.split(":", 1)[0],
            "date": self.date,
            "tag": self.tag,
            "kind": self.kind,
            "root_uuid": str(self.root_uuid) if self.root_uuid else "",
            "packages": self.packages,
            "unknown": self.unknown,
            "base": (
                {
                    "branch": match.branch,
                    "date": match.date.date().isoformat(),
                    "matched": match.matched,
                }
                if match
                else None
            ),
            "dry_run": self.dry_run,
            "seconds": round(self.seconds, 3),
            "line": self.line(),
        }

    def line(self) -> str:
        match = self.branch_match
        base = (
            f"{match.branch} {match.date.date().isoformat()} ({match.matched} matched)"
            if match
            else "no branch snapshot matched"
        )
        action = "checked (dry run)" if self.dry_run else "loaded"
        return (
            f"{self.tag} {self.date}: {action}, {self.packages} packages "
            f"({self.unknown} not in the store), base {base}, {self.seconds:.1f} s"
        )


@dataclass(slots=True)
class ChildSet:
    """A depth-1 node of an image: ``rpms`` or one SquashFS image of an ISO."""

    name: str
    hashes: list[int]
    kv: dict[str, str]
    exempt: set[int] = field(default_factory=set)
    names: dict[int, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class ImageLoad:
    """The arguments of one image load, as every face receives them.

    ``as_dict`` is the plain form a REST body carries (``POST /api/v1/loads``, kind
    ``image`` or ``iso``): the CLI runs the load here, or hands it to the service,
    whose job runner calls ``run`` with its progress.
    """

    path: Path
    meta: ImageMeta
    force: bool = False
    dry_run: bool = False

    def as_dict(self) -> dict[str, object]:
        meta = self.meta.kv()
        major, minor, sub = self.meta.version
        meta["version"] = f"{major}.{minor}.{sub}"
        meta["date"] = self.meta.date.isoformat()
        for key in ("version_major", "version_minor", "version_sub"):
            meta.pop(key)
        return {
            "kind": "iso" if self.meta.image_type == "iso" else "image",
            "path": str(self.path),
            **meta,
            "force": self.force,
            "dry_run": self.dry_run,
        }

    @classmethod
    def from_dict(cls, body: Mapping[str, object]) -> ImageLoad:
        """Back from ``as_dict`` (a REST body), checking every value as the CLI does.

        ``file`` (the name stored in the root's kv) defaults to the path's last part.
        """

        def need(key: str) -> str:
            value = body.get(key)
            if value is None:
                raise InputError("is required for an image load", field=key)
            return str(value)

        path = Path(need("path"))
        kind = str(body.get("kind") or "image")
        meta = ImageMeta.build(
            file=str(body.get("file") or path.name),
            edition=need("edition"),
            version=need("version"),
            release=need("release"),
            platform=str(body.get("platform") or ""),
            variant=need("variant"),
            flavor=str(body.get("flavor") or ""),
            arch=need("arch"),
            branch=need("branch"),
            date=need("date"),
            url=need("url"),
            image_type="iso" if kind == "iso" else need("image_type"),
        )
        return cls(
            path=path, meta=meta, force=bool(body.get("force")), dry_run=bool(body.get("dry_run"))
        )

    @property
    def branch(self) -> str:
        return self.meta.branch

    def run(self, store: Store, progress: LoadProgress | None = None) -> ImageSummary:
        return load_image(
            store,
            path=self.path,
            meta=self.meta,
            force=self.force,
            dry_run=self.dry_run,
            progress=progress,
        )


def load_image(
    store: Store,
    *,
    path: Path,
    meta: ImageMeta,
    force: bool = False,
    dry_run: bool = False,
    workdir: Path | None = None,
    progress: LoadProgress | None = None,
) -> ImageSummary:
    """Load the image at ``path`` described by ``meta``; see the module docstring for the order.

    ``progress`` (a service job's) counts the MiB of the digest pass, plus one step
    just before anything is written: where a job asked to stop raises, with nothing
    stored.

    Raises ConflictError when the tag and date are loaded (without ``force``),
    InputError naming the image for an unreadable image, an unmatched branch or
    packages the store does not hold.
    """
    started = time.monotonic()
    path = Path(path)
    if not force:
        _check_not_loaded(store, meta)
    if not path.is_file():
        raise InputError("no such image file", path=str(path))
    log.info("image load started", extra={"image": str(path), "tag": meta.tag})
    with tempfile.TemporaryDirectory(prefix="repotrack-image-", dir=workdir) as tmp:
        children, extra_kv, iso = _read(path, meta, Path(tmp), store)
    step = None
    if progress is not None:
        progress.start(total=-(-path.stat().st_size // CHUNK) + 1)
        step = lambda: progress.advance(new=False)  # noqa: E731 - bound to this load
    digests = image_digests(path, step)
    all_hashes = sorted({h for child in children for h in child.hashes})
    exempt = {h for child in children for h in child.exempt}
    match = guess_branch(store, branch=meta.branch, hashes=all_hashes)
    if match is None and (meta.image_type == "iso" or not (force or dry_run)):
        raise InputError(
            f"no snapshot of branch {meta.branch!r} holds any of its {len(all_hashes)} packages",
            path=str(path),
        )
    missing = [h for h in all_hashes if h not in exempt]
    unknown = sorted(set(missing) - known_hashes(store, missing))
    if unknown and not (force or dry_run):
        raise InputError(_missing_message(unknown, children), path=str(path))
    if step is not None:
        step()  # the last point to stop before writing
    root: uuid.UUID | None = None
    if not dry_run:
        repair(store)
        if iso is not None:
            iso.write_metapackages(store)
        kv = _root_kv(meta, size=digests.size, extra=extra_kv)
        kv.update({"md5_cs": digests.md5, "sha256_cs": digests.sha256, "gost12_cs": digests.gost12})
        root = _publish(store, meta, children, kv)
    summary = ImageSummary(
        tag=meta.tag,
        date=meta.date.isoformat(),
        kind=meta.image_type,
        root_uuid=root,
        packages=len(all_hashes),
        unknown=len(unknown),
        branch_match=match,
        dry_run=dry_run,
        seconds=time.monotonic() - started,
    )
    log.info("image load done", extra={"tag": meta.tag, "summary": summary.line()})
    return summary


# -- reading -------------------------------------------------------------------------------
def _read(
    path: Path, meta: ImageMeta, workdir: Path, store: Store
) -> tuple[list[ChildSet], dict[str, str], IsoReading | None]:
    if meta.image_type == "iso":
        from repotrack.ingest.image_iso import read_iso_image

        iso = read_iso_image(store, path=path, meta=meta, workdir=workdir)
        return iso.children, iso.kv, iso
    contents = read_image(path, meta.image_type, workdir)
    # The original's order: mtime, the digests (filled in later), osrelease.
    kv = {"mtime": mtime_text(path.stat().st_mtime), **dict.fromkeys(DIGEST_KEYS, "")}
    kv["osrelease"] = contents.os_release_text
    return [rpms_child(contents.packages, meta)], kv, None


def rpms_child(packages: list[InstalledPackage], meta: ImageMeta) -> ChildSet:
    """The ``rpms`` node: the image's installed (or shipped) packages."""
    return ChildSet(
        name="rpms",
        hashes=[p.pkg_hash for p in packages],
        kv=child_kv("rpms", len({p.pkg_hash for p in packages}), meta),
        names={p.pkg_hash: p.nevra for p in packages},
    )


def mtime_text(mtime: float) -> str:
    """A file's mtime as the original stores it: whole seconds, ISO 8601 in UTC."""
    return datetime.fromtimestamp(int(mtime), UTC).isoformat()


def _missing_message(unknown: list[int], children: list[ChildSet]) -> str:
    known_names = {h: n for child in children for h, n in child.names.items()}
    names = [known_names.get(h, str(h)) for h in unknown]
    shown = ", ".join(names[:SHOW_MISSING])
    more = f" and {len(names) - SHOW_MISSING} more" if len(names) > SHOW_MISSING else ""
    return (
        f"{len(unknown)} packages are not in the store ({shown}{more}); load their "
        "repository first, or use --force"
    )


# -- validation ----------------------------------------------------------------------------
def _check_not_loaded(store: Store, meta: ImageMeta) -> None:
    rows = store.query(
        "SELECT count() FROM PackageSetName WHERE pkgset_depth = 0 "
        "AND pkgset_tag = {tag:String} AND pkgset_date = {day:DateTime}",
        {"tag": meta.tag, "day": snapshot_datetime(meta.date)},
    )
    if rows and int(rows[0][0]):
        raise ConflictError(
            f"image {meta.tag} of {meta.date.isoformat()} is already loaded "
            "(use --force to load it again)"
        )


def guess_branch(store: Store, *, branch: str, hashes: list[int]) -> BranchMatch | None:
    """The snapshot of ``branch`` whose package sets (any depth) hold most of ``hashes``.

    Ties go to the latest date. The best snapshot of any branch is logged too, as the
    original does, to help spot an image declared with the wrong ``--branch``.
    """
    if not hashes:
        return None
    rows = store.query(
        "SELECT r.pkgset_uuid, r.pkgset_nodename, r.pkgset_date, uniqExact(ps.pkg_hash) AS n "
        "FROM (SELECT pkgset_uuid, pkg_hash FROM PackageSet_buffer "
        "  WHERE pkg_hash IN {h:Array(UInt64)}) AS ps "
        "INNER JOIN (SELECT pkgset_uuid, pkgset_ruuid FROM PackageSetName) AS node "
        "ON node.pkgset_uuid = ps.pkgset_uuid "
        "INNER JOIN (SELECT pkgset_uuid, pkgset_nodename, pkgset_date FROM PackageSetName "
        "  WHERE pkgset_depth = 0 "
        "  AND pkgset_kv.v[indexOf(pkgset_kv.k, 'class')] = 'repository') AS r "
        "ON r.pkgset_uuid = node.pkgset_ruuid "
        "GROUP BY r.pkgset_uuid, r.pkgset_nodename, r.pkgset_date "
        "ORDER BY n DESC, r.pkgset_date DESC",
        {"h": hashes},
    )
    if rows:
        best = rows[0]
        log.info(
            "best matching branch snapshot",
            extra={"branch": best[1], "date": str(best[2]), "matched": int(best[3])},
        )
    for root, name, day, matched in rows:
        if name == branch:
            return BranchMatch(branch=name, date=day, root=root, matched=int(matched))
    return None


# -- writing -------------------------------------------------------------------------------
def child_kv(kind: str, size: int, meta: ImageMeta) -> dict[str, str]:
    return {"type": kind, "size": str(size), "class": meta.image_type, "branch": meta.branch}


def _root_kv(meta: ImageMeta, *, size: int, extra: dict[str, str]) -> dict[str, str]:
    """The root's kv in the original's order: ``type`` is the image type, as ``class``."""
    kv = {
        "type": meta.image_type,
        "size": str(size),
        "class": meta.image_type,
        "branch": meta.branch,
    }
    kv.update(extra)
    kv.update(meta.kv())
    return kv


def _publish(
    store: Store, meta: ImageMeta, children: list[ChildSet], kv: dict[str, str]
) -> uuid.UUID:
    root = uuid.uuid4()
    batcher = RowBatcher(store)
    ids = [uuid.uuid4() for _ in children]
    record_sets(store, batcher.load_id, batcher.started, root, ids)  # a killed load's: repaired
    nodes = []
    for child, node in zip(children, ids, strict=True):
        batcher.add_members(node, sorted(set(child.hashes)))
        nodes.append(
            PackageSetNode(
                node_id=node,
                parent=root,
                root=root,
                depth=1,
                name=child.name,
                kv=child.kv,
                complete=1,
            )
        )
    batcher.flush()
    columns = tables.PACKAGE_SET_NAME_COLUMNS
    store.insert(
        tables.PACKAGE_SET_NAME, columns, [node_row(n, day=meta.date, tag=meta.tag) for n in nodes]
    )
    _ensure_status(store, meta)
    top = PackageSetNode(
        node_id=root, parent=ZERO_UUID, root=root, depth=0, name=meta.edition, kv=kv, complete=1
    )
    store.insert(tables.PACKAGE_SET_NAME, columns, [node_row(top, day=meta.date, tag=meta.tag)])
    forget(store, batcher.load_id)  # published
    return root


def _ensure_status(store: Store, meta: ImageMeta) -> None:
    """Default ImageStatus / ImageTagStatus rows (hidden) when none exist (altrepo §4.3)."""
    have = store.query(
        "SELECT count() FROM ImageStatus "
        "WHERE img_branch = {b:String} AND img_edition = {e:String}",
        {"b": meta.branch, "e": meta.edition},
    )
    if not int(have[0][0]):
        major, minor, _sub = meta.version
        summary = f"{meta.branch} {meta.edition}"
        store.insert(
            "ImageStatus",
            (
                "img_branch",
                "img_edition",
                "img_name",
                "img_show",
                "img_start_date",
                "img_end_date",
                "img_summary_ru",
                "img_summary_en",
                "img_description_ru",
                "img_description_en",
                "img_mailing_list",
                "img_name_bugzilla",
                "img_json",
            ),
            [
                (
                    meta.branch,
                    meta.edition,
                    f"{meta.edition.upper()} {major}.{minor} {meta.arch}",
                    "hide",
                    datetime.now(UTC).replace(microsecond=0),
                    STATUS_END,
                    summary,
                    summary,
                    "",
                    "",
                    "",
                    "",
                    "{}",
                )
            ],
        )
    tagged = store.query(
        "SELECT count() FROM ImageTagStatus WHERE img_tag = {t:String}", {"t": meta.tag}
    )
    if not int(tagged[0][0]):
        store.insert("ImageTagStatus", ("img_tag", "img_show"), [(meta.tag, "hide")])
