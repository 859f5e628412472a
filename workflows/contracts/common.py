"""Names shared by the order workflows."""

from __future__ import annotations

STATUS_QUERY = "status"
