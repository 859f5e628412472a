"""Validation of request and response bodies against the vendors' own OpenAPI files.

The emulators use it to refuse requests the real service would refuse; the contract tests use it
to check what the adapters send and what the emulators answer. Files live in `sandbox/specs/`
(copied from the vendors' downloads, see its README).
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from jsonschema.exceptions import ValidationError
from jsonschema.validators import extend
from openapi_schema_validator import OAS30Validator, OAS31Validator
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT4, DRAFT202012

SPECS_DIR = Path(__file__).parent / "specs"

SPEC_FILES = {
    "ebay-inventory": "ebay/sell_inventory_v1_oas3.json",
    "ebay-fulfillment": "ebay/sell_fulfillment_v1_oas3.json",
    "fedex-auth": "fedex/APIAuthorization-Resource.json",
    "fedex-ship": "fedex/Shipment-Resource.json",
    "fedex-rate": "fedex/RateQuotes-Resource.json",
    "fedex-track": "fedex/track.json",
    "sendgrid-mail": "sendgrid/tsg_mail_v3.json",
    "openai": "openai/openapi.json",
}


def _is_integer(checker: Any, instance: Any) -> bool:
    """JSON has one number type: `10.0` is an integer wherever a schema says so, as the vendors'
    own parsers take it (OAS 3.0's draft-4 rules would refuse it; 3.1's already accept it)."""
    if isinstance(instance, bool):
        return False
    return isinstance(instance, int) or (isinstance(instance, float) and instance.is_integer())


OAS30Numbers = extend(
    OAS30Validator, type_checker=OAS30Validator.TYPE_CHECKER.redefine("integer", _is_integer)
)
OAS31Numbers = extend(
    OAS31Validator, type_checker=OAS31Validator.TYPE_CHECKER.redefine("integer", _is_integer)
)


# Where a vendor's file contradicts the vendor's own documentation, the documented behaviour
# wins: (file, JSON pointer, corrected value, why).
CORRECTIONS: dict[str, list[tuple[str, Any, str]]] = {
    "fedex-ship": [
        (
            "components/schemas/Weight_4/properties/units/enum",
            ["KG", "LB"],
            "commodity weight: the field's own description says it must use the package's "
            "unit (KG or LB), and every other weight in FedEx's files allows both",
        )
    ],
}


def _apply_corrections(name: str, document: dict[str, Any]) -> dict[str, Any]:
    for pointer, value, _why in CORRECTIONS.get(name, []):
        *parents, last = pointer.split("/")
        node = document
        for part in parents:
            node = node[part]
        node[last] = value
    return document


class SpecViolation(ValueError):
    """A body does not match the vendor's schema; `errors` lists each problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("; ".join(errors[:5]))
        self.errors = errors


