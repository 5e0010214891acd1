"""The LCD backend against a fake SMBus feeding a small HD44780 model: the nibbles latched on
E's falling edge become instructions and characters, and the model's DDRAM shows the text."""
from __future__ import annotations

from app.hardware.pcf8574 import BACKLIGHT, ENABLE, RS, Pcf8574Display, rom_a00


class Hd44780OnPcf8574:
    """A fake SMBus whose ``write_byte`` drives an HD44780 model through a PCF8574."""

    def __init__(self) -> None:
        self.ddram = [0x20] * 0x80
        self.cursor = 0
        self.four_bit = False
        self.pending: tuple[int, int] | None = None  # (rs, high nibble) awaiting its low half
        self.previous = 0
        self.backlight = False
        self.addresses: set[int] = set()

    def write_byte(self, address: int, value: int) -> None:
        self.addresses.add(address)
        self.backlight = bool(value & BACKLIGHT)
        if self.previous & ENABLE and not value & ENABLE:
            self._latch(value & RS, value >> 4)
        self.previous = value

    def _latch(self, rs: int, nibble: int) -> None:
        if not self.four_bit:
            if nibble == 0x2:  # function set, DL = 0: 4-bit from now on
                self.four_bit = True
            return
        if self.pending is None:
            self.pending = (rs, nibble)
            return
        (rs, high), self.pending = self.pending, None
        byte = high << 4 | nibble
        if rs:
            self.ddram[self.cursor & 0x7F] = byte
            self.cursor += 1
        elif byte == 0x01:
            self.ddram, self.cursor = [0x20] * 0x80, 0
        elif byte & 0x80:
            self.cursor = byte & 0x7F

    def row(self, n: int) -> str:
        start = (0x00, 0x40)[n]
        return bytes(self.ddram[start:start + 16]).decode("ascii")


def test_frames_reach_the_display_on_both_rows():
    bus = Hd44780OnPcf8574()
    lcd = Pcf8574Display(bus, 0x3F, sleep=lambda s: None)
    assert bus.four_bit and bus.backlight and bus.addresses == {0x3F}
    lcd.show(("CP-1 charging", "7.4 kW 1.50 kWh"))
    assert (bus.row(0), bus.row(1)) == ("CP-1 charging   ", "7.4 kW 1.50 kWh ")
    lcd.show(("Card 04BBBBBB", "Refused"))
    assert (bus.row(0), bus.row(1)) == ("Card 04BBBBBB   ", "Refused         ")


def test_an_unchanged_frame_sends_nothing_and_odd_characters_are_replaced():
    bus = Hd44780OnPcf8574()
    lcd = Pcf8574Display(bus, sleep=lambda s: None)
    lcd.show(("Ünïcode \\ ~", ""))
    assert bus.row(0) == "?n?code ? ?     "
    writes = []
    bus.write_byte = lambda address, value: writes.append(value)
    lcd.show(("Ünïcode \\ ~", ""))
    assert writes == []
    assert rom_a00("A~") == [0x41, 0x3F]
