"""The versions this server speaks, best first: what ``create_app`` puts in its registry.

The order is the server's preference in subprotocol negotiation: 2.1 > 2.0.1 > 1.6.
"""
from __future__ import annotations

from .versions import VersionRegistry


def build_registry() -> VersionRegistry:
    from . import v16, v21, v201

    return VersionRegistry([v21.VERSION, v201.VERSION, v16.VERSION])
