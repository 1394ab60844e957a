"""Project settings that users feel: bytecode at install time, the docs site's config."""

from __future__ import annotations

import tomllib
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]


def test_bytecode_is_compiled_at_sync_time() -> None:
    # Without it every command compiles its imports (~1 s) where PYTHONDONTWRITEBYTECODE is set.
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert project["tool"]["uv"]["compile-bytecode"] is True


def test_every_nav_page_exists_and_ci_builds_the_site_strictly() -> None:
    config = yaml.safe_load((ROOT / "mkdocs.yml").read_text(encoding="utf-8"))

    def pages(nav: object) -> list[str]:
        if isinstance(nav, str):
            return [nav]
        if isinstance(nav, list):
            return [p for item in nav for p in pages(item)]
        if isinstance(nav, dict):
            return [p for value in nav.values() for p in pages(value)]
        return []

    listed = pages(config["nav"])
    assert listed and all((ROOT / "docs" / page).is_file() for page in listed)
    assert "uv run --frozen mkdocs build --strict" in (ROOT / ".ci" / "run").read_text()
