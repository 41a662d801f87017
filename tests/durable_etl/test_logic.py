"""The ETL's plain modules: record rules, source parsing, off-peak arithmetic, settings, table writes."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from lwk_durable_etl.config import load_config
from lwk_durable_etl.errors import ConfigurationError, UnprocessedItemsError, UnprocessedKeysError, error_class
from lwk_durable_etl.event import parse_event
from lwk_durable_etl.layout import RunLayout, run_id_for
from lwk_durable_etl.off_peak import seconds_until_off_peak
from lwk_durable_etl.schema import InvalidRecord, normalise
from lwk_durable_etl.sources import SourceObject, list_source_objects, read_records
from lwk_durable_etl.table import count_run_items, write_items

from tests.durable_etl.conftest import Aws

BERLIN = ZoneInfo("Europe/Berlin")


# region records


def test_a_json_record_is_normalised_and_extra_fields_kept() -> None:
    record = {"id": " a1 ", "name": " Ada ", "amount": Decimal("12.50"), "updatedAt": "2026-03-01T10:00:00+01:00",
              "tags": ["x"], "note": None}  # fmt: skip
    assert normalise(record, from_csv=False) == {
        "id": "a1", "name": "Ada", "amount": Decimal("12.50"), "updatedAt": "2026-03-01T09:00:00Z",
        "tags": ["x"], "note": None,
    }  # fmt: skip


def test_a_csv_record_takes_numbers_as_text_and_drops_empty_cells() -> None:
    record = {"id": "c1", "name": "Bo", "amount": " 7.25 ", "updatedAt": "", "region": ""}
    assert normalise(record, from_csv=True) == {"id": "c1", "name": "Bo", "amount": Decimal("7.25")}


@pytest.mark.parametrize(
    ("record", "from_csv", "reason"),
    [
        ({"name": "n", "amount": 1}, False, "id is missing"),
        ({"id": 7, "name": "n", "amount": 1}, False, "id must be a string, not int"),
        ({"id": "  ", "name": "n", "amount": 1}, False, "id is empty"),
        ({"id": "x" * 1025, "name": "n", "amount": 1}, False, "id is longer than 1024 bytes"),
        ({"id": "a", "name": "n", "amount": "1"}, False, "amount must be a number, not str"),
        ({"id": "a", "name": "n", "amount": True}, False, "amount must be a number, not bool"),
        ({"id": "a", "name": "n", "amount": "1,5"}, True, "amount '1,5' is not a number"),
        ({"id": "a", "name": "n", "amount": "Infinity"}, True, "amount 'Infinity' is not a number"),
        ({"id": "a", "name": "n", "amount": "1_000"}, True, "amount '1_000' is not a number"),
        ({"id": "a", "name": "n", "amount": "1", "updatedAt": "yesterday"}, True, "is not an ISO 8601 timestamp"),
        ({"id": "a", "name": "n", "amount": "1", "updatedAt": "2026-01-01T00:00:00"}, True, "has no time zone offset"),
        ({"id": "a", "name": "n", "amount": 1, "etlRunId": "x"}, False, "field 'etlRunId' is reserved"),
        ({"id": "a", "name": "n", "amount": 1, "": 3}, False, "a field has an empty name"),
    ],
)
def test_an_invalid_record_is_rejected_with_its_reason(record: dict[str, Any], from_csv: bool, reason: str) -> None:
    with pytest.raises(InvalidRecord, match=reason):
        normalise(record, from_csv=from_csv)


def test_csv_records_keep_their_line_numbers_across_quoted_newlines_and_blank_lines(aws: Aws) -> None:
    aws.put("d/a.csv", '\ufeffid , name,amount\n1,"two\nlines",3\n\n2,b,4\n3,c,5\n')
    records = list(read_records(aws.s3, aws.bucket, SourceObject("d/a.csv", "csv")))
    assert [(r.line, r.record_id) for r in records] == [(3, "1"), (5, "2"), (6, "3")]
    assert records[0].payload == {"fields": {"id": "1", "name": "two\nlines", "amount": "3"}}
    resumed = list(read_records(aws.s3, aws.bucket, SourceObject("d/a.csv", "csv"), skip=2))
    assert [(r.line, r.record_id) for r in resumed] == [(6, "3")]


def test_json_lines_keep_the_original_text_and_skip_blank_lines(aws: Aws) -> None:
    aws.put("d/a.jsonl", '{"id": "x", "amount": 0.1000000000000000055511151231257827}\n\n  \n{"id": 5}\n')
    records = list(read_records(aws.s3, aws.bucket, SourceObject("d/a.jsonl", "jsonl")))
    assert [(r.line, r.record_id) for r in records] == [(1, "x"), (4, None)]
    # The text travels on unparsed, so no digit of the number is lost to a float.
    assert "0.1000000000000000055511151231257827" in records[0].payload["text"]


def test_only_jsonl_and_csv_objects_are_sources_in_key_order(aws: Aws) -> None:
    for key in ("d/b.CSV", "d/a.jsonl", "d/notes.txt", "d/sub/c.jsonl", "d/", "other/x.csv"):
        aws.put(key, "")
    objects, ignored = list_source_objects(aws.s3, aws.bucket, "d/")
    assert [(o.key, o.format, o.size) for o in objects] == [
        ("d/a.jsonl", "jsonl", 0),
        ("d/b.CSV", "csv", 0),
        ("d/sub/c.jsonl", "jsonl", 0),
    ]
    assert all(o.etag for o in objects)  # a re-run compares sizes and ETags with its plan
    assert ignored == 1


# endregion
# region off-peak


@pytest.mark.parametrize(
    ("now", "zone", "hour", "seconds"),
    [
        # 22:00 UTC is 23:00 in Berlin in winter: three hours to 02:00.
        (datetime(2026, 1, 15, 22, 0, tzinfo=UTC), BERLIN, 2, 3 * 3600),
        # Already inside the off-peak hour: no wait.
        (datetime(2026, 1, 15, 1, 30, tzinfo=UTC), BERLIN, 2, 0),
        # Just after it: the next day's.
        (datetime(2026, 1, 15, 3, 0, 1, tzinfo=UTC), ZoneInfo("UTC"), 2, 23 * 3600 - 1),
        # Spring forward (29 March 2026, 02:00 -> 03:00): 02:00 does not exist; the wait ends when the
        # clock jumps, 30 minutes after 01:30 CET.
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), BERLIN, 2, 1800),
        # The evening before that change, 23:00 CET: to 03:00 is 4 hours by the clock, 3 elapse.
        (datetime(2026, 3, 28, 22, 0, tzinfo=UTC), BERLIN, 3, 3600 * 3),
        (datetime(2026, 3, 28, 22, 0, tzinfo=UTC), BERLIN, 4, 3600 * 4),
        # Fall back (25 October 2026, 03:00 -> 02:00): 02:00 comes twice; the first counts.
        (datetime(2026, 10, 24, 23, 0, tzinfo=UTC), BERLIN, 2, 3600),
        # From 01:00 CEST to 05:00 CET is 5 hours elapsed.
        (datetime(2026, 10, 24, 23, 0, tzinfo=UTC), BERLIN, 5, 5 * 3600),
        # A zone far from UTC, across the date line.
        (datetime(2026, 6, 1, 12, 0, tzinfo=UTC), ZoneInfo("Pacific/Auckland"), 2, 2 * 3600),
    ],
)
def test_seconds_until_the_off_peak_hour(now: datetime, zone: ZoneInfo, hour: int, seconds: int) -> None:
    assert seconds_until_off_peak(now, hour=hour, zone=zone) == seconds


def test_the_off_peak_wait_never_exceeds_a_day_and_an_hour() -> None:
    start = datetime(2026, 3, 27, tzinfo=UTC)
    for minutes in range(0, 4 * 24 * 60, 7):
        now = datetime.fromtimestamp(start.timestamp() + minutes * 60, UTC)
        for hour in (0, 2, 3, 23):
            assert 0 <= seconds_until_off_peak(now, hour=hour, zone=BERLIN) <= 25 * 3600


# endregion
# region event, config, layout, errors


def test_a_valid_event_takes_the_default_batch_size() -> None:
    request = parse_event({"datasetId": "sales.2026-01_eu"}, default_batch_size=500)
    assert (request.dataset_id, request.batch_size) == ("sales.2026-01_eu", 500)
    assert parse_event({"datasetId": "x", "batchSize": 5000}, default_batch_size=1).batch_size == 5000


def test_the_configuration_names_a_missing_or_wrong_variable(etl_env: dict[str, str]) -> None:
    assert load_config(etl_env).off_peak_time_zone == "Europe/Berlin"
    with pytest.raises(ConfigurationError, match="environment variable TARGET_TABLE is not set"):
        load_config({**etl_env, "TARGET_TABLE": ""})
    with pytest.raises(ConfigurationError, match="POWERTOOLS_METRICS_NAMESPACE"):
        load_config({k: v for k, v in etl_env.items() if k != "POWERTOOLS_METRICS_NAMESPACE"})
    with pytest.raises(ConfigurationError, match="MAP_CONCURRENCY='0' is not a whole number from 1 to 50"):
        load_config({**etl_env, "MAP_CONCURRENCY": "0"})
    with pytest.raises(ConfigurationError, match="OFF_PEAK_TIME_ZONE='Mars/Base' is not an IANA time zone"):
        load_config({**etl_env, "OFF_PEAK_TIME_ZONE": "Mars/Base"})


def test_run_keys_are_derived_from_the_execution_and_the_batch_only() -> None:
    arn = "arn:aws:lambda:eu-west-1:123456789012:function:etl:live/durable-execution/daily/1"
    assert run_id_for(arn) == run_id_for(arn) != run_id_for(arn + "2")
    layout = RunLayout("daily", "abc")
    assert layout.extracted_key(3, 7) == "_etl/daily/abc/shards/00003/extracted/batch-000007.jsonl"
    assert layout.scatter_key(3, 1, 2) == "_etl/daily/abc/scatter/shard-00003/slice-000001-part-0002.jsonl"
    assert layout.rejects_key(3, 7).startswith(layout.rejects_prefix)


def test_shards_slices_and_units_are_cut_the_same_way_every_time() -> None:
    from lwk_durable_etl.sharding import Unit, plan_run, shard_of, split_range, units_for
    from lwk_durable_etl.sources import SourceObject

    objects = [SourceObject(f"d/{n}.jsonl", "jsonl", size) for n, size in enumerate([40, 40, 150, 10, 10])]
    plan = plan_run(objects, 0, shard_bytes=100)
    assert plan.slices == [(0, 2), (2, 3), (3, 5)] and plan.shards == 3  # 250 bytes, 100 a shard
    # An id always lands in the same shard, whichever object holds it; the spread is even enough.
    assert shard_of("r1", "a:1", 8) == shard_of("r1", "b:9", 8)
    counts = [0] * 8
    for n in range(8000):
        counts[shard_of(f"r{n}", "", 8)] += 1
    assert min(counts) > 850
    assert units_for([2500, 0, 1000], unit_batches=1000) == [Unit(0, 0, 1000), Unit(0, 1000, 2000),
                                                             Unit(0, 2000, 2500), Unit(2, 0, 1000)]  # fmt: skip
    assert split_range(0, 10, 3) == [(0, 3), (3, 6), (6, 10)] and split_range(5, 7, 8) == [(5, 6), (6, 7)]


def test_ids_no_utf8_store_can_keep_are_routed_and_their_records_rejected() -> None:
    # A JSON Lines id may be a lone surrogate ("\ud800" is valid JSON text): extraction must route it
    # like any other id (the same shard every time), and the transform rejects the record with a reason.
    from lwk_durable_etl.sharding import shard_of
    from lwk_durable_etl.staging import encode_lines

    assert shard_of("\ud800", "k:1", 7) == shard_of("\ud800", "k:9", 7)
    for record in ({"id": "\ud800", "name": "n", "amount": 1}, {"id": "a", "name": "n", "amount": 1, "x": ["\udfff"]},
                   {"id": "a", "name": "n", "amount": 1, "\ud800": "v"}):  # fmt: skip
        with pytest.raises(InvalidRecord, match="not valid Unicode"):
            normalise(record, from_csv=False)
    # Staged lines are ASCII: no character of a record can end a line, and a surrogate round-trips.
    staged = encode_lines([{"text": "a\u2028b\u0085c\x1c\ud800"}])
    assert staged.isascii() and staged.count(b"\n") == 1


def test_pacing_keeps_one_writer_within_its_share_of_the_write_budget(aws: Aws) -> None:
    now = [0.0]
    pauses: list[float] = []

    def sleep(seconds: float) -> None:
        pauses.append(seconds)
        now[0] += seconds

    write_items(aws.dynamodb, aws.table, _items(100), items_per_second=50, sleep=sleep, clock=lambda: now[0])
    # 100 items at 50 a second: requests of 25 start at 0, 0.5, 1.0 and 1.5 s.
    assert pauses == [0.5, 0.5, 0.5] and aws.item_count() == 100


def test_checkpointed_error_types_map_back_to_the_etl_classes_only() -> None:
    verification = error_class("lwk_durable_etl.errors.VerificationError")
    assert verification is not None and verification.__name__ == "VerificationError"
    assert error_class("aws_durable_execution_sdk_python.exceptions.StepError") is None
    assert error_class(None) is None


# endregion
# region table


def _items(count: int) -> list[dict[str, Any]]:
    from lwk_durable_etl.contract import table_partition_key

    return [
        {"datasetKey": {"S": table_partition_key("t", f"i{n:03d}")}, "datasetId": {"S": "t"},
         "id": {"S": f"i{n:03d}"}, "n": {"N": str(n)}}
        for n in range(count)
    ]  # fmt: skip


def _throttle(aws: Aws, monkeypatch: pytest.MonkeyPatch, *, times: int) -> list[int]:
    """Let moto's BatchWriteItem take only the first item of each request `times` times, returning
    the rest as UnprocessedItems as a throttled DynamoDB does (moto itself never throttles)."""
    real = aws.dynamodb.batch_write_item
    sent: list[int] = []

    def throttled(**request: Any) -> dict[str, Any]:
        puts = request["RequestItems"][aws.table]
        sent.append(len(puts))
        if len(sent) > times:
            return real(**request)
        real(RequestItems={aws.table: puts[:1]})
        return {"UnprocessedItems": {aws.table: puts[1:]} if puts[1:] else {}}

    monkeypatch.setattr(aws.dynamodb, "batch_write_item", throttled)
    return sent


def test_unprocessed_items_are_resent_with_back_off_until_written(aws: Aws, monkeypatch: pytest.MonkeyPatch) -> None:
    sent = _throttle(aws, monkeypatch, times=3)
    pauses: list[float] = []
    assert write_items(aws.dynamodb, aws.table, _items(60), sleep=pauses.append) == 60
    assert sent == [25, 24, 23, 22, 25, 10]  # the first request shrinks as items get through
    assert pauses == [0.05, 0.1, 0.2]
    assert aws.item_count() == 60


def test_items_still_unprocessed_after_every_attempt_raise_a_retryable_error(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    _throttle(aws, monkeypatch, times=100)
    with pytest.raises(UnprocessedItemsError, match="left 17 items unwritten") as raised:
        write_items(aws.dynamodb, aws.table, _items(25), sleep=lambda _: None)
    assert raised.value.retryable
    assert aws.item_count() == 8


def test_writing_the_same_batch_twice_leaves_one_item_per_key(aws: Aws) -> None:
    write_items(aws.dynamodb, aws.table, _items(30), sleep=lambda _: None)
    write_items(aws.dynamodb, aws.table, _items(30), sleep=lambda _: None)
    assert aws.item_count() == 30


def _with_run(items: list[dict[str, Any]], run_id: str) -> list[dict[str, Any]]:
    return [{**item, "etlRunId": {"S": run_id}} for item in items]


def test_the_check_counts_only_this_runs_items_and_names_the_others(aws: Aws) -> None:
    items = _items(250)
    write_items(aws.dynamodb, aws.table, _with_run(items[:240], "run-a") + _with_run(items[240:245], "run-b"))
    ids = [item["id"]["S"] for item in items]
    present, missing = count_run_items(aws.dynamodb, aws.table, "t", "run-a", ids, sleep=lambda _: None)
    assert present == 240
    assert missing == [f"i{n:03d}" for n in range(240, 250)]  # 5 from another run, 5 never written


def test_unread_keys_are_asked_again_and_persistent_throttling_is_retryable(
    aws: Aws, monkeypatch: pytest.MonkeyPatch
) -> None:
    write_items(aws.dynamodb, aws.table, _with_run(_items(150), "r"), sleep=lambda _: None)
    real = aws.dynamodb.batch_get_item
    calls: list[int] = []

    def throttled(**request: Any) -> dict[str, Any]:
        keys = request["RequestItems"][aws.table]["Keys"]
        calls.append(len(keys))
        response = real(RequestItems={aws.table: {**request["RequestItems"][aws.table], "Keys": keys[:10]}})
        if keys[10:]:
            response["UnprocessedKeys"] = {aws.table: {**request["RequestItems"][aws.table], "Keys": keys[10:]}}
        return response

    monkeypatch.setattr(aws.dynamodb, "batch_get_item", throttled)
    ids = [f"i{n:03d}" for n in range(150)]
    assert count_run_items(aws.dynamodb, aws.table, "t", "r", ids[:30], sleep=lambda _: None) == (30, [])
    assert calls == [30, 20, 10]
    with pytest.raises(UnprocessedKeysError, match="left 20 keys unread") as raised:
        count_run_items(aws.dynamodb, aws.table, "t", "r", ids[:100], sleep=lambda _: None)
    assert raised.value.retryable


# endregion


def test_the_etl_refuses_exactly_what_the_strict_dynamodb_stand_in_refuses() -> None:
    from lwk_durable_etl.dynamodb_limits import ItemLimitError, check_item
    from moto.dynamodb.exceptions import MockValidationException

    from support.aws_limits import check_dynamodb_item

    def nested(levels: int) -> dict[str, Any]:
        value: dict[str, Any] = {"N": "1"}
        for _ in range(levels - 1):
            value = {"M": {"a": value}}
        return value

    base = {"datasetId": {"S": "d"}, "id": {"S": "x"}}
    cases = [
        {"tree": nested(32)}, {"tree": nested(33)}, {"l": {"L": [nested(31)]}}, {"l": {"L": [nested(32)]}},
        {"n": {"N": "1" * 38}}, {"n": {"N": "1" * 39}}, {"n": {"N": "1" + "0" * 60}}, {"n": {"N": "-1E+126"}},
        {"n": {"N": "9.9999999999999999999999999999999999999E+125"}}, {"n": {"N": "1E-130"}},
        {"n": {"N": "9E-131"}}, {"n": {"N": "0"}}, {"ns": {"NS": ["1", "1E+200"]}},
        {"s": {"S": "x" * (400 * 1024 - 30)}}, {"s": {"S": "x" * (400 * 1024)}},
        {"m": {"M": {"": {"S": "v"}}}}, {"m": {"M": {"k": {"NULL": True}, "b": {"BOOL": False}}}},
        {"id": {"S": "i" * 1024}}, {"id": {"S": "i" * 1025}}, {"datasetId": {"S": "d" * 2049}},
    ]  # fmt: skip
    for extra in cases:
        item = {**base, **extra}
        try:
            expected = check_dynamodb_item(item, partition_key="datasetId", sort_key="id")
        except MockValidationException:
            expected = None
        try:
            ours = check_item(item, partition_key="datasetId", sort_key="id")
        except ItemLimitError:
            ours = None
        assert ours == expected, (list(extra), ours, expected)


@pytest.mark.parametrize(
    ("text", "stored"),
    [
        ("-10000000000000000000000000000000000000000", "-1E+40"),
        ("1.100", "1.1"),
        ("9" * 38 + "000", "9." + "9" * 37 + "E+40"),
    ],
)
def test_trailing_zeros_never_make_a_storable_number_a_reject(text: str, stored: str) -> None:
    # DynamoDB trims trailing zeros; boto3's 38-digit serializer refused the long form as rounded.
    from boto3.dynamodb.types import TypeSerializer
    from lwk_durable_etl.steps import _trimmed

    value = _trimmed(Decimal(text))
    assert value == Decimal(text) and TypeSerializer().serialize(value) == {"N": stored}
    assert _trimmed({"a": [int(Decimal(text))] if "." not in text else [Decimal(text)]})["a"][0] == Decimal(text)
