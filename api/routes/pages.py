"""The pages behind the links we email (public): `/reset-password?token=...` sets a new password
through `POST /api/auth/password-reset/confirm`. A minimal form until the staff console serves
its own; the link is `PUBLIC_BASE_URL` + this path, so the console can take the path over."""

from __future__ import annotations

from litestar import Router, get
from litestar.response import Response

from api.security.ratelimit import limiter
from api.stores import RL_PUBLIC
from config import Settings

RESET_PASSWORD_PATH = "/reset-password"

RESET_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Set a new password · The World Door</title>
<style>body{font-family:system-ui,sans-serif;max-width:26rem;margin:4rem auto;padding:0 1rem}
label{display:block;margin:.8rem 0 .2rem}input{width:100%;padding:.5rem;box-sizing:border-box}
button{margin-top:1rem;padding:.6rem 1.2rem}#message{margin-top:1rem}</style></head>
<body><h1>Set a new password</h1>
<form id="reset"><label for="password">New password (12 characters or more)</label>
<input id="password" name="password" type="password" autocomplete="new-password"
 minlength="12" required>
<label for="repeat">Repeat it</label>
<input id="repeat" name="repeat" type="password" autocomplete="new-password" required>
<button type="submit">Set password</button></form>
<p id="message" role="status"></p>
<script>
const token = new URLSearchParams(location.search).get("token") || "";
history.replaceState(null, "", location.pathname);  // keep the token out of history
const form = document.getElementById("reset"), message = document.getElementById("message");
if (!token) { message.textContent = "This link has no token: ask for a new reset email."; }
form.addEventListener("submit", async (event) => {
  event.preventDefault();
  const password = form.password.value;
  if (password !== form.repeat.value) { message.textContent = "The passwords differ."; return; }
  const response = await fetch("/api/auth/password-reset/confirm", {
    method: "POST", headers: {"Content-Type": "application/json"},
    body: JSON.stringify({token, new_password: password})});
  if (response.ok) { form.remove(); message.textContent = "Password set. You can sign in now."; }
  else {
    const body = await response.json().catch(() => ({}));
    message.textContent = body.detail || "The password could not be set.";
  }
});
</script></body></html>
"""


@get(RESET_PASSWORD_PATH, exclude_from_auth=True, include_in_schema=False, sync_to_thread=False)
def reset_password_page() -> Response[str]:
    return Response(RESET_PAGE, media_type="text/html")


def routers(settings: Settings) -> list[Router]:
    public = limiter(
        settings.rate_limit_public,
        settings.rate_limit_public_window,
        RL_PUBLIC,
        settings.trusted_proxies,
    )
    return [Router(path="/", route_handlers=[reset_password_page], middleware=[public.middleware])]
