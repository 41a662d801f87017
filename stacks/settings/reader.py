"""Validation primitives for the kit's settings.

Every value is read through a `SettingsReader`, which knows the dotted path of the object it reads
(`kit.orderIntake`) so that an error names the exact key, the value found and what is allowed, and
which refuses keys nobody asked for (a typo must not silently fall back to a default).

Whatever arrives, however odd (a 5000-digit number, JSON nested a thousand deep, control
characters, megabytes of text), the answer is a SettingsError with one short line, never another
exception: values are measured before they are converted, parsed or matched.
"""

from __future__ import annotations

import datetime
import functools
import json
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import available_timezones

_MISSING = object()

# No setting needs more: the longest is a JSON list of 20 log group names of up to 512 characters
# given with `-c`. Longer text is refused before any pattern sees it.
MAX_TEXT = 16_384
# The deepest setting is kit.<workload>.<group>.<key>: a value with more levels of objects or lists
# is refused before anything walks it recursively (copies, JSON encoding).
MAX_DEPTH = 8
# An error shows at most this much of the value it refuses.
_SHOWN = 120


class SettingsError(ValueError):
    """A setting is missing, unknown, or has a value outside what is allowed. Always one line."""

    def __init__(self, message: str) -> None:
        super().__init__(_one_line(message))


def _one_line(text: str) -> str:
    # Line breaks of any kind (\n, \r, U+2028, U+0085), other control or format characters and lone
    # surrogates are written as escapes: the message stays one line and can always be printed.
    return "".join(
        c if c.isprintable() else c.encode("unicode_escape", "backslashreplace").decode("ascii") for c in text
    )


def show(value: Any) -> str:
    """`value` as JSON, cut to a readable length; described instead where it cannot be written out."""
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 64:
        # str() of a number past 4300 digits raises (Python's int-string conversion limit).
        return f"a whole number of about {int(value.bit_length() * 0.30103) + 1} digits"
    if depth_beyond(value, MAX_DEPTH):
        return f"a {type(value).__name__} nested more than {MAX_DEPTH} levels deep"
    if isinstance(value, str) and len(value) > _SHOWN:
        # Encode only what is shown: the value may be megabytes long.
        return f"{json.dumps(value[:_SHOWN], ensure_ascii=False)[:-1]}... ({len(value)} characters)"
    try:
        text = json.dumps(value, ensure_ascii=False, default=str)
    except (ValueError, TypeError):
        return f"a {type(value).__name__} that cannot be shown"
    if len(text) > _SHOWN:
        text = f"{text[:_SHOWN]}... ({len(text)} characters)"
    return text


def shorten(name: str) -> str:
    """A key as given (it may be any text), cut to a readable length."""
    return name if len(name) <= _SHOWN else f"{name[:_SHOWN]}... ({len(name)} characters)"


def depth_beyond(value: Any, limit: int) -> bool:
    """Whether objects and lists in `value` nest deeper than `limit`; walked without recursion."""
    pending = [(value, 0)]
    while pending:
        current, depth = pending.pop()
        if isinstance(current, Mapping):
            children: Any = current.values()
        elif isinstance(current, (list, tuple)):
            children = current
        else:
            continue
        if depth >= limit:
            return True
        pending.extend((child, depth + 1) for child in children)
    return False


def parse_json_text(raw: str) -> Any:
    """`raw` as JSON if it is JSON (numbers, booleans, lists from `-c`); otherwise the text itself.

    Text too long or nested too deep to parse stays text: the setting's own check then refuses it.
    """
    if len(raw) > MAX_TEXT or depth_beyond_text(raw, MAX_DEPTH):
        return raw
    try:
        return json.loads(raw)
    except (ValueError, RecursionError):
        # ValueError covers malformed JSON and numbers past the int-string conversion limit.
        return raw


