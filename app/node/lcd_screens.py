"""What the node's LCD shows, as screens of (title, body): the node and its address, chargers
online, the running session's power and energy on the node's charger, operators' messages
until they expire, and the latest scan result for a while after it (so a refused card is said
to be refused)."""
from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select

from ..extensions import db
from ..models import Charger, RfidScan, utcnow

# How long a scan's result stays on the display.
SCAN_SHOWN_SECONDS = 15
_SCAN_WORDS = {"started": "Session starting", "stopped": "Session stopped",
               "pending": "Card unknown: ask an operator", "refused": "Refused",
               "failed": "Failed", "ignored": "Card read"}


def _address(interfaces: list[dict[str, Any]], uplink: str | None) -> str:
    ordered = sorted(interfaces, key=lambda i: i["name"] != uplink)
    for interface in ordered:
        for address in interface["addresses"]:
            if ":" not in address and not address.startswith("127."):
                return address
    return "no network"


def latest_scan(seconds: float = SCAN_SHOWN_SECONDS) -> RfidScan | None:
    since = utcnow() - timedelta(seconds=seconds)
    return db.session.execute(select(RfidScan).where(RfidScan.scanned_at >= since)
                              .order_by(RfidScan.id.desc()).limit(1)).scalar_one_or_none()


def scan_screen(scan: RfidScan) -> tuple[str, str]:
    words = _SCAN_WORDS.get(scan.result, scan.result)
    if scan.result in ("refused", "failed") and scan.detail:
        words = f"{words}: {scan.detail}"
    return (f"Card {scan.uid}", words)


def screens(config: Any) -> list[tuple[str, str]]:
    from ..console.queries import charger_state, counts
    from ..node import status
    from ..services import node_messages

    # An operator's messages come first, each on its own screen, until they expire.
    out = [("Message", message.text) for message in node_messages.active()]
    out.append((status.socket.gethostname(), _address(status.interfaces(), status.uplink())))
    online = counts()
    out.append(("Chargers online", f"{online['connected']} of "
                                   f"{online['connected'] + online['offline']}"))
    identity = config.get("RFID_CHARGER")
    charger = identity and db.session.execute(
        select(Charger).where(Charger.identity == identity)).scalar_one_or_none()
    if charger:
        state = charger_state(charger)
        running = [c for c in state.connectors if c.transaction is not None]
        if running:
            connector = running[0]
            power = (connector.power_w or 0.0) / 1000
            energy = (connector.energy_wh or 0.0) / 1000
            out.append((f"{identity} charging", f"{power:.1f} kW {energy:.2f} kWh"))
        else:
            out.append((identity, "online, idle" if charger.connected else "offline"))
    return out
