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


def _describe(error: ValidationError) -> str:
    where = "/".join(str(p) for p in error.absolute_path) or "(body)"
    return f"{where}: {error.message[:200]}"


@cache
def load_spec(name: str) -> Spec:
    return Spec(_apply_corrections(name, json.loads((SPECS_DIR / SPEC_FILES[name]).read_text())))
