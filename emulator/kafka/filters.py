"""Lambda event filtering (`FilterCriteria`) for Kafka event source mappings.

Semantics follow the Lambda developer guide ("Control which events Lambda sends to your function" and
"Filtering events from Amazon MSK and self-managed Apache Kafka event sources"), which uses the
EventBridge pattern language; where the guide is silent we follow aws/event-ruler (EventBridge's open
source matcher). One deliberate difference: current event-ruler also matches `[300]` against 300.0 by
value, but the Lambda guide says numbers are equal only by string form (300, 300.0, 3.0e2 all differ).

Kafka mappings "only support filtering on the value key" (kafka-filtering.html): a pattern whose top
level (or a top-level `$or` branch) names any other field (`topic`, `key`, `headers`...) is refused when
the mapping is read, as AWS refuses it. The `value` key is special:

* `{"value": {...}}` (an object) is a data filter on the JSON-decoded value;
* `{"value": [...]}` (a list) is a filter on the value as a plain UTF-8 string;
* when the value's format does not fit the pattern's (JSON vs plain string), or the value is not UTF-8,
  Lambda evaluates only the metadata parts of the pattern, so the `value` part counts as matched.

Patterns are compiled once into small node objects; `matches` decodes and parses the value at most once
per call, and only when some pattern looks at `value`.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Iterator, Mapping
from typing import Any, Final

__all__ = ["FilterCriteriaError", "RecordFilter"]


MAX_FILTERS: Final = 10  # AWS default quota is 5, raisable to 10 per event source mapping
MAX_PATTERN_LENGTH: Final = 4096  # Lambda API: Filter.Pattern length constraint

_KAFKA_FIELDS: Final = frozenset(
    {"topic", "partition", "offset", "timestamp", "timestampType", "key", "value", "headers",
     "keySchemaMetadata", "valueSchemaMetadata"}
)
_OR: Final = "$or"
# event-ruler refuses these as field names inside "$or" (they would be ambiguous with operators).
_RESERVED_IN_OR: Final = frozenset(
    {"exactly", "equals-ignore-case", "prefix", "suffix", "anything-but", "exists", "wildcard", "numeric",
     "cidr", "=", "<", "<=", ">", ">="}
)
_SUPPORTED_OPERATORS: Final = (
    "anything-but", "equals-ignore-case", "exists", "numeric", "prefix", "suffix"
)
# Operators EventBridge knows but Lambda's filter syntax does not list.
_UNSUPPORTED_OPERATORS: Final = frozenset({"wildcard", "cidr", "exactly"})


class FilterCriteriaError(ValueError):
    """Invalid FilterCriteria; message says which filter/pattern and what is wrong."""


class _PatternError(Exception):
    """Raised while compiling one pattern; wrapped into FilterCriteriaError with the filter index."""

    def __init__(self, path: str, message: str) -> None:
        super().__init__(f"{path or '<root>'}: {message}")


# ---------------------------------------------------------------------------------------------------
# JSON numbers keep their source text: Lambda compares numbers for equality by string form
# (300, 300.0 and 3.0e2 are different), while `numeric` compares their values.


class _JsonNumber:
    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text

    def __repr__(self) -> str:
        return self.text


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


_DECODER: Final = json.JSONDecoder(
    parse_int=_JsonNumber, parse_float=_JsonNumber, parse_constant=_reject_constant
)


def _loads(text: str) -> Any:
    return _DECODER.decode(text)  # a shared decoder: json.loads(**hooks) would build one per call


def _num_text(v: Any) -> str | None:
    """String form of a number (JSON-parsed or a Python int/float from metadata/YAML), else None."""
    if isinstance(v, _JsonNumber):
        return v.text
    if type(v) is int:
        return str(v)
    if type(v) is float:
        return repr(v)
    return None


def _num_value(v: Any) -> float | None:
    """Finite float value of a number, else None (booleans and strings are not numbers)."""
    if isinstance(v, _JsonNumber):
        v = v.text
    elif type(v) is not int and type(v) is not float:
        return None
    try:
        f = float(v)
    except (OverflowError, ValueError):
        return None
    return f if math.isfinite(f) else None


def _is_number(v: Any) -> bool:
    return isinstance(v, _JsonNumber) or type(v) is int or type(v) is float


_SCALAR_TYPES: Final = frozenset({str, bool, int, float, type(None), _JsonNumber})
_MISSING: Final = object()
_NOT_APPLICABLE: Final = object()  # the value's format does not fit this kind of pattern


def _get(data: Any, key: str) -> Any:
    if type(data) is dict or isinstance(data, Mapping):
        return data.get(key, _MISSING)
    return _MISSING


def _leaves(raw: Any) -> Iterator[Any]:
    """Leaf values of a field: arrays are flattened, objects are not leaves (exists is leaf-only)."""
    if isinstance(raw, list):
        for item in raw:
            yield from _leaves(item)
    elif raw is not _MISSING and not isinstance(raw, Mapping):
        yield raw


# ---------------------------------------------------------------------------------------------------
# Per-call view of the record value: decoded and parsed lazily, at most once.


class _ValueView:
    __slots__ = ("_decoded", "_json", "_raw")

    def __init__(self, raw: bytes | None) -> None:
        self._raw = raw
        self._decoded: Any = _MISSING
        self._json: Any = _MISSING

    def _classify(self) -> None:
        self._decoded = self._json = _NOT_APPLICABLE
        try:
            text = self._raw.decode("utf-8") if self._raw is not None else None
        except UnicodeDecodeError:
            return
        if text is None:
            return  # a tombstone is treated like a non-UTF-8 value: metadata-only (UNVERIFIED)
        # Only objects/arrays count as JSON: a data pattern ({"value": {...}}) can match nothing else,
        # while values like `42` or `true` stay usable by plain-string patterns.
        if text.lstrip()[:1] in ("{", "["):
            try:
                self._json = _loads(text)
                return
            except ValueError:
                pass
        self._decoded = text

    def json(self) -> Any:
        """The parsed JSON object/array, or _NOT_APPLICABLE for plain strings, non-UTF-8 and null values."""
        if self._json is _MISSING:
            self._classify()
        return self._json

    def text(self) -> Any:
        """The value as a plain (non-JSON) string, or _NOT_APPLICABLE."""
        if self._decoded is _MISSING:
            self._classify()
        return self._decoded


# ---------------------------------------------------------------------------------------------------
# Compiled nodes.

_Predicate = Callable[[Any], bool]


class _LeafRule:
    """A list of match values for one field: matches if any leaf value satisfies any of them."""

    __slots__ = ("_absent_ok", "_any_present", "_predicates")

    def __init__(self, predicates: list[_Predicate], absent_ok: bool, any_present: bool) -> None:
        self._predicates = tuple(predicates)
        self._absent_ok = absent_ok  # {"exists": false}
        self._any_present = any_present  # {"exists": true}

    def match_raw(self, raw: Any) -> bool:
        if type(raw) in _SCALAR_TYPES:  # fast path for the common case of one scalar leaf
            return self._any_present or any(predicate(raw) for predicate in self._predicates)
        found = False
        for leaf in _leaves(raw):
            found = True
            if self._any_present:
                return True
            for predicate in self._predicates:
                if predicate(leaf):
                    return True
        return self._absent_ok and not found


class _Node:
    __slots__ = ()

    def evaluate(self, data: Any, value: _ValueView) -> bool:
        raise NotImplementedError


class _FieldNode(_Node):
    __slots__ = ("_key", "_rule")

    def __init__(self, key: str, rule: _LeafRule) -> None:
        self._key = key
        self._rule = rule

    def evaluate(self, data: Any, value: _ValueView) -> bool:
        return self._rule.match_raw(_get(data, self._key))


class _ObjectNode(_Node):
    """All fields must match (AND); each `$or` group needs one matching branch."""

    __slots__ = ("_children",)

    def __init__(self, children: list[_Node]) -> None:
        self._children = tuple(children)

    def evaluate(self, data: Any, value: _ValueView) -> bool:
        if isinstance(data, list):
            # Array-consistent matching: one element must satisfy the whole object pattern.
            objects = [item for item in _flatten(data) if isinstance(item, Mapping)]
            if objects:
                return any(self._evaluate_one(item, value) for item in objects)
            data = _MISSING
        return self._evaluate_one(data, value)

    def _evaluate_one(self, data: Any, value: _ValueView) -> bool:
        return all(child.evaluate(data, value) for child in self._children)


def _flatten(items: list[Any]) -> Iterator[Any]:
    for item in items:
        if isinstance(item, list):
            yield from _flatten(item)
        else:
            yield item


class _ChildNode(_Node):
    __slots__ = ("_key", "_node")

    def __init__(self, key: str, node: _Node) -> None:
        self._key = key
        self._node = node

    def evaluate(self, data: Any, value: _ValueView) -> bool:
        return self._node.evaluate(_get(data, self._key), value)


class _OrNode(_Node):
    __slots__ = ("_branches",)

    def __init__(self, branches: list[_Node]) -> None:
        self._branches = tuple(branches)

    def evaluate(self, data: Any, value: _ValueView) -> bool:
        return any(branch.evaluate(data, value) for branch in self._branches)


class _JsonValueNode(_Node):
    """`{"value": {...}}`: data filter; ignored (matched) unless the value is JSON."""

    __slots__ = ("_node",)

    def __init__(self, node: _Node) -> None:
        self._node = node

    def evaluate(self, data: Any, value: _ValueView) -> bool:
        parsed = value.json()
        return parsed is _NOT_APPLICABLE or self._node.evaluate(parsed, value)


class _TextValueNode(_Node):
    """`{"value": [...]}`: plain-string filter; ignored (matched) unless the value is a plain string."""

    __slots__ = ("_rule",)

    def __init__(self, rule: _LeafRule) -> None:
        self._rule = rule

    def evaluate(self, data: Any, value: _ValueView) -> bool:
        text = value.text()
        return text is _NOT_APPLICABLE or self._rule.match_raw(text)


# ---------------------------------------------------------------------------------------------------
# Pattern compiler.


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _compile_object(obj: Mapping[Any, Any], path: str, root: bool, in_or: bool) -> _ObjectNode:
    if not obj:
        raise _PatternError(path, "empty objects are not allowed")
    children: list[_Node] = []
    for key, sub in obj.items():
        if not isinstance(key, str):
            raise _PatternError(path, f"field names must be strings, got {key!r}")
        if key == _OR:
            children.append(_compile_or(sub, _join(path, _OR), root))
            continue
        if in_or and key in _RESERVED_IN_OR:
            raise _PatternError(path, f"{key!r} is an operator name and cannot be a field name inside $or")
        children.append(_compile_field(key, sub, _join(path, key), root))
    children.sort(key=_evaluation_order)
    return _ObjectNode(children)


def _evaluation_order(node: _Node) -> int:
    """Cheap checks first; the record value last, so metadata mismatches skip decoding/parsing it."""
    if isinstance(node, _JsonValueNode | _TextValueNode):
        return 2
    return 1 if isinstance(node, _OrNode) else 0


def _compile_or(sub: Any, path: str, root: bool) -> _OrNode:
    if not isinstance(sub, list):
        raise _PatternError(path, "$or must be followed by an array of objects")
    if len(sub) < 2:
        raise _PatternError(path, "$or needs at least 2 objects")
    branches: list[_Node] = []
    for i, branch in enumerate(sub):
        if not isinstance(branch, Mapping):
            raise _PatternError(f"{path}[{i}]", "only objects are allowed in a $or array")
        branches.append(_compile_object(branch, f"{path}[{i}]", root, in_or=True))
    return _OrNode(branches)


def _compile_field(key: str, sub: Any, path: str, root: bool) -> _Node:
    if root and key == "value":
        if isinstance(sub, Mapping):
            return _JsonValueNode(_compile_object(sub, path, root=False, in_or=False))
        if isinstance(sub, list):
            return _TextValueNode(_compile_rule(sub, path))
    elif root:
        hint = "a record field other than value" if key in _KAFKA_FIELDS else "not a Kafka record field"
        raise _PatternError(path, f"Kafka event source mappings only support filtering on the value key "
                                  f"({key!r} is {hint}; nest data fields under \"value\")")
    if isinstance(sub, Mapping):
        return _ChildNode(key, _compile_object(sub, path, root=False, in_or=False))
    if isinstance(sub, list):
        return _FieldNode(key, _compile_rule(sub, path))
    raise _PatternError(path, f"must be an object or an array of match values, got {_describe(sub)}")


def _describe(v: Any) -> str:
    if _is_number(v):
        return f"number {_num_text(v)}"
    return f"{type(v).__name__} {v!r}"


def _compile_rule(values: list[Any], path: str) -> _LeafRule:
    if not values:
        raise _PatternError(path, "empty arrays are not allowed")
    strings: set[str] = set()
    numbers: set[str] = set()
    predicates: list[_Predicate] = []
    absent_ok = any_present = False
    for i, item in enumerate(values):
        item_path = f"{path}[{i}]"
        if isinstance(item, str):
            strings.add(item)
        elif _is_number(item):
            numbers.add(_number_text(item, item_path))
        elif item is None or isinstance(item, bool):
            predicates.append(_identity(item))
        elif isinstance(item, Mapping):
            exists = _exists_operand(item, item_path)
            if exists is None:
                predicates.append(_compile_operator(item, item_path))
            elif exists:
                any_present = True
            else:
                absent_ok = True
        else:
            raise _PatternError(item_path, f"match values must be a string, number, true, false, null or an "
                                           f"operator object, got {_describe(item)}")
    if strings:
        predicates.insert(0, _in_strings(frozenset(strings)))
    if numbers:
        predicates.append(_in_number_texts(frozenset(numbers)))
    return _LeafRule(predicates, absent_ok, any_present)


def _number_text(v: Any, path: str) -> str:
    if _num_value(v) is None:
        raise _PatternError(path, f"number {_num_text(v)} is not a finite number")
    text = _num_text(v)
    assert text is not None
    return text


def _identity(expected: bool | None) -> _Predicate:
    return lambda v: v is expected


def _in_strings(options: frozenset[str]) -> _Predicate:
    return lambda v: isinstance(v, str) and v in options


def _in_number_texts(options: frozenset[str]) -> _Predicate:
    return lambda v: _num_text(v) in options


def _exists_operand(item: Mapping[Any, Any], path: str) -> bool | None:
    """The operand of an `exists` operator object, or None when the object is another operator."""
    if "exists" not in item:
        return None
    _single_key(item, path)
    operand = item["exists"]
    if not isinstance(operand, bool):
        raise _PatternError(path, f"exists must be true or false, got {_describe(operand)}")
    return operand


def _single_key(item: Mapping[Any, Any], path: str) -> None:
    if len(item) != 1:
        raise _PatternError(path, f"an operator object must have exactly one key, got {sorted(map(str, item))}")


def _compile_operator(item: Mapping[Any, Any], path: str) -> _Predicate:
    _single_key(item, path)
    (name, operand), = item.items()
    compiler = _OPERATORS.get(name)
    if compiler is None:
        raise _PatternError(path, _unknown_operator_message(name))
    return compiler(operand, f"{path}.{name}")


def _unknown_operator_message(name: Any) -> str:
    supported = ", ".join(_SUPPORTED_OPERATORS)
    if name in _UNSUPPORTED_OPERATORS:
        return f"operator {name!r} is EventBridge-only and not supported by Lambda event filtering " \
               f"(supported: {supported})"
    return f"unknown operator {name!r} (supported: {supported})"


def _string_operand(operand: Any, path: str, what: str) -> str:
    if not isinstance(operand, str):
        raise _PatternError(path, f"{what} must be a string, got {_describe(operand)}")
    return operand


def _ignore_case_operand(operand: Any, path: str) -> str | None:
    """For `{"prefix"|"suffix": {"equals-ignore-case": "x"}}` returns "x"; None for a plain string."""
    if not isinstance(operand, Mapping):
        return None
    if set(operand) != {"equals-ignore-case"}:
        raise _PatternError(path, f"only {{\"equals-ignore-case\": \"...\"}} is allowed here, got "
                                  f"{sorted(map(str, operand))}")
    return _string_operand(operand["equals-ignore-case"], f"{path}.equals-ignore-case", "the operand").lower()


def _compile_prefix(operand: Any, path: str) -> _Predicate:
    folded = _ignore_case_operand(operand, path)
    if folded is not None:
        return lambda v: isinstance(v, str) and v.lower().startswith(folded)
    prefix = _string_operand(operand, path, "prefix")
    return lambda v: isinstance(v, str) and v.startswith(prefix)


def _compile_suffix(operand: Any, path: str) -> _Predicate:
    folded = _ignore_case_operand(operand, path)
    if folded is not None:
        return lambda v: isinstance(v, str) and v.lower().endswith(folded)
    suffix = _string_operand(operand, path, "suffix")
    return lambda v: isinstance(v, str) and v.endswith(suffix)


def _compile_equals_ignore_case(operand: Any, path: str) -> _Predicate:
    folded = _string_operand(operand, path, "equals-ignore-case").lower()
    return lambda v: isinstance(v, str) and v.lower() == folded


# `numeric`: ["=", n] | [op, n] | [">"|">=", low, "<"|"<=", high] with low < high (event-ruler's grammar).
_LOWER_OPS: Final = {">": float.__gt__, ">=": float.__ge__}
_UPPER_OPS: Final = {"<": float.__lt__, "<=": float.__le__}


def _numeric_operand(v: Any, path: str, op: str) -> float:
    value = _num_value(v)
    if value is None:
        raise _PatternError(path, f"the value after {op!r} must be a finite number, got {_describe(v)}")
    return value


def _compile_numeric(operand: Any, path: str) -> _Predicate:
    if not isinstance(operand, list) or len(operand) not in (2, 4):
        raise _PatternError(path, "numeric must be an array like [\">\", 0] or [\">\", 0, \"<=\", 5]")
    op = operand[0]
    if not isinstance(op, str):
        raise _PatternError(path, f"numeric operators must be strings, got {_describe(op)}")
    if op == "=" and len(operand) == 2:
        target = _numeric_operand(operand[1], path, op)
        return lambda v: _num_value(v) == target
    if op in _UPPER_OPS and len(operand) == 2:
        return _bound(_UPPER_OPS[op], _numeric_operand(operand[1], path, op))
    if op not in _LOWER_OPS:
        raise _PatternError(path, f"unsupported numeric operator sequence {operand!r}; use =, <, <=, >, >= "
                                  f"(a range starts with > or >= and ends with < or <=)")
    low = _bound(_LOWER_OPS[op], _numeric_operand(operand[1], path, op))
    if len(operand) == 2:
        return low
    return _range(low, operand, path)


def _range(low: _Predicate, operand: list[Any], path: str) -> _Predicate:
    op = operand[2]
    if op not in _UPPER_OPS:
        raise _PatternError(path, f"a numeric range must end with < or <=, got {op!r}")
    bottom = _numeric_operand(operand[1], path, str(operand[0]))
    top = _numeric_operand(operand[3], path, op)
    if not bottom < top:
        raise _PatternError(path, f"numeric range bottom {bottom} must be less than top {top}")
    high = _bound(_UPPER_OPS[op], top)
    return lambda v: low(v) and high(v)


def _bound(compare: Callable[[float, float], bool], limit: float) -> _Predicate:
    def check(v: Any) -> bool:
        value = _num_value(v)
        return value is not None and compare(value, limit)

    return check


def _compile_anything_but(operand: Any, path: str) -> _Predicate:
    if isinstance(operand, Mapping):
        return _compile_anything_but_object(operand, path)
    values = operand if isinstance(operand, list) else [operand]
    if values and all(isinstance(v, str) for v in values):
        excluded = frozenset(values)
        return lambda v: not (isinstance(v, str) and v in excluded)
    if values and all(_is_number(v) for v in values):
        excluded_numbers = frozenset(_numeric_operand(v, path, "anything-but") for v in values)
        return lambda v: _num_value(v) not in excluded_numbers
    raise _PatternError(path, "anything-but takes a string, a number, a non-empty array of only strings or "
                              "only numbers, or an object with prefix, suffix or equals-ignore-case")


def _compile_anything_but_object(operand: Mapping[Any, Any], path: str) -> _Predicate:
    _single_key(operand, path)
    (name, value), = operand.items()
    sub_path = f"{path}.{name}"
    if name == "equals-ignore-case":
        values = value if isinstance(value, list) else [value]
        folded = frozenset(_string_operand(v, sub_path, "equals-ignore-case").lower() for v in values)
        return lambda v: not (isinstance(v, str) and v.lower() in folded)
    if name not in ("prefix", "suffix"):
        raise _PatternError(path, f"unsupported anything-but operator {name!r} "
                                  "(supported: prefix, suffix, equals-ignore-case)")
    text = _string_operand(value, sub_path, name)
    if not text:
        raise _PatternError(sub_path, f"an empty anything-but {name} is not allowed")
    if name == "prefix":
        return lambda v: not (isinstance(v, str) and v.startswith(text))
    return lambda v: not (isinstance(v, str) and v.endswith(text))


_OPERATORS: Final[dict[str, Callable[[Any, str], _Predicate]]] = {
    "prefix": _compile_prefix,
    "suffix": _compile_suffix,
    "equals-ignore-case": _compile_equals_ignore_case,
    "numeric": _compile_numeric,
    "anything-but": _compile_anything_but,
}


# ---------------------------------------------------------------------------------------------------
# Public API.


def _parse_pattern(pattern: Any) -> Mapping[Any, Any]:
    if isinstance(pattern, str):
        if len(pattern) > MAX_PATTERN_LENGTH:
            raise _PatternError("", f"pattern is {len(pattern)} characters; the maximum is {MAX_PATTERN_LENGTH}")
        try:
            pattern = _loads(pattern)
        except ValueError as exc:
            raise _PatternError("", f"invalid JSON: {exc}") from None
    if not isinstance(pattern, Mapping):
        raise _PatternError("", f"a pattern must be a JSON object, got {_describe(pattern)}")
    return pattern


def _compile_filter(index: int, entry: Any) -> _Node:
    where = f"FilterCriteria.Filters[{index}]"
    if not isinstance(entry, Mapping):
        raise FilterCriteriaError(f"{where}: must be an object with a Pattern, got {_describe(entry)}")
    extra = set(entry) - {"Pattern"}
    if extra:
        raise FilterCriteriaError(f"{where}: unknown keys {sorted(map(str, extra))} (only Pattern is allowed)")
    if entry.get("Pattern") in (None, ""):
        raise FilterCriteriaError(f"{where}: Pattern is missing or empty")
    try:
        return _compile_object(_parse_pattern(entry["Pattern"]), "", root=True, in_or=False)
    except _PatternError as exc:
        raise FilterCriteriaError(f"{where}.Pattern: {exc}") from None


def _filter_entries(criteria: Mapping[str, Any] | None) -> list[Any]:
    if criteria is None:
        return []
    if not isinstance(criteria, Mapping):
        raise FilterCriteriaError(f"FilterCriteria must be an object, got {_describe(criteria)}")
    extra = set(criteria) - {"Filters"}
    if extra:
        raise FilterCriteriaError(f"FilterCriteria: unknown keys {sorted(map(str, extra))} "
                                  "(only Filters is allowed)")
    filters = criteria.get("Filters")
    if filters is None:
        return []
    if not isinstance(filters, list):
        raise FilterCriteriaError(f"FilterCriteria.Filters must be an array, got {_describe(filters)}")
    if len(filters) > MAX_FILTERS:
        raise FilterCriteriaError(f"FilterCriteria.Filters has {len(filters)} filters; Lambda allows 5 per "
                                  f"event source mapping, {MAX_FILTERS} with a quota increase")
    return filters


class RecordFilter:
    """Compiled FilterCriteria of one event source mapping: a record passes if any filter matches."""

    __slots__ = ("_filters",)

    def __init__(self, filters: list[_Node]) -> None:
        self._filters = tuple(filters)

    @classmethod
    def from_criteria(cls, criteria: Mapping[str, Any] | None) -> RecordFilter:
        """criteria is the SAM/CloudFormation FilterCriteria value: {"Filters": [{"Pattern": "<JSON>"}, ...]}.

        Pattern may be a JSON string or an already-parsed mapping. None or no Filters matches everything.
        Raises FilterCriteriaError naming the filter index and the problem.
        """
        return cls([_compile_filter(i, entry) for i, entry in enumerate(_filter_entries(criteria))])

    @property
    def matches_everything(self) -> bool:
        return not self._filters

    def matches(self, value: bytes | None, metadata: Mapping[str, Any]) -> bool:
        """value: raw record value bytes (not base64); metadata: the Lambda event record's other fields."""
        if not self._filters:
            return True
        view = _ValueView(value)
        return any(node.evaluate(metadata, view) for node in self._filters)
