"""repotrack: upstream patch tracking and distribution data for RPM-based distributions."""

__version__ = "0.1.0"
__all__ = ["__version__"]
