"""Closing a charger's live session from a service (decommissioning it, for one).

For now the socket can only be in this process, so the local registry is asked; the lead's
session hook (and with several processes, the router) will take this over.
"""
from __future__ import annotations


def close_live_session(identity: str, reason: str) -> bool:
    """Close ``identity``'s websocket if this process holds it; True if there was one."""
    from ..transport.registry import registry

    connection = registry.get(identity)
    if connection is None:
        return False
    connection.close(reason)
    return True