class Spec:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.is_31 = str(document.get("openapi", "3.0")).startswith("3.1")
        self._validator_cls = OAS31Numbers if self.is_31 else OAS30Numbers
        resource = Resource.from_contents(
            document, default_specification=DRAFT202012 if self.is_31 else DRAFT4
        )
        self._registry: Registry = Registry().with_resource("urn:spec", resource)
        self._templates = [
            (
                re.compile(
                    "^" + re.sub(r"\\\{[^/]+?\\\}", "[^/]+", re.escape(p.rstrip("/"))) + "/?$"
                ),
                p,
            )
            for p in document.get("paths", {})
        ]

    def find_path(self, path: str) -> str:
        """The template (`/offer/{offerId}/publish`) that a concrete path matches."""
        candidates = [t for rx, t in self._templates if rx.match(path.rstrip("/") or "/")]
        if not candidates:
            raise KeyError(f"no path in the spec matches {path}")
        # The most literal template wins (fewest parameters).
        return min(candidates, key=lambda t: t.count("{"))

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]]:
        template = self.find_path(path)
        op = self.document["paths"][template].get(method.lower())
        if op is None:
            raise KeyError(f"{method.upper()} {template} is not in the spec")
        return template, op

    def _resolve(self, node: dict[str, Any], pointer: str) -> tuple[dict[str, Any], str]:
        """Follow a local `$ref` (`#/components/requestBodies/X`) to the object it names."""
        while "$ref" in node and node["$ref"].startswith("#/"):
            pointer = node["$ref"][2:]
            node = self.document
            for part in pointer.split("/"):
                node = node[part.replace("~1", "/").replace("~0", "~")]
        return node, pointer

    def _pointer(self, *parts: str) -> str:
        return "/".join(p.replace("~", "~0").replace("/", "~1") for p in parts)

    def _validate(self, pointer: str, body: Any) -> None:
        schema = {"$ref": f"urn:spec#/{pointer}"}
        validator = self._validator_cls(schema, registry=self._registry)
        errors = sorted(validator.iter_errors(body), key=lambda e: list(e.absolute_path))
        if errors:
            raise SpecViolation([_describe(e) for e in errors])

    def validate_request(self, method: str, path: str, body: Any) -> None:
        template, op = self.operation(method, path)
        if "requestBody" not in op:
            return
        request_body, base = self._resolve(
            op["requestBody"], self._pointer("paths", template, method.lower(), "requestBody")
        )
        content = request_body.get("content", {})
        media = next((m for m in content if "json" in m), None)
        if media is None or "schema" not in content[media]:
            return
        self._validate(f"{base}/{self._pointer('content', media, 'schema')}", body)

    def validate_response(self, method: str, path: str, status: int, body: Any) -> None:
        template, op = self.operation(method, path)
        responses = op.get("responses", {})
        code = str(status) if str(status) in responses else "default"
        if code not in responses:
            raise SpecViolation([f"status {status} is not documented for {method} {template}"])
        response, base = self._resolve(
            responses[code], self._pointer("paths", template, method.lower(), "responses", code)
        )
        content = response.get("content", {})
        media = next((m for m in content if "json" in m), None)
        if media is None or "schema" not in content[media]:
            return
        self._validate(f"{base}/{self._pointer('content', media, 'schema')}", body)

    # --- the vendor's documented example replies -------------------------------------------

    def _node(self, pointer: str) -> Any:
        node: Any = self.document
        for part in pointer.split("/"):
            node = node[part.replace("~1", "/").replace("~0", "~")]
        return node

    def schema_example(self, schema: Any, seen: frozenset[str] = frozenset()) -> Any:
        """The example a schema documents: its own `example`, else one composed from its
        properties' and items' examples (None where the file documents nothing)."""
        if not isinstance(schema, dict):
            return None
        ref = str(schema.get("$ref", ""))
        if ref.startswith("#/"):
            if ref in seen:  # a recursive schema: its example ends here
                return None
            return self.schema_example(self._node(ref[2:]), seen | {ref})
        own = schema.get("example")
        if isinstance(own, list):
            return own
        for key in ("allOf", "oneOf", "anyOf"):
            if key in schema:
                merged: dict[str, Any] = {}
                for part in schema[key]:
                    example = self.schema_example(part, seen)
                    if isinstance(example, dict):
                        merged.update(example)
                    elif example is not None and key != "allOf":
                        return example
                if isinstance(own, dict):
                    merged.update(own)
                return merged or None
        if "properties" in schema or isinstance(own, dict):
            out = {}
            for name, sub in schema.get("properties", {}).items():
                example = self.schema_example(sub, seen)
                if example is not None:
                    out[name] = example
            if isinstance(own, dict):
                out.update(own)  # the schema's own example has the last word
            return out or None
        if schema.get("type") == "array" and "items" in schema:
            item = self.schema_example(schema["items"], seen)
            return [item] if item is not None else None
        return own if _agrees(own, schema.get("type")) else None  # e.g. "56.22" for a number

    def documented_examples(self, method: str, path: str, status: int) -> list[Any]:
        """Every example reply the vendor documents for this operation and status: media
        examples, the schema's examples, and OpenAI's `x-oaiMeta` sample responses."""
        template, op = self.operation(method, path)
        found: list[Any] = []
        responses = op.get("responses", {})
        code = str(status) if str(status) in responses else "default"
        if code in responses:
            response, _ = self._resolve(responses[code], "")
            for media, content in response.get("content", {}).items():
                if "json" not in media:
                    continue
                if "example" in content:
                    found.append(content["example"])
                for example in (content.get("examples") or {}).values():
                    value = self._resolve(example, "")[0].get("value")
                    if value is not None:
                        found.append(value)
                composed = self.schema_example(content.get("schema"))
                if composed is not None:
                    found.append(composed)
        meta = op.get("x-oaiMeta", {}).get("examples") or []
        for example in meta if isinstance(meta, list) else [meta]:
            reply = example.get("response") if isinstance(example, dict) else None
            if isinstance(reply, str) and status < 300:
                try:
                    found.append(json.loads(reply))
                except ValueError:
                    continue
        return found

    def documented_error_ids(self, method: str, path: str) -> set[int]:
        """eBay lists each operation's error ids under `x-response-codes` in its files."""
        _template, op = self.operation(method, path)
        ids: set[int] = set()
        for response in op.get("responses", {}).values():
            resolved, _ = self._resolve(response, "")
            for key in (resolved.get("x-response-codes") or {}).get("errors", {}):
                ids.add(int(key))
        return ids

    def check_examples(self, method: str, path: str, status: int, body: Any) -> int:
        """Raise SpecViolation where `body` differs from the vendor's documented example
        replies (same keys, same types); return how many keys were compared."""
        compared, problems = 0, list[str]()
        for example in self.documented_examples(method, path, status):
            count, found = example_mismatches(body, example)
            compared, problems = compared + count, problems + found
        if problems:
            raise SpecViolation(problems)
        return compared


