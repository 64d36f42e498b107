"""Lambda FilterCriteria semantics for Kafka event source mappings (emulator/kafka/filters.py)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pytest

from emulator.kafka import filters
from emulator.kafka.filters import FilterCriteriaError, RecordFilter

META: dict[str, Any] = {
    "topic": "mytopic",
    "partition": 0,
    "offset": 15,
    "timestamp": 1545084650987,
    "timestampType": "CREATE_TIME",
    "key": None,
    "headers": [],
}


def compile_filters(*patterns: Any) -> RecordFilter:
    """Patterns given as dicts are sent as JSON strings, the way CloudFormation passes them."""
    entries = [{"Pattern": p if isinstance(p, str) else json.dumps(p)} for p in patterns]
    return RecordFilter.from_criteria({"Filters": entries})


def as_json(data: Any) -> bytes:
    return json.dumps(data).encode()


def value_matches(value_pattern: Any, data: Any) -> bool:
    """Match a JSON data filter ({"value": value_pattern}) against a JSON record value."""
    raw = data if isinstance(data, bytes) else as_json(data)
    return compile_filters({"value": value_pattern}).matches(raw, META)


def check(value_pattern: Any, matching: list[Any], non_matching: list[Any]) -> None:
    for data in matching:
        assert value_matches(value_pattern, data), f"{value_pattern} should match {data!r}"
    for data in non_matching:
        assert not value_matches(value_pattern, data), f"{value_pattern} should not match {data!r}"


# --- comparison operators --------------------------------------------------------------------------


def test_null_matches_only_json_null() -> None:
    check({"UserID": [None]}, [{"UserID": None}], [{"UserID": "null"}, {"UserID": ""}, {"Other": 1}])


def test_empty_matches_only_empty_string() -> None:
    check({"LastName": [""]}, [{"LastName": ""}], [{"LastName": " "}, {"LastName": None}, {"Other": ""}])


def test_equals_is_exact_and_case_sensitive() -> None:
    check({"Name": ["Alice"]}, [{"Name": "Alice"}], [{"Name": "alice"}, {"Name": "Alice "}, {"Other": "Alice"}])


def test_equals_ignore_case() -> None:
    check(
        {"Name": [{"equals-ignore-case": "alice"}]},
        [{"Name": "ALICE"}, {"Name": "Alice"}],
        [{"Name": "Alicia"}, {"Name": 5}, {"Other": "alice"}],
    )


def test_equals_booleans_are_json_literals() -> None:
    check({"flag": [True]}, [{"flag": True}], [{"flag": "true"}, {"flag": 1}, {"flag": False}, {"flag": None}])


def test_and_across_fields() -> None:
    pattern = {"Location": ["New York"], "Day": ["Monday"]}
    check(
        pattern,
        [{"Location": "New York", "Day": "Monday", "Extra": 1}],
        [{"Location": "New York", "Day": "Tuesday"}, {"Location": "New York"}],
    )


def test_or_within_value_array() -> None:
    check({"PaymentType": ["Credit", "Debit"]}, [{"PaymentType": "Debit"}], [{"PaymentType": "Cash"}])


def test_or_across_fields() -> None:
    pattern = {"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]}
    check(
        pattern,
        [{"Location": "New York", "Day": "Friday"}, {"Location": "Paris", "Day": "Monday"}],
        [{"Location": "Paris", "Day": "Friday"}, {}],
    )


def test_or_combined_with_and_and_nested_or() -> None:
    pattern = {
        "source": ["app"],
        "$or": [{"kind": ["a"]}, {"level": [{"numeric": [">", 3]}], "$or": [{"x": [1]}, {"y": [2]}]}],
    }
    check(
        pattern,
        [{"source": "app", "kind": "a"}, {"source": "app", "level": 4, "y": 2}],
        [{"source": "other", "kind": "a"}, {"source": "app", "level": 4}, {"source": "app", "level": 2, "x": 1}],
    )


def test_anything_but_list() -> None:
    check(
        {"Weather": [{"anything-but": ["Raining", "Snowing"]}]},
        [{"Weather": "Sunny"}, {"Weather": 5}, {"Weather": None}],
        [{"Weather": "Raining"}, {"Weather": "Snowing"}, {"Other": "Sunny"}],
    )


def test_anything_but_single_string() -> None:
    check({"state": [{"anything-but": "init"}]}, [{"state": "running"}], [{"state": "init"}])


def test_anything_but_numbers_compare_by_value() -> None:
    pattern = {"limit": [{"anything-but": [100, 200]}]}
    check(pattern, [{"limit": 150}, {"limit": "100"}], [{"limit": 100}, b'{"limit": 1.0e2}', {"limit": 200}])
    check({"limit": [{"anything-but": 123}]}, [{"limit": 124}], [{"limit": 123}])


def test_anything_but_prefix() -> None:
    check(
        {"region": [{"anything-but": {"prefix": "us-"}}]},
        [{"region": "eu-west-1"}, {"region": 7}],
        [{"region": "us-east-1"}, {"other": "eu"}],
    )


def test_anything_but_suffix() -> None:
    check({"file": [{"anything-but": {"suffix": ".png"}}]}, [{"file": "a.jpg"}], [{"file": "a.png"}])


def test_anything_but_equals_ignore_case() -> None:
    check(
        {"state": [{"anything-but": {"equals-ignore-case": ["init", "Stopped"]}}]},
        [{"state": "running"}],
        [{"state": "INIT"}, {"state": "stopped"}],
    )


def test_numeric_equals_compares_values() -> None:
    check(
        {"Price": [{"numeric": ["=", 100]}]},
        [{"Price": 100}, b'{"Price": 100.0}', b'{"Price": 1e2}'],
        [{"Price": 101}, {"Price": "100"}, {"Price": True}, {"Other": 100}],
    )


@pytest.mark.parametrize(
    ("op", "matching", "non_matching"),
    [
        (">", [11, 10.5], [10, 9]),
        (">=", [10, 11], [9.99]),
        ("<", [9, -1], [10, 11]),
        ("<=", [10, 9], [10.01]),
    ],
)
def test_numeric_single_comparisons(op: str, matching: list[float], non_matching: list[float]) -> None:
    check({"n": [{"numeric": [op, 10]}]}, [{"n": v} for v in matching], [{"n": v} for v in non_matching])


def test_numeric_range() -> None:
    check(
        {"Price": [{"numeric": [">", 10, "<=", 20]}]},
        [{"Price": 10.5}, {"Price": 20}],
        [{"Price": 10}, {"Price": 20.1}, {"Price": "15"}],
    )
    check({"n": [{"numeric": [">=", 0, "<", 1]}]}, [{"n": 0}, {"n": 0.5}], [{"n": 1}, {"n": -0.1}])


def test_exists_true_only_on_leaf_nodes() -> None:
    check(
        {"ProductName": [{"exists": True}]},
        [{"ProductName": "x"}, {"ProductName": None}, {"ProductName": ["a"]}],
        [{"Other": 1}, {"ProductName": {"nested": 1}}, {"ProductName": []}],
    )


def test_exists_false() -> None:
    check(
        {"ProductName": [{"exists": False}]},
        [{"Other": 1}, {"ProductName": {"nested": 1}}, {"ProductName": []}],
        [{"ProductName": "x"}, {"ProductName": None}, {"ProductName": ["x"]}, {"ProductName": [{"a": 1}, 2]}],
    )


def test_exists_false_on_nested_path_with_missing_parent() -> None:
    check({"a": {"b": [{"exists": False}]}}, [{}, {"a": 5}, {"a": {"c": 1}}], [{"a": {"b": 1}}])


def test_prefix() -> None:
    check(
        {"Region": [{"prefix": "us-"}]},
        [{"Region": "us-east-1"}, {"Region": "us-"}],
        [{"Region": "eu-west-1"}, {"Region": "eu-us-1"}, {"Region": "US-east-1"}, {"Region": 5}],
    )


def test_prefix_equals_ignore_case() -> None:
    check(
        {"svc": [{"prefix": {"equals-ignore-case": "EVENTB"}}]},
        [{"svc": "EventBridge"}, {"svc": "eventbus"}],
        [{"svc": "ebridge"}, {"svc": "my-eventbridge"}],
    )


def test_suffix() -> None:
    check(
        {"FileName": [{"suffix": ".png"}]},
        [{"FileName": "a.png"}],
        [{"FileName": "a.PNG"}, {"FileName": "a.png.bak"}, {"FileName": 1}],
    )


def test_suffix_equals_ignore_case() -> None:
    check(
        {"FileName": [{"suffix": {"equals-ignore-case": ".PNG"}}]},
        [{"FileName": "a.png"}, {"FileName": "B.PnG"}],
        [{"FileName": "a.jpg"}, {"FileName": "a.png.bak"}],
    )


def test_mixed_match_values_are_ored() -> None:
    check(
        {"status": ["done", {"prefix": "err"}, {"exists": False}]},
        [{"status": "done"}, {"status": "error"}, {}],
        [{"status": "pending"}],
    )


# --- numbers, arrays, nesting ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "raw", "expected"),
    [
        ('{"value": {"a": [300]}}', b'{"a": 300}', True),
        ('{"value": {"a": [300]}}', b'{"a": 300.0}', False),
        ('{"value": {"a": [300]}}', b'{"a": 3.0e2}', False),
        ('{"value": {"a": [300.0]}}', b'{"a": 300.0}', True),
        ('{"value": {"a": [300.0]}}', b'{"a": 3.0e2}', False),
        ('{"value": {"a": [3.0e2]}}', b'{"a": 3.0e2}', True),
        ('{"value": {"a": [300]}}', b'{"a": "300"}', False),
    ],
)
def test_number_equality_is_by_string_form(pattern: str, raw: bytes, expected: bool) -> None:
    assert compile_filters(pattern).matches(raw, META) is expected


def test_array_in_data_matches_if_any_element_matches() -> None:
    check({"tags": ["b"]}, [{"tags": ["a", "b"]}, {"tags": [["x"], ["b"]]}], [{"tags": ["a", "c"]}, {"tags": []}])
    check({"n": [{"numeric": [">", 5]}]}, [{"n": [1, 9]}], [{"n": [1, 2]}])
    check({"s": [{"anything-but": ["x"]}]}, [{"s": ["x", "y"]}], [{"s": ["x", "x"]}])


def test_array_of_objects_matches_within_one_element() -> None:
    data = {"employees": [{"first": "John", "last": "Doe"}, {"first": "Anna", "last": "Smith"}]}
    check({"employees": {"first": ["Anna"]}}, [data], [{"employees": [{"first": "Peter"}]}])
    check({"employees": {"first": ["Anna"], "last": ["Smith"]}}, [data], [])
    check({"employees": {"first": ["Anna"], "last": ["Doe"]}}, [], [data])


def test_nested_fields() -> None:
    pattern = {"device": {"session": {"duration": [{"numeric": [">", 100]}]}}}
    check(
        pattern,
        [{"device": {"session": {"duration": 162}}}],
        [{"device": {"session": {"duration": 50}}}, {"device": {"session": 162}}, {"device": "x"}],
    )


def test_json_array_value_is_data() -> None:
    check({"a": [1]}, [[{"a": 2}, {"a": 1}]], [[{"a": 2}]])


# --- filters, criteria, metadata -------------------------------------------------------------------


def test_multiple_filters_are_ored() -> None:
    rf = compile_filters({"value": {"kind": ["a"]}}, {"value": {"kind": ["b"]}})
    assert rf.matches(as_json({"kind": "a"}), META)
    assert rf.matches(as_json({"kind": "b"}), META)
    assert not rf.matches(as_json({"kind": "c"}), META)


@pytest.mark.parametrize("criteria", [None, {}, {"Filters": []}, {"Filters": None}])
def test_no_filters_matches_everything(criteria: Any) -> None:
    rf = RecordFilter.from_criteria(criteria)
    assert rf.matches_everything
    assert rf.matches(b"\xff", META)


def test_with_filters_does_not_match_everything() -> None:
    assert not compile_filters({"value": {"kind": ["a"]}}).matches_everything


def test_pattern_given_as_mapping_is_accepted() -> None:
    rf = RecordFilter.from_criteria({"Filters": [{"Pattern": {"value": {"kind": ["a"], "n": [300]}}}]})
    assert rf.matches(b'{"kind": "a", "n": 300}', META)
    assert not rf.matches(b'{"kind": "a", "n": 300.0}', META)


def test_ten_filters_are_allowed() -> None:
    rf = compile_filters(*({"value": {"n": [i]}} for i in range(10)))
    assert rf.matches(b'{"n": 9}', META)
    assert not rf.matches(b'{"n": 10}', META)


# kafka-filtering.html: "Amazon MSK and self-managed Apache Kafka event source mappings only support
# filtering on the value key". Patterns on other record fields are refused when the mapping is read.
@pytest.mark.parametrize(
    "pattern",
    [
        {"topic": ["mytopic"]},
        {"partition": [0]},
        {"offset": [{"numeric": [">=", 10]}]},
        {"timestampType": ["LOG_APPEND_TIME"]},
        {"key": [{"exists": True}]},
        {"headers": {"traceId": [97]}},
        {"value": {"kind": ["a"]}, "topic": ["mytopic"]},
        {"$or": [{"value": {"kind": ["a"]}}, {"key": ["b3JkZXItMQ=="]}]},
        {"kind": ["a"]},  # a data field not nested under value
    ],
    ids=["topic", "partition", "offset", "timestampType", "key", "headers", "value and topic", "$or with key",
         "data field at the top"],
)
def test_patterns_on_fields_other_than_value_are_refused(pattern: dict[str, Any]) -> None:
    with pytest.raises(FilterCriteriaError, match="only support filtering on the value key"):
        compile_filters(pattern)


def test_a_top_level_or_of_value_patterns_is_accepted() -> None:
    rf = compile_filters({"$or": [{"value": {"kind": ["a"]}}, {"value": {"kind": ["b"]}}]})
    assert rf.matches(as_json({"kind": "b"}), META)
    assert not rf.matches(as_json({"kind": "c"}), META)


# --- Kafka value format matrix (dg: kafka-filtering) ------------------------------------------------

JSON_VALUE = b'{"device_ID": "AB1234"}'
TEXT_VALUE = b"Hello, this is a test."
NON_UTF8_VALUE = b"\xff\xfe\x00"
JSON_PATTERN_HIT = {"device_ID": [{"prefix": "AB"}]}
JSON_PATTERN_MISS = {"device_ID": [{"prefix": "ZZ"}]}
TEXT_PATTERN_HIT = [{"prefix": "Hello"}]
TEXT_PATTERN_MISS = [{"anything-but": ["Hello, this is a test."]}]


@pytest.mark.parametrize(
    ("row", "value", "value_pattern", "expected"),
    [
        ("plain string + plain string pattern: applies", TEXT_VALUE, TEXT_PATTERN_HIT, True),
        ("plain string + plain string pattern: applies", TEXT_VALUE, TEXT_PATTERN_MISS, False),
        ("plain string + JSON pattern: metadata only", TEXT_VALUE, JSON_PATTERN_MISS, True),
        ("JSON + plain string pattern: metadata only", JSON_VALUE, TEXT_PATTERN_MISS, True),
        ("JSON + JSON pattern: applies", JSON_VALUE, JSON_PATTERN_HIT, True),
        ("JSON + JSON pattern: applies", JSON_VALUE, JSON_PATTERN_MISS, False),
        ("non-UTF-8 + JSON pattern: metadata only", NON_UTF8_VALUE, JSON_PATTERN_MISS, True),
        ("non-UTF-8 + plain string pattern: metadata only", NON_UTF8_VALUE, TEXT_PATTERN_MISS, True),
        ("null value + JSON pattern: metadata only", None, JSON_PATTERN_MISS, True),
        ("invalid JSON is a plain string", b'{"device_ID": ', [{"prefix": '{"device'}], True),
        ("JSON scalar is a plain string", b"42", ["42"], True),
        ("JSON scalar is a plain string", b"42", ["43"], False),
    ],
)
def test_kafka_value_format_matrix(row: str, value: bytes | None, value_pattern: Any, expected: bool) -> None:
    assert compile_filters({"value": value_pattern}).matches(value, META) is expected, row


def test_mismatched_format_applies_per_or_branch() -> None:
    rf = compile_filters({"$or": [{"value": JSON_PATTERN_MISS}, {"value": [{"prefix": "Bye"}]}]})
    assert rf.matches(JSON_VALUE, META) is True  # the plain-string branch is skipped for JSON: matched
    assert rf.matches(TEXT_VALUE, META) is True  # the JSON branch is skipped for a plain string: matched
    both_apply = compile_filters({"$or": [{"value": JSON_PATTERN_MISS}, {"value": {"other": ["x"]}}]})
    assert both_apply.matches(JSON_VALUE, META) is False


def test_value_key_in_metadata_is_ignored() -> None:
    rf = compile_filters({"value": [{"prefix": "Hello"}]})
    metadata = {**META, "value": base64.b64encode(TEXT_VALUE).decode()}
    assert rf.matches(TEXT_VALUE, metadata)
    assert not rf.matches(b"Bye", metadata)


# --- performance contract: parse once, only when needed ---------------------------------------------


@pytest.fixture
def count_parses(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    calls: list[str] = []
    real = filters._loads

    def counting(text: str) -> Any:
        calls.append(text)
        return real(text)

    monkeypatch.setattr(filters, "_loads", counting)
    return calls


def test_value_json_parsed_at_most_once_per_call(count_parses: list[str]) -> None:
    rf = compile_filters({"value": {"a": [1]}}, {"value": {"a": [2]}}, {"value": {"b": [3]}})
    count_parses.clear()
    assert not rf.matches(b'{"a": 5}', META)
    assert len(count_parses) == 1


def test_value_not_parsed_when_no_pattern_needs_it(count_parses: list[str]) -> None:
    rf = RecordFilter.from_criteria(None)
    count_parses.clear()
    assert rf.matches(b'{"a": 5}', META)
    assert count_parses == []



# --- invalid criteria ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("pattern", "message"),
    [
        ('{"value": ', "invalid JSON"),
        ('{"value": {"a": [NaN]}}', "invalid JSON"),
        ("[1]", "must be a JSON object"),
        ({}, "empty objects are not allowed"),
        ({"value": {}}, "value: empty objects are not allowed"),
        ({"value": {"a": []}}, "value.a: empty arrays are not allowed"),
        ({"value": {"a": "x"}}, "value.a: must be an object or an array"),
        ({"value": {"a": [["x"]]}}, "value.a[0]: match values must be"),
        ({"value": {"a": [{"wildcard": "a*"}]}}, "'wildcard' is EventBridge-only"),
        ({"value": {"a": [{"cidr": "10.0.0.0/8"}]}}, "'cidr' is EventBridge-only"),
        ({"value": {"a": [{"regex": "a.*"}]}}, "unknown operator 'regex'"),
        ({"value": {"a": [{"prefix": "a", "suffix": "b"}]}}, "exactly one key"),
        ({"value": {"a": [{"prefix": 5}]}}, "prefix must be a string"),
        ({"value": {"a": [{"prefix": {"wildcard": "x"}}]}}, "only {\"equals-ignore-case\""),
        ({"value": {"a": [{"suffix": None}]}}, "suffix must be a string"),
        ({"value": {"a": [{"equals-ignore-case": ["x"]}]}}, "equals-ignore-case must be a string"),
        ({"value": {"a": [{"exists": "yes"}]}}, "exists must be true or false"),
        ({"value": {"a": [{"exists": True, "prefix": "x"}]}}, "exactly one key"),
        ({"value": {"a": [{"numeric": 5}]}}, "numeric must be an array"),
        ({"value": {"a": [{"numeric": ["=", "5"]}]}}, "must be a finite number"),
        ({"value": {"a": [{"numeric": ["==", 5]}]}}, "unsupported numeric operator"),
        ({"value": {"a": [{"numeric": ["<", 5, ">", 1]}]}}, "unsupported numeric operator"),
        ({"value": {"a": [{"numeric": [">", 5, ">", 6]}]}}, "must end with < or <="),
        ({"value": {"a": [{"numeric": [">", 5, "<", 5]}]}}, "must be less than top"),
        ({"value": {"a": [{"numeric": ["=", 5, "<", 6]}]}}, "unsupported numeric operator"),
        ({"value": {"a": [{"anything-but": []}]}}, "anything-but takes"),
        ({"value": {"a": [{"anything-but": [1, "x"]}]}}, "anything-but takes"),
        ({"value": {"a": [{"anything-but": [None]}]}}, "anything-but takes"),
        ({"value": {"a": [{"anything-but": {"wildcard": "x*"}}]}}, "unsupported anything-but operator"),
        ({"value": {"a": [{"anything-but": {"prefix": ""}}]}}, "empty anything-but prefix"),
        ({"value": {"$or": [{"a": ["x"]}]}}, "$or needs at least 2 objects"),
        ({"value": {"$or": {"a": ["x"]}}}, "$or must be followed by an array"),
        ({"value": {"$or": [{"a": ["x"]}, ["y"]]}}, "only objects are allowed"),
        ({"value": {"$or": [{"a": ["x"]}, {"prefix": ["y"]}]}}, "cannot be a field name inside $or"),
        ({"value": "plain"}, "value: must be an object or an array"),
    ],
)
def test_invalid_patterns_are_rejected(pattern: Any, message: str) -> None:
    with pytest.raises(FilterCriteriaError) as excinfo:
        compile_filters({"value": {"ok": ["ok"]}}, pattern)
    assert "FilterCriteria.Filters[1].Pattern" in str(excinfo.value)
    assert message in str(excinfo.value)


@pytest.mark.parametrize(
    ("criteria", "message"),
    [
        ({"Filters": [{"Pattern": json.dumps({"topic": [str(i)]})} for i in range(11)]}, "has 11 filters"),
        ({"Filters": {"Pattern": "{}"}}, "Filters must be an array"),
        ({"Filters": [{}]}, "Filters[0]: Pattern is missing or empty"),
        ({"Filters": [{"Pattern": ""}]}, "Filters[0]: Pattern is missing or empty"),
        ({"Filters": [{"Pattern": '{"topic": ["x"]}', "Extra": 1}]}, "unknown keys ['Extra']"),
        ({"Filters": ["{}"]}, "Filters[0]: must be an object with a Pattern"),
        ({"Filter": []}, "unknown keys ['Filter']"),
        ("not a mapping", "FilterCriteria must be an object"),
        ({"Filters": [{"Pattern": json.dumps({"topic": ["x" * 4096]})}]}, "the maximum is 4096"),
    ],
)
def test_invalid_criteria_are_rejected(criteria: Any, message: str) -> None:
    with pytest.raises(FilterCriteriaError, match="FilterCriteria") as excinfo:
        RecordFilter.from_criteria(criteria)
    assert message in str(excinfo.value)


def test_filter_criteria_error_is_a_value_error() -> None:
    assert issubclass(FilterCriteriaError, ValueError)


# --- AWS documented examples ------------------------------------------------------------------------

# Lambda developer guide, kafka-filtering.html: FilterCriteria exactly as in the AWS CLI examples.
KAFKA_DOC_JSON_CRITERIA = (
    '{"Filters": [{"Pattern": "{ \\"value\\" : { \\"device_ID\\" : [ { \\"prefix\\": \\"AB\\" } ] } }"}]}'
)
KAFKA_DOC_TEXT_CRITERIA = '{"Filters": [{"Pattern": "{ \\"value\\" : [ { \\"anything-but\\": [ \\"error\\" ] } ] }"}]}'
KAFKA_DOC_RECORD: dict[str, Any] = {
    "topic": "mytopic",
    "partition": 0,
    "offset": 15,
    "timestamp": 1545084650987,
    "timestampType": "CREATE_TIME",
    "value": "SGVsbG8sIHRoaXMgaXMgYSB0ZXN0Lg==",
    "headers": [],
}
KAFKA_DOC_JSON_MESSAGE = {"device_ID": "AB1234", "session": {"start_time": "yyyy-mm-ddThh:mm:ss", "duration": 162}}


def test_aws_kafka_doc_json_example() -> None:
    rf = RecordFilter.from_criteria(json.loads(KAFKA_DOC_JSON_CRITERIA))
    assert rf.matches(as_json(KAFKA_DOC_JSON_MESSAGE), KAFKA_DOC_RECORD)
    assert not rf.matches(as_json({**KAFKA_DOC_JSON_MESSAGE, "device_ID": "CD1234"}), KAFKA_DOC_RECORD)


def test_aws_kafka_doc_plain_string_example() -> None:
    rf = RecordFilter.from_criteria(json.loads(KAFKA_DOC_TEXT_CRITERIA))
    doc_value = base64.b64decode(KAFKA_DOC_RECORD["value"])  # "Hello, this is a test."
    assert rf.matches(doc_value, KAFKA_DOC_RECORD)
    assert not rf.matches(b"error", KAFKA_DOC_RECORD)


# Lambda developer guide, invocation-eventfiltering.html "Filter rule syntax" table (rule, hit, miss),
# applied to a JSON Kafka value.
AWS_RULE_TABLE: list[tuple[str, dict[str, Any], dict[str, Any], dict[str, Any]]] = [
    ("Null", {"UserID": [None]}, {"UserID": None}, {"UserID": "u1"}),
    ("Empty", {"LastName": [""]}, {"LastName": ""}, {"LastName": "Doe"}),
    ("Equals", {"Name": ["Alice"]}, {"Name": "Alice"}, {"Name": "Bob"}),
    ("Equals (ignore case)", {"Name": [{"equals-ignore-case": "alice"}]}, {"Name": "ALICE"}, {"Name": "Bob"}),
    (
        "And",
        {"Location": ["New York"], "Day": ["Monday"]},
        {"Location": "New York", "Day": "Monday"},
        {"Location": "New York", "Day": "Sunday"},
    ),
    ("Or", {"PaymentType": ["Credit", "Debit"]}, {"PaymentType": "Credit"}, {"PaymentType": "Cash"}),
    (
        "Or (multiple fields)",
        {"$or": [{"Location": ["New York"]}, {"Day": ["Monday"]}]},
        {"Location": "Boston", "Day": "Monday"},
        {"Location": "Boston", "Day": "Sunday"},
    ),
    ("Not", {"Weather": [{"anything-but": ["Raining"]}]}, {"Weather": "Sunny"}, {"Weather": "Raining"}),
    ("Numeric (equals)", {"Price": [{"numeric": ["=", 100]}]}, {"Price": 100}, {"Price": 99}),
    ("Numeric (range)", {"Price": [{"numeric": [">", 10, "<=", 20]}]}, {"Price": 20}, {"Price": 10}),
    ("Exists", {"ProductName": [{"exists": True}]}, {"ProductName": "p"}, {"Other": "p"}),
    ("Does not exist", {"ProductName": [{"exists": False}]}, {"Other": "p"}, {"ProductName": "p"}),
    ("Begins with", {"Region": [{"prefix": "us-"}]}, {"Region": "us-east-1"}, {"Region": "eu-west-1"}),
    ("Ends with", {"FileName": [{"suffix": ".png"}]}, {"FileName": "cat.png"}, {"FileName": "cat.jpg"}),
    # Same guide, "Filtering examples" and console example.
    (
        "Temperature range",
        {"Temperature": [{"numeric": [">", 50, "<=", 60]}]},
        {"Temperature": 55},
        {"Temperature": 50},
    ),
    ("Console example", {"a": [1, 2]}, {"a": 2}, {"a": 3}),
    (
        "Multi-level",
        {"Keys": {"Id": {"N": ["101"]}}},
        {"Keys": {"Id": {"N": "101"}}},
        {"Keys": {"Id": {"N": "102"}}},
    ),
]


@pytest.mark.parametrize(("name", "rule", "hit", "miss"), AWS_RULE_TABLE, ids=[row[0] for row in AWS_RULE_TABLE])
def test_aws_documented_rule_table(name: str, rule: dict[str, Any], hit: dict[str, Any], miss: dict[str, Any]) -> None:
    rf = compile_filters({"value": rule})
    assert rf.matches(as_json(hit), META), name
    assert not rf.matches(as_json(miss), META), name
