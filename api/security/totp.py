"""TOTP (RFC 6238) with pyotp: enrolment URI + QR code, and the timecode for replay checks."""

from __future__ import annotations

import base64
import io

import anyio.to_thread
import pyotp
import qrcode
import qrcode.image.svg
from pyotp.exceptions import OTPVerificationError

ISSUER = "The World Door"


def new_secret() -> str:
    return pyotp.random_base32()


def provisioning_uri(secret: str, email: str) -> str:
    return pyotp.TOTP(secret).provisioning_uri(name=email, issuer_name=ISSUER)


async def qr_png_base64(uri: str) -> str:
    def render() -> str:
        buffer = io.BytesIO()
        qrcode.make(uri).save(buffer, format="PNG")
        return base64.b64encode(buffer.getvalue()).decode()

    return await anyio.to_thread.run_sync(render)


def qr_svg(uri: str) -> str:
    """The QR code as inline SVG markup (no image request, no data: URI for the CSP to allow)."""
    image = qrcode.make(uri, image_factory=qrcode.image.svg.SvgPathImage, box_size=8, border=2)
    return image.to_string(encoding="unicode")


def matched_timecode(secret: str, code: str) -> int | None:
    """The timecode the code belongs to (one step of clock drift allowed), or None.

    Callers accept the code only if this timecode is newer than the last one used, which is what
    makes a code single-use (see the atomic update in api.security.accounts)."""
    code = code.strip().replace(" ", "")
    if not code.isdigit() or len(code) != 6:
        return None
    try:
        return pyotp.TOTP(secret).verify_and_get_timecode(code, valid_window=1)
    except OTPVerificationError:
        return None
