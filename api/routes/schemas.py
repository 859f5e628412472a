"""Request/response bodies shared by the auth routes."""

from __future__ import annotations

from pydantic import BaseModel, Field

from api.fields import RequestBody
from api.security.passwords import MIN_PASSWORD_LENGTH
from models.types import UTCDateTime

_NOT_IN_ADDRESS = r"@\x00-\x20\x7f-\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff"
EMAIL_PATTERN = rf"^[^{_NOT_IN_ADDRESS}]+@[^{_NOT_IN_ADDRESS}]+$"
"""One @, no white space and no control characters (a NUL reached the parser's 400 while the
document promised the address valid: `make fuzz`). Spelled out instead of a white-space class:
white space differs between the document's regex dialect (ECMA: U+FEFF yes, U+0085 no), Python
and pydantic's Rust engine, and schemathesis sent a U+0085 the document allowed and we refused."""
EMAIL = Field(min_length=3, max_length=320, pattern=EMAIL_PATTERN)
PASSWORD = Field(min_length=MIN_PASSWORD_LENGTH, max_length=256)


class Login(RequestBody):
    email: str = Field(min_length=3, max_length=320)
    password: str = Field(min_length=1, max_length=256)


class LoginResult(BaseModel):
    """Either the tokens, or `two_factor_required` with a short-lived step token."""

    two_factor_required: bool = False
    two_factor_token: str | None = None
    access_token: str | None = None
    refresh_token: str | None = None
    token_type: str | None = None
    expires_in: int | None = None


class TokenPair(BaseModel):
    access_token: str
    refresh_token: str
    token_type: str = "Bearer"
    expires_in: int


class TwoFactorVerify(RequestBody):
    two_factor_token: str = Field(min_length=1, max_length=4096)
    code: str = Field(min_length=6, max_length=10)


class RecoveryLogin(RequestBody):
    two_factor_token: str = Field(min_length=1, max_length=4096)
    recovery_code: str = Field(min_length=8, max_length=40)


class RecoveryLoginResult(TokenPair):
    recovery_codes_left: int


class Refresh(RequestBody):
    refresh_token: str = Field(min_length=1, max_length=512)


class Me(BaseModel):
    id: str
    email: str
    full_name: str
    role: str
    two_factor_enabled: bool
    recovery_codes_left: int
    setup_required: str | None = Field(
        default=None,
        description="A step to finish before anything else: password_change_required or "
        "two_factor_enrolment_required (every other route answers 403 with this code)",
    )


class Enrolment(BaseModel):
    secret: str
    otpauth_uri: str
    qr_png_base64: str


class Code(RequestBody):
    code: str = Field(min_length=6, max_length=10)


class RecoveryCodes(BaseModel):
    recovery_codes: list[str]


class DisableTwoFactor(RequestBody):
    password: str = Field(min_length=1, max_length=256)
    code: str = Field(min_length=6, max_length=10)


class ResetRequest(RequestBody):
    email: str = Field(min_length=3, max_length=320)


class ResetConfirm(RequestBody):
    token: str = Field(min_length=16, max_length=256)
    new_password: str = PASSWORD


class ChangePassword(RequestBody):
    current_password: str = Field(min_length=1, max_length=256)
    new_password: str = PASSWORD


class Accepted(BaseModel):
    detail: str


class InvitationToken(RequestBody):
    token: str = Field(min_length=16, max_length=256)


class InvitationOpened(BaseModel):
    """The invited account and the two-factor secret to enrol (scan `qr_svg` or type `secret`)."""

    email: str
    full_name: str
    expires_at: UTCDateTime
    secret: str
    otpauth_uri: str
    qr_svg: str


class InvitationAccept(RequestBody):
    token: str = Field(min_length=16, max_length=256)
    new_password: str = PASSWORD
    code: str = Field(min_length=6, max_length=10, description="A first code from the app")


class InvitationAccepted(TokenPair):
    recovery_codes: list[str] = Field(description="Shown once: keep them somewhere safe")
