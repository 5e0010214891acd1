"""What a version's handlers know about the charger they answer, and how they reach services."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..events import NULL_BUS, EventBus
from ..storage.writer import GroupWriter


@dataclass
class ChargerContext:
    identity: str
    charger_id: int
    writer: GroupWriter
    heartbeat_interval: int
    unknown_tag_policy: str
    # The stored registration status (accepted | pending | rejected), kept current by
    # BootNotification and by an operator's change; the session enforces it.
    registration: str = "accepted"
    # Transaction ids known to be (True) or not to be (False) this charger's: MeterValues link
    # to them without a query. Ids are ours, so an answer never changes.
    known_transactions: dict[int, bool] = field(default_factory=dict)
    # 2.x: what the services let the adapter remember of running transactions, by the
    # charger's transaction id (``services.transaction_events.Known``); opaque here.
    transaction_events: dict[str, Any] = field(default_factory=dict)
    # The app's live-event bus (``runtime.events``), handed in so that handlers publish without
    # looking the app up per message.
    events: EventBus = NULL_BUS

    def remember_transaction(self, tx_id: int, ours: bool = True) -> None:
        if len(self.known_transactions) >= 64:
            self.known_transactions.clear()
        self.known_transactions[tx_id] = ours
