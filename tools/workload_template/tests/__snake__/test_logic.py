"""The __Title__ function's pure logic: what becomes an item, where it goes, what is stored."""

from __future__ import annotations

import json

import pytest

from support.paths import use_lambda_code

use_lambda_code("__key__")

from lwk___snake__ import logic  # noqa: E402
from lwk___snake__.errors import RecordError  # noqa: E402


def test_a_json_object_with_an_id_becomes_an_item() -> None:
    item = logic.to_item('{"id": "order-1", "total": 12.5, "lines": [1, 2]}')
    assert item == logic.Item(item_id="order-1", fields={"total": 12.5, "lines": [1, 2]})
    assert logic.result_key("results/", item) == "results/order-1.json"
    assert json.loads(logic.render(item)) == {"id": "order-1", "total": 12.5, "lines": [1, 2]}
    assert logic.render(item) == logic.render(logic.to_item('{"lines": [1, 2], "total": 12.5, "id": "order-1"}'))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("not json", "not JSON"),
        ("[1, 2]", "JSON list, not an object"),
        ('{"total": 1}', "'id' is missing"),
        ('{"id": "../etc/passwd"}', "does not match"),
        ('{"id": 7}', "'id' is missing"),
    ],
)
def test_anything_else_is_refused_with_a_reason_that_names_no_content(body: str, message: str) -> None:
    with pytest.raises(RecordError, match=message) as refused:
        logic.to_item(body)
    assert "passwd" not in str(refused.value)
