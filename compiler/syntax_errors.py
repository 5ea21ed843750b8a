"""Friendly syntax-error wording: "expected a duration such as `30d` after `window`",
never a dump of Lark terminal names."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass

from lark import Lark
from lark.lexer import PatternStr

# What a user calls each kind of token, by example.
TOKEN_WORDS = {
    "DURATION": "a duration such as `30d`",
    "DATE": "a date such as `2026-03-01`",
    "TIMESTAMP": "a timestamp such as `2026-03-01T04:00:00Z`",
    "SIZE": "a size such as `50MB`",
    "PERCENT": "a percentage such as `5%`",
    "MULTIPLIER": "a multiplier such as `5x`",
    "FLOAT": "a number such as `0.85`",
    "INT": "a whole number such as `42`",
    "STRING": 'a string in double quotes such as `"text"`',
    "NAME": "a name such as `transactions`",
    "KEY": "a key such as `max_iter`",
    "CMP": "a comparison such as `>=`",
    "ROLE": "a role (`ml`, `product`, `risk`, `data`, `platform` or `serving`)",
    "RISK_LEVEL": "a risk level (`low`, `medium` or `high`)",
    "PREDICTS": "`future`, `new_entities` or `iid`",
    "POLICY": "a failure policy (`block`, `warn`, `retry` or `alert \"...\"`)",
    "FILE_FORMAT": "a source format (`csv`, `parquet` or `sql`)",
    "COLUMN_TYPE": "a column type (`string`, `int`, `float`, `bool`, `date`, `timestamp` "
    "or `category`)",
    "SPLIT_KIND": "a split kind (`random`, `time`, `entity`, `group` or `market`)",
    "TASK": "a task (`binary`, `multiclass` or `regression`)",
    "CALIBRATION_METRIC": "`ece` or `brier`",
    "PERCENTILE": "a percentile such as `p99`",
    "REGISTRY_KIND": "`local` or `mlflow`",
    "_NL": "the end of the statement",
    "SEMICOLON": "the end of the statement",
    "$END": "the end of the file",
}

# A kind whose wording another covers: a number such as `0.85` covers a whole number,
# a date such as `2026-03-01` a timestamp. Only the dropped kind's wording is lost:
# a share still reads "a number ... or a percentage ...", a range bound "a date ...,
# a number ... or a percentage ...".
_COVERED_BY = {"INT": "FLOAT", "TIMESTAMP": "DATE"}
# Where any literal value goes (a map value), one word for them all.
_ANY_VALUE = {"STRING", "INT", "FLOAT", "PERCENT", "DURATION", "SIZE", "MULTIPLIER"}
ANY_VALUE_WORDS = 'a value such as `42`, `0.05`, `"text"`, `30d` or `50MB`'
_MAX_CHOICES = 8


def describe_expected(expected: set[str], parser: Lark) -> str:
    words = _words(expected, parser)
    if not words:
        return "something else"
    if len(words) <= 2:
        return " or ".join(words)
    if len(words) > _MAX_CHOICES:
        shown = ", ".join(words[:_MAX_CHOICES])
        return f"one of {shown}, ..."
    return "one of " + ", ".join(words[:-1]) + " or " + words[-1]


def _words(expected: set[str], parser: Lark) -> list[str]:
    names = set(expected)
    if "_NL" in names:
        names.discard("SEMICOLON")
    described = []
    if names >= _ANY_VALUE:
        names -= _ANY_VALUE | {"DATE", "TIMESTAMP"}
        described.append(ANY_VALUE_WORDS)
    names -= {kind for kind, wider in _COVERED_BY.items() if wider in names}
    keywords = []
    for name in sorted(names):
        if name in TOKEN_WORDS:
            described.append(TOKEN_WORDS[name])
            continue
        literal = _literal(parser, name)
        if literal is not None:
            keywords.append(f"`{literal}`")
    return sorted(described) + sorted(keywords)


def closest_keyword(word: str, expected: set[str], parser: Lark) -> str | None:
    """The keyword the parser expected here that `word` most likely misspells (`sourc`,
    `evalute`), if one is close enough: help for a typo, never a guess at a name."""
    import difflib

    keywords = [k for k in (_literal(parser, name) for name in expected)
                if k is not None and k.isidentifier()]
    close = difflib.get_close_matches(word, keywords, n=1, cutoff=0.75)
    return close[0] if close else None


def _literal(parser: Lark, name: str) -> str | None:
    try:
        terminal = parser.get_terminal(name)
    except KeyError:
        return None
    if isinstance(terminal.pattern, PatternStr):
        return terminal.pattern.value
    return None


_TAIL = 200
# A literal that starts with a digit (`1d`, `50MB`, `0.05`, `2026-03-01`, a timestamp) is
# one word: cut where its letters start, `timeout 1d 12h` said "after `d`".
_LAST_WORD = re.compile(r"(-?\d[\w.:%+-]*|[A-Za-z_][A-Za-z0-9_]*|[^\sA-Za-z0-9_\"]+)\s*$")


def previous_word(line: str, col: int) -> str | None:
    """The word just before 1-based column `col` on the same line, if any."""
    # Only the tail is searched: on a long line of one word the search is quadratic.
    before = line[: max(col - 1, 0)].rstrip()[-_TAIL:]
    match = _LAST_WORD.search(before)
    return match.group(1) if match else None


_DURATION_WORD = re.compile(r"(\d+(ms|d|h|m|s))+")


def spaced_duration(after: str | None, found: str | None) -> str | None:
    """The fix when a duration is followed by another (`timeout 1d 12h`): its parts are
    one word (`1d12h`), as every duration the grammar reads is (`1h30m`)."""
    if after and found and _DURATION_WORD.fullmatch(after) and _DURATION_WORD.fullmatch(found):
        return f"a duration is one word: write `{after}{found}`"
    return None


_NUMBER = re.compile(r"\d+(\.\d+)?")
_UNIT_AFTER = re.compile(r"[ \t]+([A-Za-z]+)(?![\w.])")


def spaced_unit(line: str, end: int, found: str | None, expected: set[str]) -> str | None:
    """The fix for `30 d` where a duration goes, `50 MB` where a size goes: a number and
    its unit are one word. `end` indexes `line` just after the number."""
    unit = _UNIT_AFTER.match(line, end)
    if not found or unit is None or not _NUMBER.fullmatch(found):
        return None
    for kind, (noun, _, units, _) in _UNIT_WORDS.items():
        short = _SHORT_UNITS.get(unit.group(1), unit.group(1)) if kind == "DURATION" \
            else unit.group(1)
        if kind in expected and short in units:
            return f"a {noun} is one word: write `{found}{short}`"
    return None


# Duration units spelled out (`30 days`), and what the grammar calls them.
_SHORT_UNITS = {**dict.fromkeys(("day", "days"), "d"),
                **dict.fromkeys(("hour", "hours", "hr", "hrs"), "h"),
                **dict.fromkeys(("min", "mins", "minute", "minutes"), "m"),
                **dict.fromkeys(("sec", "secs", "second", "seconds"), "s")}


_UNQUOTED = re.compile(r"[^\s\"';#{}\[\]]+")


def unquoted_string(line: str, index: int, expected: set[str]) -> str | None:
    """The fix for a path or module name left unquoted (`from parquet data.parquet`,
    `model sklearn.linear_model.Ridge`) where only a string goes."""
    text = _UNQUOTED.match(line, index)
    if expected != {"STRING"} or text is None:
        return None
    return f"write it in double quotes: {quote(json.dumps(text.group()))}"


def reversed_comparison(line: str, index: int, expected: set[str]) -> str | None:
    """`=>` or `=<` where a comparison goes: the `=` comes second, as in Python."""
    written = line[index:index + 2]
    if "CMP" in expected and written in ("=>", "=<"):
        return f"did you mean `{written[1]}=`?"
    return None


_WORD_CHAR = re.compile(r"[A-Za-z0-9_]")
_WORD_AROUND = re.compile(r"[A-Za-z0-9_]*")


def split_word(line: str, col: int) -> tuple[int, str] | None:
    """When 1-based column `col` is inside a word (`role mll` fails at the second `l`:
    `ml` lexed as a role), the whole word and its 1-based start column."""
    index = col - 1
    if not (0 < index < len(line)) or not _WORD_CHAR.match(line[index]) \
            or not _WORD_CHAR.match(line[index - 1]):
        return None
    start = index
    while start > 0 and _WORD_CHAR.match(line[start - 1]):
        start -= 1
    word = _WORD_AROUND.match(line, start)
    assert word is not None
    return start + 1, word.group(0)


def describe_prefix(prefix: str, parser: Lark) -> str | None:
    """What the lexer took the start of a word for: the described terminal it matches
    in full (`ml` a role, `high` a risk level), if any."""
    for terminal in parser.terminals:
        if terminal.name in TOKEN_WORDS and terminal.name not in ("NAME", "KEY") \
                and re.fullmatch(terminal.pattern.to_regexp(), prefix):
            return TOKEN_WORDS[terminal.name]
    return None


MAX_QUOTED = 40


def quote(text: str) -> str:
    """`text` in backticks, cut to about MAX_QUOTED characters: a 100k-character token
    must not become a 100k-character message."""
    if len(text) > MAX_QUOTED:
        text = text[:MAX_QUOTED - 1] + "…"
    return f"`{text}`"


# Characters that look like (or stand in for) one of the language's ASCII characters, as
# pasted from a word processor, a chat or an IME: the one they were meant to be.
LOOKALIKES = {
    **dict.fromkeys("\u201c\u201d\u201e\u201f\u2033\u00ab\u00bb\uff02", '"'),
    **dict.fromkeys("\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
                    "\u2009\u200a\u202f\u205f\u3000", " "),
    **dict.fromkeys("\u2010\u2011\u2012\u2013\u2014\u2212\ufe63\uff0d", "-"),
    "\uff1b": ";", "\u037e": ";", "\uff1a": ":", "\uff0c": ",", "\u201a": ",", "\uff0e": ".",
    "\u2024": ".", "\uff5b": "{", "\uff5d": "}", "\uff3b": "[", "\uff3d": "]", "\uff08": "(",
    "\uff09": ")", "\uff1d": "=", "\uff03": "#", "\uff05": "%", "\uff1e": ">", "\uff1c": "<",
}


def unusual_character(text: str) -> tuple[str, str | None] | None:
    """A single character that the message must name rather than show (a no-break or
    zero-width space is invisible between backticks) or that looks like an ASCII one
    (`“`, `；`): its description (`U+00A0 (NO-BREAK SPACE)`) and, for a lookalike, the
    help naming the character meant."""
    if len(text) != 1 or text.isascii():
        return None
    meant = LOOKALIKES.get(text)
    invisible = not text.isprintable() or text.isspace() or \
        unicodedata.category(text) in ("Cf", "Mn", "Me", "Zs")
    if meant is None and not invisible:
        return None
    name = unicodedata.name(text, "").lower() or "an unnamed character"
    described = f"U+{ord(text):04X} ({name})" if invisible else \
        f"`{text}` (U+{ord(text):04X}, {name})"
    if meant is None:
        return described, "delete it: it is invisible in most editors"
    plain = "a space" if meant == " " else f"`{meant}`"
    return described, f"it only looks like {plain}: type {plain} instead"


@dataclass(frozen=True)
class Problem:
    """A lexical mistake worded for a person; `start` and `end` index the source line."""

    message: str
    start: int
    end: int
    help: str | None = None


# The units of the DURATION and SIZE terminals in grammar/pipe.lark (a test keeps them in step).
DURATION_UNITS = ("ms", "s", "m", "h", "d")
SIZE_UNITS = ("B", "KB", "MB", "GB", "TB", "KiB", "MiB", "GiB", "TiB")
_UNIT_WORDS = {
    "DURATION": ("duration", "a whole number", DURATION_UNITS, "`30d` or `1h30m`"),
    "SIZE": ("size", "a number", SIZE_UNITS, "`50MB` or `1.5GiB`"),
}
_UNICODE_WORD = re.compile(r"\w+")
_VALID = {"NAME": re.compile(r"[a-z_][a-z0-9_]*"), "KEY": re.compile(r"[A-Za-z_][A-Za-z0-9_]*")}
_RULE = {
    "NAME": ("name",
             "names are lowercase ASCII letters, digits and `_`, not starting with a digit"),
    "KEY": ("key", "keys are ASCII letters, digits and `_`, not starting with a digit"),
}
_STRING_SHAPE = re.compile(r'"(?:[^"\\\n]|\\.)*"')
_ESCAPE = re.compile(r"\\(?:u[0-9a-fA-F]{4}|.)")
_GOOD_ESCAPE = re.compile(r'\\(?:["\\/bfnrt]|u[0-9a-fA-F]{4})')
_WITH_UNIT = re.compile(r"-?\d+(?:\.\d+)?[^\W\d]\w*")


def lexical_problem(line: str, index: int, expected: set[str],
                    before: str | None) -> Problem | None:
    """What is wrong with the token at `index` of `line`, when the trouble is its shape
    (an open string, a name with a capital or an accent, a duration in weeks) rather
    than its place. `before` is the kind of the token just before, if it ends at `index`."""
    if index >= len(line):
        return None
    if line[index] == '"':
        return string_problem(line, index)
    if line[index] == "'" and "STRING" in expected:
        return single_quoted(line, index)
    return word_problem(line, index, expected, before) or unit_problem(line, index, expected)


def string_problem(line: str, index: int) -> Problem | None:
    shape = _STRING_SHAPE.match(line, index)
    if shape is None:
        return Problem("this string is not closed (a string ends on the same line)",
                       index, index + 1, 'add the closing `"`')
    for escape in _ESCAPE.finditer(line, index, shape.end()):
        if not _GOOD_ESCAPE.fullmatch(escape.group()):
            return Problem(f"{quote(escape.group())} is not an escape a string may hold",
                           escape.start(), escape.end(),
                           'use `\\"`, `\\\\`, `\\/`, `\\b`, `\\f`, `\\n`, `\\r`, `\\t` '
                           "or `\\u` and four hex digits")
    return None


_SINGLE_QUOTED = re.compile(r"'([^'\n]*)'?")


def single_quoted(line: str, index: int) -> Problem:
    """`'data.csv'` (Python's or SQL's quotes) where a string goes."""
    match = _SINGLE_QUOTED.match(line, index)
    assert match is not None
    return Problem("a string is written in double quotes, not single quotes", index,
                   match.end(), f"write {quote(json.dumps(match.group(1)))}")


def word_problem(line: str, index: int, expected: set[str],
                 before: str | None) -> Problem | None:
    """A name or map key with a character the language does not allow in one."""
    start = index
    while start > 0 and _UNICODE_WORD.match(line[start - 1]):
        start -= 1
    word = _UNICODE_WORD.match(line, start)
    if word is None or word.group()[0].isdigit():
        return None
    if start == index:
        kind = "NAME" if "NAME" in expected else "KEY" if "KEY" in expected else None
    else:  # `café`: `caf` lexed as a name, then `é` stopped the lexer
        kind = before if before in _VALID else None
    if kind is None or _VALID[kind].fullmatch(word.group()):
        return None
    noun, rule = _RULE[kind]
    return Problem(f"{quote(word.group())} is not a valid {noun}: {rule}",
                   start, word.end(), _ascii_help(word.group(), kind))


def _ascii_help(word: str, kind: str) -> str | None:
    """`café` -> "write it as `cafe`"; a map key may also be quoted as a string."""
    plain = unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode()
    plain = plain.lower() if kind == "NAME" else plain
    hints = [f"write it as {quote(plain)}"] if _VALID[kind].fullmatch(plain) else []
    if kind == "KEY":
        hints.append("quote it: " + quote(f'"{word}"'))
    return " or ".join(hints) or None


def unit_problem(line: str, index: int, expected: set[str]) -> Problem | None:
    """`4w` where a duration goes, `50mb` where a size goes: name the units there are."""
    literal = _WITH_UNIT.match(line, index)
    if literal is None or expected >= {"DURATION", "SIZE"}:
        return None  # any value may go here: "expected a value ..., found `4w`" says enough
    for kind, (noun, shape, units, example) in _UNIT_WORDS.items():
        if kind in expected:
            listed = ", ".join(f"`{unit}`" for unit in units[:-1]) + f" or `{units[-1]}`"
            return Problem(f"{quote(literal.group())} is not a {noun}: a {noun} is {shape} "
                           f"with a unit ({listed}), such as {example}", index, literal.end())
    return None