def depth_beyond_text(raw: str, limit: int) -> bool:
    """Whether JSON text opens more than `limit` brackets at once (a cheap scan before json.loads)."""
    depth = 0
    in_string = escaped = False
    for char in raw:
        if in_string:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == '"':
                in_string = False
        elif char == '"':
            in_string = True
        elif char in "[{":
            depth += 1
            if depth > limit:
                return True
        elif char in "]}":
            depth -= 1
    return False


def _text(value: Any, max_length: int = MAX_TEXT) -> bool:
    return isinstance(value, str) and len(value) <= max_length


@functools.cache
def _time_zones() -> frozenset[str]:
    return frozenset(available_timezones())


class SettingsReader:
    """Reads one JSON object of settings and validates each value as it is taken."""

    def __init__(self, values: Any, path: str, *, read: set[str] | None = None) -> None:
        if not isinstance(values, Mapping):
            raise SettingsError(f"{path}: {show(values)} is not an object")
        if depth_beyond(values, MAX_DEPTH):
            raise SettingsError(f"{path}: is nested more than {MAX_DEPTH} levels deep; no setting is")
        self._values = dict(values)
        self._path = path
        self._taken: set[str] = set()
        # Every dotted key read, given or defaulted, shared with the children: the settings the kit knows.
        self.read = read if read is not None else set()

    def _key(self, key: Any) -> str:
        return f"{self._path}.{shorten(str(key))}"

    def _take(self, key: str, default: Any) -> Any:
        self._taken.add(key)
        self.read.add(self._key(key))
        value = self._values.get(key, default)
        if value is _MISSING:
            raise SettingsError(f"{self._key(key)}: is required")
        return value

    def fail(self, key: str, value: Any, allowed: str) -> SettingsError:
        return SettingsError(f"{self._key(key)}: {show(value)} is not {allowed}")

    def integer(self, key: str, *, minimum: int, maximum: int, default: Any = _MISSING) -> int:
        value = self._take(key, default)
        # Values given with `-c` arrive as strings; accept "12" but never "12.5" or true. Digits are
        # counted first: int() refuses strings past 4300 digits with a ValueError of its own.
        if _text(value, 40) and re.fullmatch(r"-?[0-9]{1,18}", value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise self.fail(key, value, f"a whole number from {minimum} to {maximum}")
        return value

    def number(self, key: str, *, minimum: float, maximum: float, default: Any = _MISSING) -> float:
        value = self._take(key, default)
        # Plain ASCII decimals only: float() would also take "1_0", "inf", "nan" and non-ASCII digits.
        if _text(value, 40) and re.fullmatch(r"-?[0-9]{1,15}(\.[0-9]{1,15})?", value.strip()):
            value = float(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not minimum <= value <= maximum:
            raise self.fail(key, value, f"a number from {minimum:g} to {maximum:g}")
        return float(value)

    def boolean(self, key: str, *, default: Any = _MISSING) -> bool:
        value = self._take(key, default)
        if value in ("true", "false"):
            value = value == "true"
        if not isinstance(value, bool):
            raise self.fail(key, value, "true or false")
        return value

    def string(self, key: str, *, pattern: str, meaning: str, default: Any = _MISSING) -> str:
        value = self._take(key, default)
        if not _text(value) or not re.fullmatch(pattern, value):
            raise self.fail(key, value, meaning)
        return str(value)

    def optional_string(self, key: str, *, pattern: str, meaning: str) -> str | None:
        value = self._take(key, None)
        if value is None or value == "":
            return None
        if not _text(value) or not re.fullmatch(pattern, value):
            raise self.fail(key, value, f"{meaning} (or null)")
        return str(value)

    def choice(self, key: str, *, allowed: tuple[Any, ...], default: Any = _MISSING) -> Any:
        value = self._take(key, default)
        if _text(value, 40) and all(isinstance(a, int) for a in allowed) and re.fullmatch(r"[0-9]{1,18}", value):
            value = int(value)
        if value not in allowed or isinstance(value, bool):
            raise self.fail(key, value, "one of " + ", ".join(show(a) for a in allowed))
        return value

    def time_zone(self, key: str, *, default: Any = _MISSING) -> str:
        value = self._take(key, default)
        # A name from the time zone database, never a path: ZoneInfo() itself would try to open
        # files named by the value (OSError for a long one, a directory for "America").
        if not _text(value, 64) or value not in _time_zones():
            raise self.fail(key, value, 'an IANA time zone name such as "Europe/Berlin" or "UTC"')
        return str(value)

    def string_list(
        self, key: str, *, pattern: str, meaning: str, min_items: int, max_items: int, default: Any = _MISSING
    ) -> tuple[str, ...]:
        value = self._take(key, default)
        if isinstance(value, str):
            value = parse_json_text(value)
        allowed = f"a list of {min_items} to {max_items} unique {meaning}"
        if (
            not isinstance(value, list)
            or not min_items <= len(value) <= max_items
            or not all(_text(v) and re.fullmatch(pattern, v) for v in value)
            or len(set(value)) != len(value)
        ):
            raise self.fail(key, value, allowed)
        return tuple(value)

    def string_map(
        self,
        key: str,
        *,
        key_pattern: str,
        value_pattern: str,
        meaning: str,
        max_items: int,
        default: Any = _MISSING,
    ) -> dict[str, str]:
        value = self._take(key, default)
        if isinstance(value, str):
            value = parse_json_text(value)
        if (
            not isinstance(value, Mapping)
            or len(value) > max_items
            or not all(
                _text(k) and _text(v) and re.fullmatch(key_pattern, k) and re.fullmatch(value_pattern, v)
                for k, v in value.items()
            )
        ):
            raise self.fail(key, value, meaning)
        return dict(value)

    def schedule_expression(self, key: str, *, one_time: bool, default: Any = _MISSING) -> str:
        """An expression EventBridge accepts: `cron(...)`, `rate(...)`, and with `one_time` (EventBridge
        Scheduler, not rules) `at(...)`. The grammar is checked field by field (see `schedule_problem`)."""
        value = self._take(key, default)
        kinds = "cron(minutes hours day-of-month month day-of-week year), rate(value unit)"
        allowed = (
            f"an EventBridge Scheduler expression: {kinds} or at(yyyy-mm-ddThh:mm:ss)"
            if one_time
            else f"an EventBridge rule schedule expression: {kinds}"
        )
        problem = schedule_problem(value, one_time=one_time) if isinstance(value, str) else "not text"
        if problem:
            raise self.fail(key, value, f"{allowed} ({problem})")
        return str(value)

    def child(self, key: str) -> SettingsReader:
        return SettingsReader(self._take(key, {}), self._key(key), read=self.read)

    def done(self) -> None:
        """Refuse keys that were given but never read: they are typos or leftovers."""
        unknown = sorted(set(self._values) - self._taken, key=str)
        if unknown:
            raise SettingsError(
                f"{self._key(unknown[0])}: is not a known setting (known: {', '.join(sorted(self._taken))})"
            )


# EventBridge's cron fields (EventBridge user guide, "Cron expressions reference"; EventBridge
# Scheduler, "Schedule types"): name, lowest and highest value, names for values, the wildcards
# allowed besides values, ranges and lists.
_CRON_FIELDS = (
    ("minutes", 0, 59, (), "*/"),
    ("hours", 0, 23, (), "*/"),
    ("day-of-month", 1, 31, (), "*?/LW"),
    ("month", 1, 12, ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"), "*/"),
    ("day-of-week", 1, 7, ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), "*?L#"),
    ("year", 1970, 2199, (), "*/"),
)
_RATE_UNITS = {"minute": "minutes", "hour": "hours", "day": "days"}
# CreateSchedule and PutRule both take a ScheduleExpression of at most 256 characters.
_MAX_SCHEDULE = 256


def schedule_problem(expression: str, *, one_time: bool) -> str | None:
    """What is wrong with an EventBridge schedule expression, or None if it follows the grammar.

    `rate(value unit)`: a positive whole number and minute(s), hour(s) or day(s), singular for 1 and
    plural otherwise. `cron(...)`: six fields, each within its values and wildcards, with `?` in
    exactly one of day-of-month and day-of-week. `at(yyyy-mm-ddThh:mm:ss)` (Scheduler only): a real
    date and time.
    """
    if len(expression) > _MAX_SCHEDULE:
        return f"longer than {_MAX_SCHEDULE} characters"
    if rate := re.fullmatch(r"rate\(([0-9]+) ([a-z]+)\)", expression):
        digits, unit = rate.groups()
        if len(digits) > 9 or int(digits) < 1 or digits.startswith("0"):
            return "a rate's value is a positive whole number"
        singular = int(digits) == 1
        if unit not in (_RATE_UNITS if singular else _RATE_UNITS.values()):
            expected = " or ".join(_RATE_UNITS) if singular else " or ".join(_RATE_UNITS.values())
            return f"the unit of rate({digits} ...) is {expected}"
        return None
    if at := re.fullmatch(r"at\(([0-9]{4})-([0-9]{2})-([0-9]{2})T([0-9]{2}):([0-9]{2}):([0-9]{2})\)", expression):
        if not one_time:
            return "at(...) is for EventBridge Scheduler's one-time schedules, not rules"
        try:
            year, month, day, hour, minute, second = map(int, at.groups())
            datetime.datetime(year, month, day, hour, minute, second)
        except ValueError:
            return "at(...) names no real date and time"
        return None
    if cron := re.fullmatch(r"cron\(([^ ]+(?: [^ ]+){5})\)", expression):
        fields = cron.group(1).split(" ")
        for text, field in zip(fields, _CRON_FIELDS, strict=True):
            if problem := _cron_field_problem(text, *field):
                return problem
        day_of_month, day_of_week = fields[2], fields[4]
        if (day_of_month == "?") == (day_of_week == "?"):
            return "exactly one of day-of-month and day-of-week must be ?"
        return None
    if expression.startswith("cron("):
        return "a cron expression has six fields separated by single spaces"
    return "it starts with neither cron( nor rate(" + (" nor at(" if one_time else "")


def _cron_field_problem(
    text: str, name: str, low: int, high: int, names: tuple[str, ...], wildcards: str
) -> str | None:
    def value(token: str) -> int | None:
        if token in names:
            return names.index(token) + low
        if re.fullmatch(r"[0-9]{1,4}", token) and low <= int(token) <= high:
            return int(token)
        return None

    bad = f"the {name} field {text!r} is not {low}-{high}"
    bad += f" or {names[0]}-{names[-1]}" if names else ""
    bad += " with , - " + " ".join(wildcards)
    if text == "?":
        return None if "?" in wildcards else bad
    if "#" in text:
        # day-of-week only, and then as its one expression: 3#2 is the month's second Tuesday.
        match = re.fullmatch(r"([^#]+)#([1-5])", text)
        return None if "#" in wildcards and match and value(match.group(1)) is not None else bad
    for item in text.split(","):
        base, _, step = item.partition("/")
        if step and ("/" not in wildcards or not re.fullmatch(r"[0-9]{1,4}", step) or not 1 <= int(step) <= high):
            return bad
        if base == "*":
            if "*" in wildcards:
                continue
            return bad
        if base == "L" and "L" in wildcards and not step:
            continue
        if name == "day-of-week" and not step and base.endswith("L") and value(base[:-1]) is not None:
            continue  # 6L: the month's last Friday
        if name == "day-of-month" and not step and re.fullmatch(r"[0-9]{1,2}W", base) and value(base[:-1]) is not None:
            continue
        first, dash, last = base.partition("-")
        start, end = value(first), value(last) if dash else value(first)
        if start is None or end is None or start > end:
            return bad
    return None
