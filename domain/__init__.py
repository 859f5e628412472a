"""Our own rules, one home each: pure values and checks with no I/O, no settings and no vendor
formats, so workflows (through the sandbox passthrough), activities, adapters and the API may
all import them."""
