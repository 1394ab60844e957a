"""``repotrack config show|import-legacy``."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer

from repotrack.cli.common import console, get_settings, handle_errors

app = typer.Typer(help="Show or import configuration.", no_args_is_help=True)


@app.command("show")
@handle_errors
def show(
    ctx: typer.Context,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON instead of TOML.")] = False,
) -> None:
    """Print the effective settings, secrets redacted."""
    settings = get_settings(ctx)
    data = settings.redacted()
    source = settings.config_file
    if as_json:
        console.print_json(json.dumps(data))
        return
    console.print(f"# from: {source or 'defaults and environment'}", markup=False)
    console.print(to_toml(data), markup=False, highlight=False)


@app.command("import-legacy")
@handle_errors
def import_legacy(
    path: Annotated[Path, typer.Argument(help="A patch-tracking settings.conf.")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write TOML here (mode 600).")
    ] = None,
) -> None:
    """Convert a legacy patch-tracking settings.conf (parsed, never executed) to TOML."""
    from repotrack.legacy_settings import legacy_to_settings, parse_settings_conf

    tree = legacy_to_settings(parse_settings_conf(path), source=str(path))
    text = to_toml(tree)
    if output is None:
        console.print(text, markup=False, highlight=False)
        return
    output.touch(mode=0o600, exist_ok=True)
    output.chmod(0o600)
    output.write_text(text + "\n", encoding="utf-8")
    console.print(f"wrote {output}", markup=False)


def to_toml(data: dict[str, Any], prefix: str = "") -> str:
    """A small TOML writer for settings trees (strings, numbers, bools, lists, tables)."""
    lines: list[str] = []
    tables: list[tuple[str, dict[str, Any]]] = []
    for key, value in data.items():
        if isinstance(value, dict):
            tables.append((f"{prefix}{_key(key)}", value))
        elif value is not None:
            lines.append(f"{_key(key)} = {_value(value)}")
    out = "\n".join(lines)
    for name, table in tables:
        if not any(v is not None and v != {} for v in table.values()):
            continue
        body = to_toml(table, prefix=f"{name}.")
        header = f"[{name}]"
        has_scalars = any(not isinstance(v, dict) and v is not None for v in table.values())
        chunk = f"{header}\n{body}" if has_scalars else body
        out = f"{out}\n\n{chunk}" if out else chunk
    return out.strip("\n")


def _key(key: str) -> str:
    return key if key.replace("_", "").replace("-", "").isalnum() else json.dumps(key)


def _value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if isinstance(value, list):
        return "[" + ", ".join(_value(v) for v in value) + "]"
    return json.dumps(str(value), ensure_ascii=False)
