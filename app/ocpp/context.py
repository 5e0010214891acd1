"""What a version's handlers know about the charger they answer, and how they reach services."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..storage.writer import GroupWriter


@dataclass
class ChargerContext:
    identity: str
    charger_id: int
    writer: GroupWriter
    heartbeat_interval: int
    unknown_tag_policy: str
    extra: dict[str, Any] = field(default_factory=dict)
