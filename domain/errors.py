"""The names of our error types, as Temporal carries them (`ApplicationError.type`) and as the
API reads them back to answer 4xx instead of 5xx."""

from __future__ import annotations

VALIDATION_FAILED = "ValidationFailed"
"""The request breaks one of our rules: retrying cannot help."""
NOT_FOUND = "NotFoundError"
"""The row or object is not there (the adapters' NotFoundError has the same name)."""
PERMANENT = "PermanentError"
"""A vendor refused the call for good (adapters.errors.PermanentError)."""
AUTHENTICATION = "AuthenticationError"
"""Our credentials were refused (adapters.errors.AuthenticationError)."""
CONFLICT = "Conflict"
"""Someone else is doing the same thing right now."""
INVALID_STATE = "InvalidState"
"""The workflow is not in a state that accepts the request."""
MEDIA_MISSING = "MediaMissing"
"""Inspection media named in a submission are not in the bucket."""

ADDRESS_NOT_LATIN = "AddressNotLatin"
"""An international shipment's address is not in Latin script: staff must fix it first."""

INPUT_ERRORS = ["ValueError", "TypeError", "KeyError", "AssertionError", "ValidationError"]
"""Exceptions no vendor or database raises for a passing fault: bad input or a broken rule in our
own code (pydantic's ValidationError included). Retrying them only parks the workflow, so they
fail fast like VALIDATION_FAILED; transient faults (connection, timeout, 5xx) keep their own
classes and are retried."""

PERMANENT_ERRORS = [
    PERMANENT,
    AUTHENTICATION,
    NOT_FOUND,
    VALIDATION_FAILED,
    ADDRESS_NOT_LATIN,
    *INPUT_ERRORS,
]
"""Error types never retried (the adapters' permanent classes, our own validation, bad input)."""
