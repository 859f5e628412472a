"""`worlddoor demo`: one business day through the staff API and the emulators, then a table of
invariants.

The day: three products listed (review, approve), a sale that passes inspection and ships with
a rate chosen by staff, a sale that fails inspection for damage, a buyer cancel, a price change, a
domestic (Yamato/Sagawa) order through hand-off, issued number and delivery, ending a listing and
a restart of the whole stack. After each step: our stock and eBay's per product; at the end: the
documents still downloadable after the restart (label, hand-off file, product images, and each
inspection's photo and video through GET /api/inspections/{id}/media), refunds and emails per
order, and duplicates in the emulators' side-effect ledger. A feature this build lacks is
printed as "not available", never faked.

`run_day(day)` is the core (also run by tests/ops/test_demo.py against the test stack);
`main()` starts the embedded stack itself (like `make run`, in its own data directory) so it
can restart it.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
EVIDENCE = [
    ("lid.png", "image/png", PNG + b"inspection photo"),
    ("check.mp4", "video/mp4", b"\x00\x00\x00\x18ftypmp42" + b"\x00" * 244),
]
"""What the demo's inspector uploads for each inspection (file name, type, bytes)."""
NOT_AVAILABLE = "not available"
ONCE_PER_KEY = {
    "ebay": {"fulfillment", "refund", "offer_created", "offer_published"},
    "fedex": {"label_bought"},
    "yamato": {"label_issued"},
    "sagawa": {"label_issued"},
    "sendgrid": {"email_accepted"},
}
"""Side effects that must happen at most once per business key (the ledger's duplicates)."""


def upload(target: dict[str, Any], data: bytes) -> None:
    """What a browser does with the API's presigned POST form: the policy fields, then the file."""
    httpx.post(
        target["url"],
        data=target["fields"],
        files={"file": ("upload", data, target["content_type"])},
    ).raise_for_status()


@dataclass
class Check:
    step: str
    what: str
    observed: str
    ok: bool | None  # None: the feature is not in this build


@dataclass
class Product:
    name: str
    id: str
    sku: str
    expected: int  # our stock by the rules: what we hold after the sales so far
    initial: int = 0


