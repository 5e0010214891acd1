"""The real LCD backend: a 16x2 HD44780 character display behind a PCF8574 I2C backpack
(P0 = RS, P2 = E, P3 = backlight, P4-P7 = D4-D7), driven in 4-bit mode.

The bus is one seam, ``bus.write_byte(address, value)`` (smbus2's call), so tests feed its
bytes to a model of the HD44780. ``open`` imports smbus2 only when called, on the machine
that has the bus; constructing the display touches the bus, so the service does it lazily.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from .lcd import COLS, Frame

RS, ENABLE, BACKLIGHT = 0x01, 0x04, 0x08
CLEAR, ENTRY_LEFT, DISPLAY_ON, FUNCTION_4BIT_2LINE = 0x01, 0x06, 0x0C, 0x28
SET_DDRAM = 0x80
ROW_OFFSETS = (0x00, 0x40)


def rom_a00(text: str) -> list[int]:
    """``text`` as character codes of the A00 ROM: printable ASCII but ``\\`` and ``~``
    (which are other glyphs there) as themselves; anything else as ``?``."""
    return [ord(ch) if 0x20 <= ord(ch) <= 0x7D and ch != "\\" else ord("?") for ch in text]


class Pcf8574Display:
    """``CharDisplay`` on an HD44780 through a PCF8574 at ``address``."""

    def __init__(self, bus: Any, address: int = 0x27,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.bus = bus
        self.address = address
        self.sleep = sleep
        self._shown: Frame | None = None
        self._init()

    @classmethod
    def open(cls, port: int = 1, address: int = 0x27) -> Pcf8574Display:
        from smbus2 import SMBus  # noqa: PLC0415 - hardware package, only where the bus is

        return cls(SMBus(port), address)

    def _write4(self, bits: int) -> None:
        # The HD44780 latches D4-D7 on E's falling edge.
        self.bus.write_byte(self.address, bits | BACKLIGHT | ENABLE)
        self.sleep(0.0005)
        self.bus.write_byte(self.address, (bits | BACKLIGHT) & ~ENABLE)
        self.sleep(0.0001)

    def _send(self, value: int, mode: int = 0) -> None:
        self._write4(mode | (value & 0xF0))
        self._write4(mode | ((value << 4) & 0xF0))

    def _init(self) -> None:
        self.sleep(0.05)
        # Into 4-bit mode from any state: three times 8-bit, then 4-bit (HD44780 figure 24).
        for pause in (0.0045, 0.0045, 0.00015):
            self._write4(0x30)
            self.sleep(pause)
        self._write4(0x20)
        for command in (FUNCTION_4BIT_2LINE, DISPLAY_ON, ENTRY_LEFT, CLEAR):
            self._send(command)
        self.sleep(0.002)  # clear takes 1.52 ms

    def show(self, frame: Frame) -> None:
        if frame == self._shown:
            return  # unchanged: no bus traffic, no flicker
        for row, text in enumerate(frame[:2]):
            self._send(SET_DDRAM | ROW_OFFSETS[row])
            for code in rom_a00(text[:COLS].ljust(COLS)):
                self._send(code, RS)
        self._shown = frame

    def close(self) -> None:
        self._send(CLEAR)
        self.bus.write_byte(self.address, 0)  # backlight off
        close = getattr(self.bus, "close", None)
        if close:
            close()
