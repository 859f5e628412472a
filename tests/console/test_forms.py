"""api/console/forms.py: a form's text onto the API's request models."""

from __future__ import annotations

import pytest


def test_form_numbers_become_numbers_in_optional_fields_too():
    from api.console.forms import FormInvalid, parse
    from api.routes.products import ProductUpdate

    # `Annotated[float, ...] | None` (an edit's optional fields) as well as plain `int`.
    data = parse(ProductUpdate, {"price_jpy": " 45000 ", "length_cm": "30.5"}, "en")
    assert data.price_jpy == 45000 and data.length_cm == 30.5
    with pytest.raises(FormInvalid) as refused:
        parse(ProductUpdate, {"price_jpy": "45,000", "width_cm": "wide"}, "ja")
    assert set(refused.value.errors) == {"price_jpy", "width_cm"}
