"""One APIRouter per resource. ``ROUTERS`` names the modules the app mounts, in order.

Each module listed here exposes a module-level ``router`` (``fastapi.APIRouter``).
The list is explicit (a test pins it) rather than discovered by scanning.
"""

ROUTERS: tuple[str, ...] = (
    "compat",
    "items",
    "issues",
    "health",
    "packages",
    "loads",
    "feeds",
    "enrichment",
    "images",
    "tasks",
    "vulns",
    "daemon",
)
