"""Validation primitives for the kit's settings.

Every value is read through a `SettingsReader`, which knows the dotted path of the object it reads
(`kit.logExport`) so that an error names the exact key, the value found and what is allowed, and
which refuses keys nobody asked for (a typo must not silently fall back to a default).
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_MISSING = object()


class SettingsError(ValueError):
    """A setting is missing, unknown, or has a value outside what is allowed."""


def _show(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


class SettingsReader:
    """Reads one JSON object of settings and validates each value as it is taken."""

    def __init__(self, values: Any, path: str) -> None:
        if not isinstance(values, Mapping):
            raise SettingsError(f"{path}: {_show(values)} is not an object")
        self._values = dict(values)
        self._path = path
        self._taken: set[str] = set()

    def _key(self, key: str) -> str:
        return f"{self._path}.{key}"

    def _take(self, key: str, default: Any) -> Any:
        self._taken.add(key)
        value = self._values.get(key, default)
        if value is _MISSING:
            raise SettingsError(f"{self._key(key)}: is required")
        return value

    def fail(self, key: str, value: Any, allowed: str) -> SettingsError:
        return SettingsError(f"{self._key(key)}: {_show(value)} is not {allowed}")

    def integer(self, key: str, *, minimum: int, maximum: int, default: Any = _MISSING) -> int:
        value = self._take(key, default)
        # Values given with `-c` arrive as strings; accept "12" but never "12.5" or true.
        if isinstance(value, str) and re.fullmatch(r"-?[0-9]+", value.strip()):
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
            raise self.fail(key, value, f"a whole number from {minimum} to {maximum}")
        return value

    def number(self, key: str, *, minimum: float, maximum: float, default: Any = _MISSING) -> float:
        value = self._take(key, default)
        if isinstance(value, str):
            try:
                value = float(value)
            except ValueError:
                pass
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
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            raise self.fail(key, value, meaning)
        return value

    def optional_string(self, key: str, *, pattern: str, meaning: str) -> str | None:
        value = self._take(key, None)
        if value is None or value == "":
            return None
        if not isinstance(value, str) or not re.fullmatch(pattern, value):
            raise self.fail(key, value, f"{meaning} (or null)")
        return value

    def choice(self, key: str, *, allowed: tuple[Any, ...], default: Any = _MISSING) -> Any:
        value = self._take(key, default)
        if isinstance(value, str) and all(isinstance(a, int) for a in allowed) and re.fullmatch(r"[0-9]+", value):
            value = int(value)
        if value not in allowed or isinstance(value, bool):
            raise self.fail(key, value, "one of " + ", ".join(_show(a) for a in allowed))
        return value

    def time_zone(self, key: str, *, default: Any = _MISSING) -> str:
        value = self._take(key, default)
        try:
            if not isinstance(value, str) or not value:
                raise ZoneInfoNotFoundError(value)
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise self.fail(key, value, "an IANA time zone name such as \"Europe/Berlin\" or \"UTC\"") from None
        return value

    def string_list(
        self, key: str, *, pattern: str, meaning: str, min_items: int, max_items: int, default: Any = _MISSING
    ) -> tuple[str, ...]:
        value = self._take(key, default)
        if isinstance(value, str):
            try:
                value = json.loads(value)
            except ValueError:
                pass
        allowed = f"a list of {min_items} to {max_items} unique {meaning}"
        if (
            not isinstance(value, list)
            or not min_items <= len(value) <= max_items
            or len(set(map(str, value))) != len(value)
            or not all(isinstance(v, str) and re.fullmatch(pattern, v) for v in value)
        ):
            raise self.fail(key, value, allowed)
        return tuple(value)

    def string_map(self, key: str, *, pattern: str, meaning: str, default: Any = _MISSING) -> dict[str, str]:
        value = self._take(key, default)
        if not isinstance(value, Mapping) or not all(
            isinstance(k, str) and isinstance(v, str) and re.fullmatch(pattern, k) and re.fullmatch(pattern, v)
            for k, v in value.items()
        ):
            raise self.fail(key, value, meaning)
        return dict(value)

    def child(self, key: str) -> SettingsReader:
        return SettingsReader(self._take(key, {}), self._key(key))

    def done(self) -> None:
        """Refuse keys that were given but never read: they are typos or leftovers."""
        unknown = sorted(set(self._values) - self._taken)
        if unknown:
            raise SettingsError(
                f"{self._key(unknown[0])}: is not a known setting (known: {', '.join(sorted(self._taken))})"
            )