@dataclass
class Day:
    """What the demo drives: a signed-in staff API client (admin: it also inspects and triggers
    the tracking refresh), the sandbox base URL, and how to restart the stack (None: cannot)."""

    api: httpx.Client
    sandbox: httpx.Client
    restart: Callable[[], None] | None = None
    timeout: float = 90
    checks: list[Check] = field(default_factory=list)
    products: dict[str, Product] = field(default_factory=dict)
    orders: dict[str, tuple[str, str]] = field(default_factory=dict)  # name -> (ebay id, id)
    shipments: dict[str, str] = field(default_factory=dict)  # order name -> shipment id
    log: Callable[[str], None] = print

    # --- plumbing -------------------------------------------------------------------------------

    def until(self, url: str, check: Callable[[Any], bool], what: str) -> Any:
        deadline = time.monotonic() + self.timeout
        body: Any = None
        while time.monotonic() < deadline:
            response = self.api.get(url)
            if response.status_code == 200:
                body = response.json()
                if check(body):
                    return body
            time.sleep(0.3)
        raise TimeoutError(f"never reached {what}: {body}")

    def ok(self, response: httpx.Response, what: str) -> Any:
        if response.status_code >= 400:
            raise RuntimeError(f"{what}: {response.status_code} {response.text[:300]}")
        return response.json() if response.content else None

    def check(self, step: str, what: str, observed: object, ok: bool | None) -> None:
        self.checks.append(Check(step, what, str(observed), ok))
        mark = {True: "ok", False: "FAIL", None: NOT_AVAILABLE}[ok]
        self.log(f"  [{mark}] {step}: {what} = {observed}")

    def ebay_listing(self, sku: str) -> dict[str, Any]:
        return self.ok(self.sandbox.get("/_sandbox/ebay/listing", params={"sku": sku}), "eBay")

    def stock(self, step: str) -> None:
        """Our stock and eBay's per product, against what the rules say we hold."""
        for product in self.products.values():
            ours = self.ok(self.api.get(f"/api/products/{product.id}"), "product")["quantity"]
            ebay = self.ebay_listing(product.sku)
            theirs = ebay["offer_quantity"] if ebay["offer_quantity"] is not None else "-"
            if ebay["quantity"] is not None and ebay["offer_quantity"] is None:
                theirs = ebay["quantity"]
            ok: bool | None = ours == product.expected and (theirs == "-" or theirs == ours)
            if not ok and ours == product.initial and product.expected < product.initial:
                ok = None  # this build never takes a sale off our stock
            self.check(
                step,
                f"stock {product.name} ours/eBay/expected",
                f"{ours}/{theirs}/{product.expected}",
                ok,
            )

    # --- the day's actions ----------------------------------------------------------------------

    def create_product(self, name: str, title_ja: str, quantity: int, price_jpy: int) -> None:
        created = self.ok(
            self.api.post(
                "/api/products",
                json={
                    "sku": f"DEMO-{uuid.uuid4().hex[:8].upper()}",
                    "title_ja": title_ja,
                    "description_ja": "動作確認済み。目立つ傷なし。",
                    "brand": "Demo",
                    "category_hint": "工芸品",
                    "price_jpy": price_jpy,
                    "quantity": quantity,
                    "weight_g": 800,
                },
            ),
            "create product",
        )
        target = self.ok(
            self.api.post(
                f"/api/products/{created['id']}/images/upload-url",
                json={"file_name": "front.png", "content_type": "image/png"},
            ),
            "image upload URL",
        )
        upload(target, PNG)
        self.ok(
            self.api.post(f"/api/products/{created['id']}/images", json={"key": target["key"]}),
            "attach image",
        )
        self.products[name] = Product(name, created["id"], created["sku"], quantity, quantity)

    def list_product(self, name: str) -> None:
        product = self.products[name]
        self.ok(self.api.post(f"/api/products/{product.id}/listing"), "start listing")
        self.until(
            f"/api/products/{product.id}/listing",
            lambda s: s["step"] == "awaiting_approval",
            f"{name} awaiting approval",
        )
        self.ok(self.api.post(f"/api/products/{product.id}/listing/approve"), "approve")
        self.until(
            f"/api/products/{product.id}", lambda p: p["status"] == "listed", f"{name} listed"
        )

    def buyer_orders(self, name: str, product: str, **spec: Any) -> str:
        """A buyer pays on eBay (the emulator), then staff run the order sync."""
        created = self.ok(
            self.sandbox.post(
                "/_sandbox/orders",
                json={"orders": [{"sku": self.products[product].sku, **spec}]},
            ),
            "buyer order",
        )
        ebay_order_id = created["orders"][0]["orderId"]
        self.ok(self.api.post("/api/operations/order-sync"), "order sync")
        found = self.until(
            f"/api/orders?q={ebay_order_id}&total=true",
            lambda b: b["total"] == 1,
            f"{name} imported",
        )
        self.orders[name] = (ebay_order_id, found["items"][0]["id"])
        return found["items"][0]["id"]

    def inspect(self, order: str, passed: bool, notes: str = "") -> None:
        _, order_id = self.orders[order]
        queued = self.until(
            f"/api/inspections/{order_id}",
            lambda b: b["live"] is not None and b["live"]["step"] == "awaiting_result",
            f"{order} inspection waiting",
        )
        keys = [item["key"] for item in queued["live"]["checklist"]]
        media_keys = []
        for file_name, content_type, data in EVIDENCE:  # a photo and a video, as inspectors do
            (target,) = self.ok(
                self.api.post(
                    f"/api/inspections/{order_id}/media/upload-urls",
                    json={"file_names": [file_name], "content_type": content_type},
                ),
                "media upload URLs",
            )
            upload(target, data)
            media_keys.append(target["key"])
        answers = {key: passed or index > 0 for index, key in enumerate(keys)}
        self.ok(
            self.api.post(
                f"/api/inspections/{order_id}/result",
                json={
                    "answers": answers,
                    "media_keys": media_keys,
                    "notes": notes,
                },
            ),
            "inspection result",
        )

    def choose_rate(self, order: str, pick: str) -> dict[str, Any]:
        """Staff pick a quote while the window is open (`fastest` or the policy's `cheapest`);
        without a window the policy's pick was bought at once."""
        _, order_id = self.orders[order]
        live = self.until(
            f"/api/orders/{order_id}",
            lambda b: b["live"] is not None and b["live"]["shipment_id"],
            f"{order} shipment",
        )["live"]
        shipment_id = live["shipment_id"]
        self.shipments[order] = shipment_id
        label = self.until(
            f"/api/shipments/{shipment_id}",
            lambda b: b["live"] is not None and b["live"]["step"] != "quoting",
            f"{order} quoted",
        )["live"]
        if label["step"] != "choosing":
            return label["chosen"] or {}
        quotes = label["quotes"]
        chosen = (
            min(quotes, key=lambda q: (q["transit_days"] or 99, float(q["amount"])))
            if pick == "fastest"
            else label["chosen"]
        )
        self.ok(
            self.api.post(
                f"/api/shipments/{shipment_id}/rate",
                json={"carrier": chosen["carrier"], "service": chosen["service"]},
            ),
            "choose rate",
        )
        return chosen

    def deliver(self, order: str, carrier: str, tracking: str) -> None:
        """The carrier scans and delivers (emulator), then the tracking refresh runs."""
        self.ok(
            self.sandbox.post(
                f"/_sandbox/{carrier}/advance",
                json={"tracking_number": tracking, "to": "delivered"},
            ),
            "advance tracking",
        )
        _, order_id = self.orders[order]
        deadline = time.monotonic() + self.timeout
        while time.monotonic() < deadline:
            self.api.post("/api/operations/schedules/tracking-refresh/trigger", json={})
            if self.api.get(f"/api/orders/{order_id}").json().get("status") == "completed":
                return
            time.sleep(1)
        raise TimeoutError(f"{order} never completed")

    def order_status(self, order: str) -> str:
        _, order_id = self.orders[order]
        return str(self.ok(self.api.get(f"/api/orders/{order_id}"), "order")["status"])


