"""Values shown through the catalogs that the templates look up dynamically (statuses, roles,
carriers, conditions, workflow steps, checklist items, navigation): listed here once so
`pybabel extract` finds them."""

from __future__ import annotations


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, don't translate"
    return message


DYNAMIC = [
    # provider health checks (ops/doctor.py CHECKS)
    N_("configuration"),
    N_("database"),
    N_("admin account"),
    N_("redis"),
    N_("temporal"),
    N_("s3 bucket"),
    N_("ebay credentials"),
    N_("fedex credentials"),
    N_("sendgrid credentials"),
    N_("openai credentials"),
    N_("api"),
    N_("sentry"),
    # navigation
    N_("Today"),
    N_("Products"),
    N_("Listing review"),
    N_("Orders"),
    N_("Inspection"),
    N_("Shipments"),
    N_("Operations"),
    # roles
    N_("admin"),
    N_("staff"),
    N_("inspector"),
    # product statuses
    N_("draft"),
    N_("generating"),
    N_("awaiting_approval"),
    N_("publishing"),
    N_("listed"),
    N_("rejected"),
    N_("failed"),
    N_("ended"),
    N_("sold_out"),
    # conditions (domain/catalog.py Condition values)
    N_("new"),
    N_("like_new"),
    N_("used_excellent"),
    N_("used_very_good"),
    N_("used_good"),
    N_("used_acceptable"),
    N_("for_parts"),
    # order statuses and fulfillment steps
    N_("received"),
    N_("inspecting"),
    N_("labelling"),
    N_("shipped"),
    N_("delivered"),
    N_("completed"),
    N_("cancelled"),
    N_("refunded"),
    N_("recording"),
    N_("confirming"),
    N_("uploading_tracking"),
    N_("notifying"),
    N_("in_transit"),
    N_("compensating"),
    N_("awaiting_decision"),
    N_("contacting_buyer"),
    # inspection results
    N_("pending"),
    N_("passed"),
    # shipment statuses and carriers
    N_("rated"),
    N_("awaiting_tracking"),
    N_("label_created"),
    N_("exception"),
    N_("fedex"),
    N_("yamato"),
    N_("sagawa"),
    # tracking event statuses (adapters/carriers/base.py TrackingStatus; the others above)
    N_("picked_up"),
    N_("out_for_delivery"),
    N_("on_hold"),
    N_("delivery_delayed"),
    N_("delivery_failed"),
    N_("ready_for_pickup"),
    N_("return_to_sender"),
    N_("unknown"),
    # inspection checklist (activities/inspection.py)
    N_("Item matches the listing photos"),
    N_("Condition is as described"),
    N_("New item is sealed / unused"),
    N_("Accessories listed are all present"),
    N_("Packed safely for international transit"),
    N_("Powers on and every function works"),
    N_("Functions as intended"),
]
