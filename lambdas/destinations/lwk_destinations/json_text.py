"""JSON handled as text, so that a request payload is kept exactly as it was sent.

Python's `json` (and the Lambda runtime's simplejson) turns every number with a fraction or an
exponent into a float: `1e400` becomes `inf`, `0.1000000000000000000001` becomes `0.1`. And its parser
recurses, so a payload nested a few thousand levels deep cannot be read at all. A kept failure must
read back equal to the request that failed, so the failure handler never parses the request
payload: it finds where the payload's text starts and ends in the invocation record and keeps that
text. The scanner below checks the JSON grammar (RFC 8259) without recursing, so any depth is fine.
"""

from __future__ import annotations

import json
import re

from .errors import MalformedRecordError

_WHITESPACE = " \t\n\r"
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
# Unrolled, so that a megabyte-long string is matched without backtracking.
_STRING = re.compile(r'"[^"\\\x00-\x1f]*(?:\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})[^"\\\x00-\x1f]*)*"')
_LITERALS = ("true", "false", "null")


def _skip(text: str, at: int) -> int:
    while at < len(text) and text[at] in _WHITESPACE:
        at += 1
    return at


def _token(pattern: re.Pattern[str], text: str, at: int, what: str) -> int:
    match = pattern.match(text, at)
    if match is None:
        raise MalformedRecordError(f"invalid JSON at character {at}: expected {what}")
    return match.end()


def _member_name(text: str, at: int) -> tuple[int, int]:
    """The span of an object member's name, then past its colon (and the whitespace after it)."""
    end = _token(_STRING, text, at, "a member name")
    colon = _skip(text, end)
    if not text.startswith(":", colon):
        raise MalformedRecordError(f"invalid JSON at character {colon}: expected ':'")
    return end, _skip(text, colon + 1)


def value_end(text: str, at: int) -> int:
    """Where the JSON value that starts at `at` ends (exclusive); raises MalformedRecordError."""
    closers: list[str] = []
    at = _skip(text, at)
    while True:
        # A value starts here.
        opening = text[at : at + 1]
        if opening in ("{", "["):
            inner = _skip(text, at + 1)
            closer = "}" if opening == "{" else "]"
            if text.startswith(closer, inner):
                at = inner + 1
            else:
                closers.append(closer)
                at = _member_name(text, inner)[1] if opening == "{" else inner
                continue
        elif opening == '"':
            at = _token(_STRING, text, at, "a string")
        elif literal := next((word for word in _LITERALS if text.startswith(word, at)), None):
            at += len(literal)
        else:
            at = _token(_NUMBER, text, at, "a value")
        # A value ended: close what it ends, or go on to the next member or element.
        while True:
            if not closers:
                return at
            at = _skip(text, at)
            if text.startswith(",", at):
                at = _skip(text, at + 1)
                if closers[-1] == "}":
                    at = _member_name(text, at)[1]
                break
            if text.startswith(closers[-1], at):
                closers.pop()
                at += 1
                continue
            raise MalformedRecordError(f"invalid JSON at character {at}: expected ',' or '{closers[-1]}'")


def take_members(text: str, names: tuple[str, ...]) -> tuple[str, dict[str, str]]:
    """Split a JSON object's text: its members `names` as they are written, and the rest.

    Returns the object's text with each of those members' values replaced by `null` (small enough
    to parse) and the original text of each value found. Raises MalformedRecordError when `text`
    is not one JSON object.
    """
    at = _skip(text, 0)
    if not text.startswith("{", at):
        raise MalformedRecordError("expected an invocation record (a JSON object)")
    taken: dict[str, str] = {}
    spans: list[tuple[int, int]] = []
    at = _skip(text, at + 1)
    if not text.startswith("}", at):
        while True:
            name_end, value_start = _member_name(text, at)
            end = value_end(text, value_start)
            name = json.loads(text[at:name_end])
            if name in names:
                taken[name] = text[value_start:end]
                spans.append((value_start, end))
            at = _skip(text, end)
            if text.startswith(",", at):
                at = _skip(text, at + 1)
                continue
            if text.startswith("}", at):
                break
            raise MalformedRecordError(f"invalid JSON at character {at}: expected ',' or '}}'")
    if _skip(text, at + 1) != len(text):
        raise MalformedRecordError(f"invalid JSON at character {at + 1}: text after the record")
    rest, previous = [], 0
    for start, end in spans:
        rest += [text[previous:start], "null"]
        previous = end
    rest.append(text[previous:])
    return "".join(rest), taken