def run_day(day: Day) -> list[Check]:
    """The business day; returns every check (also printed as it goes)."""
    say = day.log
    say("setup: three products listed after review")
    day.create_product("teapot", "南部鉄器 急須 0.6L", quantity=3, price_jpy=12000)
    day.create_product("bowl", "有田焼 茶碗", quantity=1, price_jpy=8000)
    day.create_product("fan", "京扇子 白檀", quantity=2, price_jpy=6000)
    for name in day.products:
        day.list_product(name)
    day.stock("listed")

    say("sale: a teapot to the US, inspected, staff choose the fastest quote")
    day.buyer_orders("sale", "teapot", country_code="US", buyer_email="pat@example.com")
    day.products["teapot"].expected -= 1
    day.inspect("sale", passed=True)
    chosen = day.choose_rate("sale", "fastest")
    shipment = day.until(
        f"/api/shipments/{day.shipments['sale']}",
        lambda b: b["tracking_number"] != "",
        "sale label",
    )
    day.check(
        "sale",
        "label bought = quote chosen",
        f"{shipment['service']}",
        (not chosen or shipment["service"] == chosen["service"]),
    )
    day.check(
        "sale",
        "charge / quote / flag",
        f"{shipment['cost_amount']} / {shipment['quoted_amount']} / {shipment['charge_flag']!r}",
        shipment["charge_flag"] == "",
    )
    day.check(
        "sale", "status before pickup", shipment["status"], shipment["status"] == "label_created"
    )
    day.deliver("sale", "fedex", shipment["tracking_number"])
    day.check("sale", "order", day.order_status("sale"), day.order_status("sale") == "completed")
    day.stock("sale")

    say("fail: a teapot fails inspection for damage")
    day.buyer_orders("damaged", "teapot", country_code="GB", buyer_email="kim@example.co.uk")
    day.products["teapot"].expected -= 1  # a damaged unit does not go back on sale as new
    day.inspect("damaged", passed=False, notes="crack in the lid, found when unpacking")
    # staff decide: refund now and write the cracked unit off (it never goes back on sale)
    damaged_id = day.orders["damaged"][1]
    day.until(
        f"/api/orders/{damaged_id}",
        lambda b: b["live"] is not None and b["live"]["step"] == "awaiting_decision",
        "damaged awaiting a decision",
    )
    day.ok(
        day.api.post(
            f"/api/orders/{damaged_id}/inspection-decision",
            json={"refund": "now", "unit": "write_off", "note": "cracked lid"},
        ),
        "failed-inspection decision",
    )
    day.until(
        f"/api/orders/{day.orders['damaged'][1]}",
        lambda b: b["status"] == "refunded",
        "damaged refunded",
    )
    day.check("fail", "order", "refunded", True)
    day.stock("fail")

    say("cancel: the bowl's buyer asks to cancel before inspection")
    order_id = day.buyer_orders("cancel", "bowl", country_code="DE", buyer_email="lea@example.de")
    day.until(
        f"/api/orders/{order_id}",
        lambda b: b["live"] is not None and b["live"]["step"] == "inspecting",
        "cancel inspecting",
    )
    day.ok(
        day.api.post(f"/api/orders/{order_id}/cancel", json={"reason": "buyer asked to cancel"}),
        "cancel",
    )
    day.until(f"/api/orders/{order_id}", lambda b: b["status"] == "cancelled", "cancelled")
    day.check("cancel", "order", "cancelled", True)
    day.stock("cancel")  # the buyer's unit is back on sale: expected unchanged

    say("price change: the fan from 6000 to 6600 yen")
    fan = day.products["fan"]
    before = day.ebay_listing(fan.sku)["price"]
    day.ok(day.api.patch(f"/api/products/{fan.id}", json={"price_jpy": 6600}), "price change")
    deadline = time.monotonic() + 20
    after = before
    while time.monotonic() < deadline and after == before:
        day.api.post("/api/operations/schedules/inventory-sync/trigger", json={})
        time.sleep(2)
        after = day.ebay_listing(fan.sku)["price"]
    day.check(
        "price",
        "eBay price before -> after",
        f"{before} -> {after}",
        True if after != before else None,
    )

    say("domestic: a fan to Osaka through the Japanese hand-off")
    day.buyer_orders("domestic", "fan", domestic=True, buyer_email="taro@example.jp")
    fan.expected -= 1
    day.inspect("domestic", passed=True)
    chosen = day.choose_rate("domestic", "cheapest")
    shipment_id = day.shipments["domestic"]
    label = day.until(
        f"/api/shipments/{shipment_id}",
        lambda b: b["live"] is not None and b["live"]["step"] == "awaiting_tracking",
        "hand-off file",
    )["live"]
    carrier = label["carrier"]
    handoff = day.ok(day.api.get(f"/api/shipments/{shipment_id}/handoff"), "hand-off")
    csv = httpx.get(handoff["url"]).content
    side = "b2" if carrier == "yamato" else "ehiden"
    issued = day.ok(
        day.sandbox.post(
            f"/_sandbox/{carrier}/{side}/import",
            content=csv,
            headers={"Content-Type": "text/csv"},
        ),
        "carrier import",
    )["issued"][0]["tracking_number"]
    day.ok(
        day.api.post(f"/api/shipments/{shipment_id}/tracking", json={"tracking_number": issued}),
        "tracking number",
    )
    day.check("domestic", "hand-off in Japanese", carrier, "千代田" in csv.decode("cp932"))
    day.deliver("domestic", carrier, issued)
    day.check(
        "domestic",
        "order",
        day.order_status("domestic"),
        day.order_status("domestic") == "completed",
    )
    day.stock("domestic")

    say("end listing: the fan is withdrawn from eBay")
    ended = day.api.post(f"/api/products/{fan.id}/listing/end", json={"reason": "demo"})
    if ended.status_code in (404, 405):
        day.check("end listing", "route", "POST /api/products/{id}/listing/end", None)
    else:
        # the route answers 202 with the workflow that withdraws the offer: wait for eBay to say so
        deadline = time.monotonic() + 30
        while (status := day.ebay_listing(fan.sku)["status"]) == "PUBLISHED":
            if ended.status_code >= 400 or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        day.check(
            "end listing", "eBay offer", status, ended.status_code < 400 and status != "PUBLISHED"
        )

    ledger(day)  # the emulators keep their ledger in memory: read it before the restart
    say("restart: the whole stack stops and starts again")
    if day.restart is None:
        day.check("restart", "stack restarted", "no stack of our own to restart", None)
    else:
        day.restart()
        day.check("restart", "stack restarted", "yes", True)
    documents(day)
    return day.checks


