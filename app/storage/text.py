"""Charger-supplied text made storable: valid Unicode, within the column's length.

JSON lets a charger send a lone UTF-16 surrogate (``"\\ud800"``), which no database encoding
can store, and lenient chargers send strings longer than their columns. Text that is kept for
the record (message log ids and actions, and other free text) goes through ``storable`` before
it reaches the writer, so one charger's bad string never fails a batch shared with others.
"""
from __future__ import annotations

from ..strictjson import without_surrogates


def storable(value: str | None, max_length: int | None = None) -> str | None:
    """``value`` with lone surrogates replaced by U+FFFD and clipped to ``max_length``."""
    if value is None:
        return None
    if not isinstance(value, str):
        value = str(value)
    if max_length is not None and len(value) > max_length:
        value = value[:max_length]
    return without_surrogates(value)
