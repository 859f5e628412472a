"""The emulators' vendor quota: over `per_second` requests in a second answer 429 with
Retry-After, in the vendor's error shape, and the meter counts served and refused requests."""

from __future__ import annotations

import time

import httpx


def test_a_quota_refuses_the_excess_with_retry_after_and_the_meter_counts(clean_sandbox):
    base = clean_sandbox.base_url
    assert httpx.post(f"{base}/_sandbox/quotas", json={"fedex": 0}).status_code == 400
    httpx.post(f"{base}/_sandbox/quotas", json={"fedex": 1}).raise_for_status()
    with httpx.Client(base_url=base) as http:  # one connection: the three follow at once
        answers = [http.post("/fedex/oauth/token", data={}) for _ in range(3)]
    refused = [a for a in answers if a.status_code == 429]
    assert refused and answers[0].status_code != 429
    assert int(refused[0].headers["retry-after"]) >= 1
    assert refused[0].json()["errors"][0]["code"] == "RATE.LIMIT.EXCEEDED"
    seconds = httpx.get(f"{base}/_sandbox/meter", params={"service": "fedex"}).json()["seconds"]
    assert sum(s[1] for s in seconds) == 3 - len(refused)
    assert sum(s[2] for s in seconds) == len(refused)
    clean_sandbox.ctx.quotas.clear()


def test_a_daily_quota_refuses_the_family_until_the_pacific_midnight(clean_sandbox):
    from sandbox.core import pacific_day

    base = clean_sandbox.base_url
    bad = httpx.post(f"{base}/_sandbox/daily_quotas", json={"nope": {"sell.inventory": 1}})
    assert bad.status_code == 400
    httpx.post(
        f"{base}/_sandbox/daily_quotas", json={"ebay": {"sell.inventory": 2}}
    ).raise_for_status()
    with httpx.Client(base_url=f"{base}/ebay") as http:
        inventory = [http.get("/sell/inventory/v1/offer/nope").status_code for _ in range(3)]
        fulfillment = http.get("/sell/fulfillment/v1/order/nope")
    assert inventory[:2] != [429, 429] and inventory[2] == 429
    assert fulfillment.status_code != 429  # another family, another count
    day, left = pacific_day(time.time())
    refused = httpx.get(f"{base}/ebay/sell/inventory/v1/offer/nope")
    assert abs(int(refused.headers["retry-after"]) - left) < 5
    days = httpx.get(f"{base}/_sandbox/meter", params={"service": "ebay"}).json()["days"]
    assert ["sell.inventory", day, 2, 2] in days
    clean_sandbox.ctx.daily_quotas.clear()