def documents(day: Day) -> None:
    """Every document a person needs, downloaded through the API after the restart."""
    wanted: list[tuple[str, str]] = [
        ("label PDF (sale)", f"/api/shipments/{day.shipments['sale']}/label"),
        ("commercial invoice (sale)", f"/api/shipments/{day.shipments['sale']}/invoice"),
        ("hand-off CSV (domestic)", f"/api/shipments/{day.shipments['domestic']}/handoff"),
    ]
    for name, url in wanted:
        response = day.api.get(url)
        if response.status_code != 200:
            day.check("documents", name, f"API {response.status_code}", False)
            continue
        body = httpx.get(response.json()["url"])
        day.check(
            "documents", name, f"{body.status_code}, {len(body.content)} bytes", body.is_success
        )
    for name, product in day.products.items():
        response = day.api.get(f"/api/products/{product.id}/images/0")
        if response.status_code != 200:
            day.check("documents", f"image {name}", f"API {response.status_code}", False)
            continue
        body = httpx.get(response.json()["url"])
        day.check(
            "documents",
            f"image {name}, same bytes",
            f"{body.status_code}, {len(body.content)} bytes",
            body.is_success and body.content == PNG,
        )
    for order in ("sale", "damaged", "domestic"):
        evidence(day, order)


def evidence(day: Day, order: str) -> None:
    """The inspection's photos and videos through GET /api/inspections/{id}/media: each one
    downloads, byte for byte what the inspector uploaded, at the S3 version the verdict recorded."""
    _, order_id = day.orders[order]
    files = day.ok(day.api.get(f"/api/inspections/{order_id}/media"), "inspection media")
    uploaded = {name.rsplit(".", 1)[-1]: data for name, _, data in EVIDENCE}
    seen = []
    ok = len(files) == len(EVIDENCE)
    for item in files:
        body = httpx.get(item["url"])
        same = body.is_success and body.content == uploaded.get(item["key"].rsplit(".", 1)[-1])
        ok = ok and same and bool(item["version_id"])
        name = item["key"].rsplit("/", 1)[-1]
        seen.append(f"{name} {body.status_code} {len(body.content)} B")
    day.check(
        "documents",
        f"inspection evidence ({order}) photo+video, same bytes, versioned",
        ", ".join(seen) or "none",
        ok,
    )


