"""Hypothesis strategies for hostile JSON *text*: what a client may send, written as it may write it.

Numbers Python would turn into floats or refuse (1e400, 1E-130, 38+ digit integers, -0, long
fractions), strings with any character written raw or escaped (lone surrogates, U+FFFE/U+FFFF,
U+2028/U+2029, U+0085, control characters), nesting, odd whitespace, and sizes around the
kept-failures queue's 256 KiB.
"""

from __future__ import annotations

from hypothesis import strategies as st

ODD_NUMBERS = ["1e400", "-1E+400", "1E-130", "-0", "-0.0", "0.1000000000000000000000000000001", "1" * 40, "-" + "9" * 60,
               "2.5e-324", "123456789012345678901234567890.5e-10", "0e0", "1E400"]  # fmt: skip
NUMBER = st.one_of(
    st.sampled_from(ODD_NUMBERS),
    st.from_regex(r"-?(0|[1-9][0-9]{0,45})(\.[0-9]{1,45})?([eE][+-]?[0-9]{1,4})?", fullmatch=True),
)
ODD_CHARACTERS = '\ud800\udfff\ufffe\uffff\u2028\u2029\u0085\u001c\u001d\u001e\x00\x1f\x7f"\\/\t\n\r\U0001f600é'


def _character(character: str, raw: bool) -> str:
    """One character of a JSON string: raw where JSON and UTF-8 allow it, else escaped."""
    if raw and ord(character) >= 0x20 and character not in '"\\' and not 0xD800 <= ord(character) <= 0xDFFF:
        return character
    return f"\\u{ord(character):04x}"


@st.composite
def json_strings(draw: st.DrawFn) -> str:
    text = draw(st.text(alphabet=st.one_of(st.characters(), st.sampled_from(ODD_CHARACTERS)), max_size=12))
    return '"' + "".join(_character(c, draw(st.booleans())) for c in text) + '"'


SPACE = st.sampled_from(["", " ", "\n", "\t ", "\r\n"])


def _containers(children: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    arrays = st.lists(children, max_size=4).map(lambda items: "[" + ",".join(items) + "]")
    members = st.lists(st.tuples(json_strings(), SPACE, children), max_size=4)
    objects = members.map(lambda items: "{" + ",".join(f"{name}:{space}{value}" for name, space, value in items) + "}")
    return st.one_of(arrays, objects)


JSON_TEXT = st.recursive(
    st.one_of(NUMBER, json_strings(), st.sampled_from(["true", "false", "null"])), _containers, max_leaves=25
)
# Around the queue's 256 KiB (a kept failure is the payload plus about 600 bytes; escapes grow it).
PADDING = st.sampled_from([0, 0, 0, 200, 261_000, 261_600, 262_144, 300_000])
DEEP = st.sampled_from([0, 0, 0, 50, 400])


@st.composite
def requests(draw: st.DrawFn) -> str:
    value = draw(JSON_TEXT)
    depth = draw(DEEP)
    value = "[" * depth + value + "]" * depth
    pad = draw(PADDING)
    if pad or draw(st.booleans()):
        # An object the job refuses (Success false), so that it fails, with the value and the padding.
        return f'{{"Success": false, "value": {value}, "pad": "{"x" * pad}"}}'
    return value  # anything that is not a job request fails too
