"""One module per outside service. Adapters are the only code that knows a vendor's wire format."""