def ledger(day: Day) -> None:
    """Refunds and emails per order; duplicated side effects anywhere."""
    snapshot = day.ok(day.sandbox.get("/_sandbox/ledger"), "ledger")["ledger"]
    refunds = snapshot.get("ebay", {}).get("refund", {}).get("by_key", {})
    emails = snapshot.get("sendgrid", {}).get("email_accepted", {}).get("by_key", {})
    expected_refunds = {"sale": 0, "damaged": 1, "cancel": 1, "domestic": 0}
    for name, (ebay_order_id, _) in day.orders.items():
        count = refunds.get(ebay_order_id, 0)
        mails = sorted(  # keys are email-{template}-{ebay order id}
            k.split(ebay_order_id)[0].removeprefix("email-").rstrip("-:")
            for k in emails
            if ebay_order_id in k
        )
        day.check("ledger", f"refunds {name}", count, count == expected_refunds.get(name, count))
        day.check("ledger", f"emails {name}", ", ".join(mails) or "none", bool(mails))
    duplicates = [
        f"{service}/{kind}/{key} x{n}"
        for service, kinds in snapshot.items()
        for kind, data in kinds.items()
        if kind in ONCE_PER_KEY.get(service, set())
        for key, n in data["by_key"].items()
        if n > 1
    ]
    day.check("ledger", "duplicates", ", ".join(duplicates) or "none", not duplicates)


