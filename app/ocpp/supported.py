"""The versions this server speaks, best first: what ``create_app`` puts in its registry."""
from __future__ import annotations

from .versions import VersionRegistry


def build_registry() -> VersionRegistry:
    from . import v16

    return VersionRegistry([v16.VERSION])
