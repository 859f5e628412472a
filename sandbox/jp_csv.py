"""The carrier side of Yamato's B2 Cloud and Sagawa's e-Hiden III, which have no public API.

What staff do by hand in the carrier's web system is a sandbox control here: import the label
CSV (checked like the carrier checks it: Shift_JIS, CRLF, column count, required columns),
download the issued-history file. The public tracking pages are served as the carriers serve
them (an HTML page per tracking number), advancing over time.
"""

from __future__ import annotations

import html
import itertools
import secrets
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from typing import Annotated, Any

from litestar import MediaType, Request, Response, get, post
from litestar.exceptions import HTTPException
from litestar.params import Body

from adapters.carriers.jp_csv import decode_csv, encode_csv
from domain.tracking import make_jp_tracking_number
from sandbox.core import SandboxContext

JST = timezone(timedelta(hours=9))


@dataclass(frozen=True)
class CarrierProfile:
    service: str  # ledger service name and URL prefix
    header: list[str]
    required: tuple[str, ...]
    reference_column: str
    tracking_column: str
    timeline: tuple[tuple[str, str], ...]  # (status text, place)
    prefix: str  # first digits of issued numbers


@dataclass
class Issued:
    reference: str
    tracking_number: str
    row: dict[str, str]
    issued_at: float
    forced_step: int | None = None


@dataclass
class CarrierState:
    by_reference: dict[str, Issued] = field(default_factory=dict)
    by_number: dict[str, Issued] = field(default_factory=dict)
    serials: itertools.count = field(default_factory=lambda: itertools.count(1))
    seconds_per_step: float = 600.0

    def step_of(self, issued: Issued, steps: int) -> int:
        """The last timeline step reached; -1 until the driver's pickup scan (one step after the
        number is issued): a printed slip is not yet a parcel in the carrier's hands."""
        if issued.forced_step is not None:
            return issued.forced_step
        return min(int((time.time() - issued.issued_at) // self.seconds_per_step) - 1, steps - 1)


def state_of(ctx: SandboxContext, profile: CarrierProfile) -> CarrierState:
    attr = f"_{profile.service}_state"
    state = getattr(ctx, attr, None)
    if state is None:
        state = CarrierState()
        setattr(ctx, attr, state)

        def reset() -> None:
            state.by_reference.clear()
            state.by_number.clear()

        ctx.reset_hooks.append(reset)
    return state


def error_body(status: int, message: str) -> dict[str, Any]:
    return {"error": {"status": status, "message": message}}


def _check_file(profile: CarrierProfile, data: bytes) -> list[dict[str, str]]:
    try:
        data.decode("cp932")
    except UnicodeDecodeError as exc:
        raise HTTPException(status_code=400, detail="the file must be Shift_JIS (CP932)") from exc
    if b"\n" in data and b"\r\n" not in data:
        raise HTTPException(status_code=400, detail="lines must end with CRLF")
    rows = decode_csv(data)
    header = data.decode("cp932").split("\r\n", 1)[0].count(",") + 1
    if header != len(profile.header):
        raise HTTPException(
            status_code=400, detail=f"expected {len(profile.header)} columns, got {header}"
        )
    for number, row in enumerate(rows, start=2):
        missing = [c for c in profile.required if not row.get(c, "").strip()]
        if missing:
            raise HTTPException(status_code=400, detail=f"line {number}: missing {missing}")
    return rows


def _page(profile: CarrierProfile, state: CarrierState, number: str) -> str:
    issued = state.by_number.get(number)
    if issued is None:
        body = '<p class="error">お問い合わせ伝票番号が見つかりません</p>'
    else:
        step = state.step_of(issued, len(profile.timeline))
        start = datetime.fromtimestamp(issued.issued_at, UTC).astimezone(JST)
        rows = []
        for index in range(step + 1):
            status, place = profile.timeline[index]
            at = start + timedelta(seconds=(index + 1) * state.seconds_per_step)
            rows.append(
                f'<tr class="event"><td>{html.escape(status)}</td>'
                f"<td>{at:%Y/%m/%d}</td><td>{at:%H:%M}</td><td>{html.escape(place)}</td></tr>"
            )
        body = f'<table class="history">{"".join(rows)}</table>'
    return f"<html><body><h1>{number}</h1>{body}</body></html>"


def tracking_page_handler(profile: CarrierProfile, ctx: SandboxContext):
    state = state_of(ctx, profile)

    async def page(request: Request[Any, Any, Any], number: str) -> Response[str]:
        return Response(_page(profile, state, number.strip()), media_type=MediaType.HTML)

    return page


def control_handlers_for(profile: CarrierProfile, ctx: SandboxContext, base: str) -> list[Any]:
    state = state_of(ctx, profile)

    @post(f"/_sandbox/{profile.service}/{base}/import", status_code=200)
    async def import_file(request: Request[Any, Any, Any]) -> dict[str, Any]:
        rows = _check_file(profile, await request.body())
        issued = []
        for row in rows:
            reference = row[profile.reference_column]
            existing = state.by_reference.get(reference)
            if existing is None:
                number = make_jp_tracking_number(
                    next(state.serials) * 1000 + secrets.randbelow(1000), profile.prefix
                )
                existing = Issued(reference, number, row, time.time())
                state.by_reference[reference] = existing
                state.by_number[number] = existing
                ctx.ledger.record(profile.service, "label_issued", reference)
            issued.append({"reference": reference, "tracking_number": existing.tracking_number})
        return {"issued": issued}

    @get(f"/_sandbox/{profile.service}/{base}/history")
    async def history() -> Response[bytes]:
        rows = []
        for issued in state.by_reference.values():
            row = dict(issued.row)
            row[profile.tracking_column] = issued.tracking_number
            rows.append([row.get(column, "") for column in profile.header])
        return Response(encode_csv(profile.header, rows), media_type="text/csv; charset=shift_jis")

    @post(f"/_sandbox/{profile.service}/advance", status_code=200)
    async def advance(data: Annotated[dict[str, Any], Body()]) -> dict[str, Any]:
        issued = state.by_number.get(str(data.get("tracking_number", "")))
        if issued is None:
            raise HTTPException(status_code=404, detail="unknown tracking number")
        statuses = [status for status, _ in profile.timeline]
        target = str(data.get("to", ""))
        target = {"picked_up": statuses[0], "delivered": statuses[-1]}.get(target, target)
        if target not in statuses:
            raise HTTPException(status_code=400, detail=f"'to' must be one of {statuses}")
        issued.forced_step = statuses.index(target)
        return {"tracking_number": issued.tracking_number, "status": target}

    return [import_file, history, advance]