def table(checks: list[Check]) -> str:
    width = max(len(f"{c.step}: {c.what}") for c in checks)
    lines = [f"{'check'.ljust(width)}  {'result':13}  observed", "-" * (width + 40)]
    for c in checks:
        mark = {True: "ok", False: "FAIL", None: NOT_AVAILABLE}[c.ok]
        lines.append(f"{f'{c.step}: {c.what}'.ljust(width)}  {mark:13}  {c.observed}")
    return "\n".join(lines)


# --- `worlddoor demo`: the embedded stack of its own ----------------------------------------------


class Stack:
    """The processes `make run` starts (the local S3 server included), started and restarted by
    the demo: the restart proves files and documents survive it."""

    def __init__(self, settings: Any) -> None:
        self.settings = settings
        self.children: list[Any] = []
        self.s3: Any = None

    def start(self) -> None:
        from ops import dev

        problems = dev.busy_ports(self.settings)
        if problems:
            raise RuntimeError("; ".join(problems))
        dev.prepare_database(self.settings)
        self.children = dev.build_children(self.settings)
        for child in self.children:  # the demo's table, not the services' request logs
            child.env["LOG_LEVEL"] = "WARNING"
        temporal, sandbox, worker, api = self.children
        from sandbox.local_s3 import LocalS3

        self.s3 = LocalS3(self.settings)
        self.s3.start()
        dev.start(temporal)
        dev.start(sandbox)
        host, port, _ = dev.required_ports(self.settings)["Temporal gRPC"]
        sandbox_url = f"http://127.0.0.1:{self.settings.sandbox_port}/_sandbox/health"
        if not (dev.wait_for_port(host, port, 60) and dev.wait_for_http(sandbox_url, 30)):
            raise RuntimeError("Temporal or the sandbox did not come up")
        self.s3.wait_ready()
        dev.ensure_bucket(self.settings)
        dev.start(worker)
        dev.start(api)
        api_url = f"http://{self.settings.api_host}:{self.settings.api_port}/api/health"
        if not dev.wait_for_http(api_url, 60):
            raise RuntimeError("the API did not come up")

    def stop(self) -> None:
        from ops import dev

        dev.stop_all(self.children)
        self.children = []
        if self.s3 is not None:
            self.s3.stop()
            self.s3 = None

    def restart(self) -> None:
        self.stop()
        self.start()


def demo_user(settings: Any) -> tuple[str, str]:
    """An admin of its own for the demo (it approves, inspects and triggers schedules)."""
    import secrets

    from api.accounts import create_user
    from models import Role

    email = f"demo-{uuid.uuid4().hex[:8]}@theworlddoor.example"
    password = secrets.token_urlsafe(18)
    create_user(settings, email, password, Role.admin)
    return email, password


def sign_in(api: httpx.Client, email: str, password: str) -> None:
    body = api.post("/api/auth/login", json={"email": email, "password": password}).json()
    api.headers["Authorization"] = f"Bearer {body['access_token']}"


def main(settings: Any) -> int:
    """Run the day on a stack of its own (restartable) or, if one answers already, on that one
    (then the restart step is reported as not available)."""
    api_url = f"http://{settings.api_host}:{settings.api_port}"
    sandbox_url = f"http://127.0.0.1:{settings.sandbox_port}"
    stack: Stack | None = None
    try:
        running = httpx.get(f"{api_url}/api/health", timeout=2).is_success
    except httpx.HTTPError:
        running = False
    try:
        if not running:
            print(f"starting the embedded stack (data in {settings.var_dir})")
            stack = Stack(settings)
            stack.start()  # a failure half-way still stops what started (finally)
        from models.migrate import upgrade

        upgrade(settings)
        email, password = demo_user(settings)
        with (
            httpx.Client(base_url=api_url, timeout=60) as api,
            httpx.Client(base_url=sandbox_url, timeout=60) as sandbox,
        ):
            sign_in(api, email, password)

            def restart() -> None:
                assert stack is not None
                stack.restart()
                sign_in(api, email, password)

            day = Day(api=api, sandbox=sandbox, restart=restart if stack else None)
            checks = run_day(day)
        print()
        print(table(checks))
        return 1 if any(c.ok is False for c in checks) else 0
    finally:
        if stack is not None:
            stack.stop()