def _agrees(example: Any, declared: Any) -> bool:
    """An example whose type contradicts the schema's own `type` documents nothing."""
    if example is None or not isinstance(declared, str):
        return example is not None
    return _kind(example) == {"integer": "number"}.get(declared, declared)


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, (int, float)):
        return "number"  # JSON has one number type
    if value is None:
        return "null"
    names: dict[type, str] = {str: "string", list: "array", dict: "object"}
    return names[type(value)]


DATE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}")


def _shape(text: str) -> str:
    return re.sub(r"\d", "9", text)


def example_mismatches(reply: Any, example: Any, where: str = "") -> tuple[int, list[str]]:
    """Compare a reply with a documented example wherever both have a key: (keys compared,
    where the JSON types differ, or where a timestamp is written differently, e.g. with
    microseconds where the example has seconds and an offset). Keys only one side has are not
    counted."""
    if example is None or reply is None:
        return 0, []
    if _kind(reply) != _kind(example):
        return 1, [f"{where or '(body)'}: {_kind(reply)} where the example has {_kind(example)}"]
    if isinstance(reply, str) and DATE_TIME.match(example) and DATE_TIME.match(reply):
        # The offset may be Z or ±hh:mm; everything else is written as the vendor writes it.
        def norm(s: str) -> str:
            return _shape(re.sub(r"(Z|[+-]\d{2}:\d{2})$", "+99:99", s))

        if norm(reply) != norm(example):
            return 1, [f"{where}: {reply!r} is not written like the example {example!r}"]
    compared, problems = 0, list[str]()
    if isinstance(reply, dict):
        for key in reply.keys() & example.keys():
            count, found = example_mismatches(reply[key], example[key], f"{where}/{key}")
            compared, problems = compared + 1 + count, problems + found
    elif isinstance(reply, list) and reply and example:
        for index, item in enumerate(reply):
            count, found = example_mismatches(item, example[0], f"{where}/{index}")
            compared, problems = compared + count, problems + found
    return compared, problems


def _describe(error: ValidationError) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(body)"
    return f"{where}: {error.message[:200]}"


@cache
def load_spec(name: str) -> Spec:
    return Spec(_apply_corrections(name, json.loads((SPECS_DIR / SPEC_FILES[name]).read_text())))
