"""Which script an address is written in.

International carriers print labels and customs papers in Latin script (FedEx's label fonts
print anything else as `?`), so an international shipment must carry a Latin-script address on
both sides; domestic Yamato/Sagawa hand-off files stay in Japanese."""

from __future__ import annotations

import unicodedata


def is_latin_text(text: str) -> bool:
    """ASCII, or letters of the Latin script (accented names such as `Müller`, `Łódź`);
    false for kana, kanji, Cyrillic, full-width forms and Japanese punctuation."""
    for char in text:
        if char.isascii():
            continue
        name = unicodedata.name(char, "")
        if not (name.startswith("LATIN ") or unicodedata.category(char) == "Mn"):
            return False
    return True


def non_latin_fields(fields: dict[str, str]) -> list[str]:
    """The names of the fields whose text is not Latin script, in the given order."""
    return [name for name, value in fields.items() if value and not is_latin_text(value)]
