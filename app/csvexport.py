"""The CSV writer of every export: cells a spreadsheet would run as a formula are neutralised.

Charger-supplied text (an id tag, a stop reason, a vendor string) can begin with ``=``, ``+``,
``-``, ``@``, a tab or a carriage return, which Excel, LibreOffice and Google Sheets treat as
the start of a formula (``=HYPERLINK(...)``, DDE). As OWASP recommends, such a text cell gets a
leading single quote, which spreadsheets show as text. Numbers we produce ourselves are written
as numbers: a negative number is not a formula.
"""
from __future__ import annotations

import csv
from collections.abc import Iterable
from typing import Any, TextIO

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """``value`` as a CSV cell: None is empty, text that could start a formula is quoted."""
    if value is None:
        return ""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


class SafeWriter:
    """``csv.writer`` whose rows go through ``safe_cell``."""

    def __init__(self, out: TextIO) -> None:
        self._writer = csv.writer(out)

    def writerow(self, row: Iterable[Any]) -> None:
        self._writer.writerow([safe_cell(v) for v in row])


def writer(out: TextIO) -> SafeWriter:
    return SafeWriter(out)
