from __future__ import annotations

import pytest

from domain.addresses import is_latin_text, non_latin_fields


@pytest.mark.parametrize("text", ["1-1 Chiyoda", "Müller", "Łódź", "São Paulo", "Zoë O'Neil"])
def test_latin_script(text: str) -> None:
    assert is_latin_text(text)


@pytest.mark.parametrize("text", ["千代田1-1", "ヤマダ", "Москва", "ＡＢＣ", "1・2", "東京都"])
def test_not_latin_script(text: str) -> None:
    assert not is_latin_text(text)


def test_non_latin_fields_names_them_in_order() -> None:
    fields = {"name": "Taro", "line1": "千代田1-1", "city": "千代田区", "state": ""}
    assert non_latin_fields(fields) == ["line1", "city"]
