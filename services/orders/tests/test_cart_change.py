"""A cart change: what may be left out, and what may be emptied with null."""

import pytest
from pydantic import ValidationError

from rinnovo.orders.entrypoints.cart_schemas import KEPT_IF_ABSENT, CartChange
from rinnovo.runtime.bounds import MAX_STORAGE_GB


@pytest.mark.parametrize("field", KEPT_IF_ABSENT)
def test_null_is_refused_where_nothing_can_be_emptied(field: str) -> None:
    # It reached the quote as None and answered 500.
    with pytest.raises(ValidationError) as refused:
        CartChange.model_validate({field: None})
    assert [e["loc"] for e in refused.value.errors()] == [(field,)]


def test_left_out_fields_are_not_changed() -> None:
    assert CartChange.model_validate({"nso": True}).model_dump(exclude_unset=True) == {"nso": True}


def test_payment_method_and_code_may_be_emptied() -> None:
    change = CartChange.model_validate({"payment_method": None, "convention_code": None})
    assert change.model_dump(exclude_unset=True) == {
        "payment_method": None,
        "convention_code": None,
    }


def test_the_document_says_which_fields_take_null() -> None:
    properties = CartChange.model_json_schema()["properties"]
    for field in KEPT_IF_ABSENT:
        assert "anyOf" not in properties[field]
        assert "default" not in properties[field]
    assert {"type": "null"} in properties["payment_method"]["anyOf"]
    assert properties["storage_gb"] == {
        "minimum": 0,
        "maximum": MAX_STORAGE_GB,
        "title": "Storage Gb",
        "type": "integer",
    }
