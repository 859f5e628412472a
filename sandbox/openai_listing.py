"""Deterministic "model output" for the OpenAI emulator: a JSON instance of the requested schema,
filled with plausible English listing copy derived from the Japanese record in the prompt.

No language model here: a small glossary turns common Japanese item words into English, brand
names and model numbers (ASCII runs) are kept as they are, and string lengths respect the schema.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

# Longest entries are matched first, so 腕時計 wins over 時計.
GLOSSARY: dict[str, str] = {
    "腕時計": "Wristwatch",
    "懐中時計": "Pocket Watch",
    "時計": "Watch",
    "自動巻き": "Automatic",
    "手巻き": "Hand-Wound",
    "クォーツ": "Quartz",
    "一眼レフ": "SLR",
    "フィルムカメラ": "Film Camera",
    "カメラ": "Camera",
    "レンズ": "Lens",
    "着物": "Kimono",
    "振袖": "Furisode Kimono",
    "浴衣": "Yukata",
    "帯": "Obi Belt",
    "絹": "Silk",
    "正絹": "Pure Silk",
    "陶器": "Pottery",
    "磁器": "Porcelain",
    "有田焼": "Arita Ware",
    "九谷焼": "Kutani Ware",
    "茶碗": "Tea Bowl",
    "湯呑": "Teacup",
    "急須": "Teapot",
    "鉄瓶": "Cast Iron Kettle",
    "花瓶": "Vase",
    "漆器": "Lacquerware",
    "人形": "Doll",
    "掛軸": "Hanging Scroll",
    "扇子": "Folding Fan",
    "万年筆": "Fountain Pen",
    "包丁": "Kitchen Knife",
    "財布": "Wallet",
    "バッグ": "Bag",
    "フィギュア": "Figure",
    "ゲーム": "Video Game",
    "漫画": "Manga",
    "木製": "Wooden",
    "銀製": "Sterling Silver",
    "限定": "Limited Edition",
    "箱付き": "with Box",
    "付属品": "Accessories",
    "ヴィンテージ": "Vintage",
    "アンティーク": "Antique",
    "未使用": "Unused",
    "新品": "New",
    "美品": "Excellent",
    "中古": "Used",
    "ジャンク": "For Parts",
}
CONDITION_WORDS = {"Unused", "New", "Excellent", "Used", "For Parts"}
# Plausible eBay US leaf categories for the item words above (first match in the title wins).
CATEGORIES: dict[str, tuple[str, str]] = {
    "Wristwatch": ("31387", "Wristwatches"),
    "Watch": ("31387", "Wristwatches"),
    "Pocket Watch": ("3937", "Pocket Watches"),
    "Lens": ("3323", "Camera Lenses"),
    "Camera": ("15230", "Film Cameras"),
    "Film Camera": ("15230", "Film Cameras"),
    "Kimono": ("155247", "Kimonos"),
    "Yukata": ("155247", "Kimonos"),
    "Obi Belt": ("155248", "Obi"),
    "Pottery": ("37937", "Asian Antiques > Japan > Pottery"),
    "Porcelain": ("37937", "Asian Antiques > Japan > Pottery"),
    "Tea Bowl": ("37932", "Tea Ceremony"),
    "Teapot": ("37932", "Tea Ceremony"),
    "Vase": ("37937", "Asian Antiques > Japan > Pottery"),
    "Doll": ("37931", "Japanese Dolls"),
    "Fountain Pen": ("7279", "Fountain Pens"),
    "Kitchen Knife": ("20667", "Kitchen Knives"),
    "Figure": ("158666", "Anime & Manga Figures"),
    "Manga": ("259104", "Comics & Manga"),
}
DEFAULT_CATEGORY = ("99", "Everything Else")
ASCII_RUN = re.compile(r"[A-Za-z0-9][A-Za-z0-9\-./]*")
JAPANESE = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uff01-\uff9f]+")
# Phrases of condition notes, longest first when matched; unknown phrases are left out (the
# photos show them) rather than copied untranslated.
NOTE_PHRASES: dict[str, str] = {
    "箱に小さな傷あり": "small scratches on the box",
    "箱に傷あり": "scratches on the box",
    "小さな傷あり": "small scratches",
    "小傷あり": "minor scratches",
    "傷あり": "some scratches",
    "汚れあり": "some marks",
    "使用感あり": "signs of use",
    "動作確認済み": "tested and working",
    "動作未確認": "untested",
    "電池切れ": "battery needs replacing",
    "箱なし": "no box",
    "箱付き": "with box",
    "説明書付き": "with manual",
    "付属品完備": "all accessories included",
    "未使用": "unused",
    "新品": "new",
    "美品": "excellent condition",
    "中古": "used",
    "ジャンク": "for parts",
}


@dataclass
class Record:
    """What the emulator understood of the Japanese product record."""

    sku: str = ""
    title_ja: str = ""
    description_ja: str = ""
    brand: str = ""
    condition: str = ""
    condition_notes: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def english_words(self) -> list[str]:
        return translate(self.title_ja)

    def brand_en(self) -> str:
        """The brand in Latin letters: its ASCII part (`岩鋳 (Iwachu)` -> `Iwachu`), its
        glossary word, or nothing."""
        ascii_part = " ".join(ASCII_RUN.findall(self.brand))
        return ascii_part or " ".join(translate(self.brand))

    def notes_en(self) -> str:
        return ", ".join(dict.fromkeys(translate(self.condition_notes, NOTE_PHRASES)))

    def title(self) -> str:
        words = self.english_words
        ascii_tokens = ASCII_RUN.findall(self.title_ja)
        items = [w for w in words if w not in CONDITION_WORDS]
        condition = [w for w in words if w in CONDITION_WORDS]
        brand = self.brand_en()
        head = [brand] if brand and brand not in ascii_tokens else []
        parts = head + ascii_tokens + items + condition + ["from Japan"]
        return " ".join(dict.fromkeys(p for p in parts if p))

    def category(self) -> tuple[str, str]:
        for word in self.english_words:
            if word in CATEGORIES:
                return CATEGORIES[word]
        return DEFAULT_CATEGORY

    def condition_text(self) -> str:
        condition = next((w for w in self.english_words if w in CONDITION_WORDS), "")
        return condition or (self.condition or "Used").replace("_", " ").title()


def translate(text: str, glossary: dict[str, str] = GLOSSARY) -> list[str]:
    """Glossary words found in `text`, in order of appearance, longest match first."""
    found: list[tuple[int, str]] = []
    taken = [False] * len(text)
    for japanese in sorted(glossary, key=len, reverse=True):
        start = text.find(japanese)
        while start >= 0:
            end = start + len(japanese)
            if not any(taken[start:end]):
                found.append((start, glossary[japanese]))
                for i in range(start, end):
                    taken[i] = True
            start = text.find(japanese, end)
    return list(dict.fromkeys(word for _, word in sorted(found)))


def parse_record(prompt: str) -> Record:
    """The first JSON object in the prompt with a Japanese title, else the raw text as title."""
    start = prompt.find("{")
    while start >= 0:
        try:
            data, _ = json.JSONDecoder().raw_decode(prompt[start:])
        except ValueError:
            start = prompt.find("{", start + 1)
            continue
        if isinstance(data, dict):
            known = {k: str(data.get(k) or "") for k in Record.__dataclass_fields__ if k != "extra"}
            known["title_ja"] = known["title_ja"] or str(data.get("title") or "")
            return Record(**known, extra=data)
        start = prompt.find("{", start + 1)
    return Record(title_ja=prompt.strip()[:200])


def fit(text: str, schema: dict[str, Any]) -> str:
    """Respect minLength/maxLength, cutting at a word boundary."""
    limit = schema.get("maxLength")
    if isinstance(limit, int) and len(text) > limit:
        cut = text[: limit + 1].rsplit(" ", 1)[0]
        text = (cut if 0 < len(cut) <= limit else text[:limit]).rstrip(" ,;:-")
    minimum = schema.get("minLength")
    if isinstance(minimum, int) and len(text) < minimum:
        text = text + "." * (minimum - len(text))
    return text


def english(text: str) -> str:
    """What is left of `text` without Japanese script (the copy is English only)."""
    text = re.sub(r"\(\s*\)", " ", JAPANESE.sub(" ", text))
    return re.sub(r"\s{2,}", " ", text).strip()


def describe(record: Record) -> str:
    title = record.title()
    notes_en = record.notes_en()
    notes = f" Notes: {notes_en[:1].upper()}{notes_en[1:]}." if notes_en else ""
    return (
        f"<p>{title}. Shipped with care from Tokyo by The World Door.</p>"
        f"<ul><li>Brand: {record.brand_en() or 'Unbranded'}</li>"
        f"<li>Condition: {record.condition_text()}</li>"
        f"<li>Country of origin: Japan</li></ul>"
        f"<p>Condition: {record.condition_text()}.{notes} Please see the photos.</p>"
    )


def specifics(record: Record) -> list[tuple[str, list[str]]]:
    words = record.english_words
    items = [w for w in words if w not in CONDITION_WORDS]
    pairs = [("Brand", [record.brand_en() or "Unbranded"])]
    models = [t for t in ASCII_RUN.findall(record.title_ja) if any(c.isdigit() for c in t)]
    if models:
        pairs.append(("Model", models[:1]))
    if items:
        pairs.append(("Type", items[:2]))
    pairs += [("Country of Origin", ["Japan"]), ("Condition", [record.condition_text()])]
    return pairs


class InstanceBuilder:
    """Builds one instance of a JSON schema (the subset structured outputs allow)."""

    def __init__(self, root: dict[str, Any], record: Record) -> None:
        self.root, self.record = root, record

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        ref = schema.get("$ref")
        if not ref:
            return schema
        node: Any = self.root
        for part in ref.lstrip("#/").split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return self._resolve(node)

    def build(self, schema: dict[str, Any], name: str = "", parent: str = "") -> Any:
        schema = self._resolve(schema)
        for key in ("anyOf", "oneOf"):
            if key in schema:
                options = [s for s in schema[key] if self._resolve(s).get("type") != "null"]
                return self.build((options or schema[key])[0], name, parent)
        if "allOf" in schema:
            merged: dict[str, Any] = {}
            for part in schema["allOf"]:
                merged.update(self._resolve(part))
            return self.build(merged, name, parent)
        if "const" in schema:
            return schema["const"]
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type")
        if isinstance(kind, list):
            kind = next((k for k in kind if k != "null"), "null")
        if kind == "object" or "properties" in schema:
            return self._object(schema, name)
        if kind == "array":
            return self._array(schema, name)
        if kind == "string":
            return fit(english(self._text(name.lower(), parent.lower())), schema)
        if kind == "integer":
            return int(schema.get("minimum", 1))
        if kind == "number":
            return float(schema.get("minimum", 1))
        if kind == "boolean":
            return False
        return None

    def _object(self, schema: dict[str, Any], name: str) -> dict[str, Any]:
        props: dict[str, Any] = schema.get("properties", {})
        required = schema.get("required", list(props))
        return {key: self.build(sub, key, name) for key, sub in props.items() if key in required}

    def _array(self, schema: dict[str, Any], name: str) -> list[Any]:
        items = self._resolve(schema.get("items", {}))
        item_props = set(items.get("properties", {}))
        if {"name", "values"} <= item_props or {"name", "value"} <= item_props:
            values: list[Any] = [
                {
                    **self.build(items, name, name),
                    "name": n,
                    ("values" if "values" in item_props else "value"): v
                    if "values" in item_props
                    else ", ".join(v),
                }
                for n, v in specifics(self.record)
            ]
        elif "spec" in name.lower() or "aspect" in name.lower():
            values = [n for n, _ in specifics(self.record)]
        else:
            values = [self.build(items, name.rstrip("s"), name)]
        low, high = schema.get("minItems", 0), schema.get("maxItems")
        while len(values) < low:
            values.append(self.build(items, name.rstrip("s"), name))
        return values[:high] if isinstance(high, int) else values

    def _text(self, name: str, parent: str) -> str:
        record = self.record
        category_id, category_name = record.category()
        if "categor" in parent or "categor" in name:
            return category_id if name.endswith("id") else category_name
        if "title" in name:
            return record.title()
        if "description" in name or "html" in name:
            return describe(record)
        if "brand" in name:
            return record.brand_en() or "Unbranded"
        if "condition" in name:
            return record.condition_text()
        if "value" in name:
            return record.brand_en() or "Japan"
        if name in ("name", "label"):
            return "Brand"
        if "sku" in name:
            return record.sku
        return record.title()
