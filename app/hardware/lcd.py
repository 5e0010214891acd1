"""The character LCD: ``CharDisplay.show(frame)`` of a 16x2 display, text fitted into pages,
and the simulated display, which keeps its frame in a file that the node page and
``GET /api/v1/node`` show and tests read.

The real backend is ``hardware/pcf8574.py`` (an HD44780 behind a PCF8574 I2C backpack); the
service mirrors its frames to the simulated display, so the node page previews them too.
"""
from __future__ import annotations

import json
import os
import textwrap
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol

COLS, ROWS = 16, 2
Frame = tuple[str, str]


class CharDisplay(Protocol):
    def show(self, frame: Frame) -> None:
        """Put the two lines of ``frame`` on the display (each at most ``COLS`` long)."""

    def close(self) -> None: ...


def pages(text: str, cols: int = COLS) -> list[str]:
    """``text`` in lines of at most ``cols`` characters, broken between words where it can."""
    lines = textwrap.wrap(" ".join(text.split()), cols, break_long_words=True,
                          break_on_hyphens=False)
    return lines or [""]


def frames(title: str, body: str) -> list[Frame]:
    """One screen as frames: the title on the first line, the body on the second, each paged
    where it is longer than the display (shown one page after the other)."""
    top, bottom = pages(title), pages(body)
    count = max(len(top), len(bottom))
    # A one-page title stays while the body pages; otherwise both page together.
    return [(top[0] if len(top) == 1 else (top[i] if i < len(top) else ""),
             bottom[i] if i < len(bottom) else "") for i in range(count)]


class SimulatedDisplay:
    """Keeps the frame (``frame``) and writes it to ``path`` as JSON, atomically, with the
    ``backend`` that shows it (``simulated``, or the real display it mirrors)."""

    def __init__(self, path: str, backend: str = "simulated") -> None:
        self.path = path
        self.backend = backend
        self.frame: Frame = ("", "")
        Path(path).parent.mkdir(parents=True, exist_ok=True)

    def show(self, frame: Frame) -> None:
        self.frame = (frame[0][:COLS], frame[1][:COLS])
        tmp = f"{self.path}.tmp"
        with open(tmp, "w") as f:
            json.dump({"lines": list(self.frame), "backend": self.backend,
                       "updated_at": datetime.now(UTC).isoformat().replace("+00:00", "Z")}, f)
        os.replace(tmp, self.path)

    def close(self) -> None:
        pass


def read_frame(path: str) -> dict | None:
    """What the simulated display shows now (``lines``, ``updated_at``), or None."""
    try:
        with open(path) as f:
            frame = json.load(f)
    except (OSError, ValueError):
        return None
    lines = frame.get("lines")
    if not (isinstance(lines, list) and len(lines) == ROWS
            and all(isinstance(line, str) for line in lines)):
        return None
    return {"lines": lines, "updated_at": str(frame.get("updated_at") or ""),
            "backend": str(frame.get("backend") or "simulated")}


class Mirrored:
    """Shows every frame on each of ``displays`` (the device, and the preview file)."""

    def __init__(self, *displays: CharDisplay) -> None:
        self.displays = displays

    def show(self, frame: Frame) -> None:
        for display in self.displays:
            display.show(frame)

    def close(self) -> None:
        for display in self.displays:
            display.close()
