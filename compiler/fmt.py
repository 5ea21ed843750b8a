"""`pipec fmt`: the canonical layout of a parsed module, comments kept.

Layout: two-space indentation, one statement per line, a blank line between
top-level declarations and around stage blocks, teams on one line
(`team risk { contact "#risk"; role risk }`) unless a comment sits inside them.
Literals keep their spelling (`20%` stays `20%`). A standalone comment stays above the
statement that follows it (a blank line after it is kept, but none before a closing
bracket); comments after the last statement of a block or of the file, or after the last
entry of a map or list, keep the blank line that set them apart from it. A comment at
the end of a line stays with the first statement that starts on that line: at the end
of its line, or of its header line when it is a block (so a one-line block that fmt
expands keeps its comment on `validate ev {`); on a line where none starts, with the
innermost statement that ends there, not with the brackets closing around it. A map or
list with a comment inside it is laid out one entry per line, so the comment stays with
its entry; so is one whose line would be wider than MAX_WIDTH (`features [...]` of forty
names), the rest are joined onto one line.

fmt never changes what `pipec check` reports: a suppression comment covers the whole
statement it is on or above (see `pipec.suppress`), and fmt keeps each comment on or
above the statements it was on or above. Where a suppression sits on a line shared by
several statements, fmt keeps them on that line (`owner ml; on_failure warn  # pipec:
ignore[...]`): split apart, one comment could not cover them all. The map or list of the
last of them (or of the one wrapped onto the line the others start on, which then follow
its closing bracket) is still laid out one entry per line when too wide (`seed 1; params {
# pipec: ignore[...]`).
Width is counted in terminal columns (a CJK character takes two).
"""

from __future__ import annotations

import bisect
import re
from collections.abc import Callable, Sequence

from pipec import nodes as n
from pipec.parser import normalize_newlines
from pipec.render.text import cells
from pipec.suppress import StatementLines, stands_alone
from pipec.suppress import parse as parse_suppression

INDENT = "  "
# A map or list statement wider than this is laid out one entry per line (100, as the
# line length of this project's Python); an entry that is wider on its own stays so.
# Width is counted in terminal columns, as an editor draws the line, not in code points:
# a CJK character or an emoji takes two, a combining accent none (as black and prettier
# measure). Counted by `len`, a line of Chinese labels 120 columns wide stayed whole and
# one of decomposed accents 66 columns wide was spread.
MAX_WIDTH = 100


def format_module(module: n.Module, text: str) -> str:
    return _Formatter(module, text).run()


class _Formatter:
    def __init__(self, module: n.Module, text: str):
        self.module = module
        self.source_lines = normalize_newlines(text).split("\n")
        self.comments = sorted(module.comments, key=lambda c: (c.span.line, c.span.col))
        self.used: set[int] = set()
        self.out: list[str] = []
        self.alone = {i for i, c in enumerate(self.comments) if stands_alone(c, self.source_lines)}
        self.suppressing = _suppressed_lines(self.comments, self.source_lines, self.alone)
        self.coverage = _covered_lines(module, self.comments, self.source_lines, self.alone)
        # Comment lines in order, and the standalone comments not yet written (only
        # `_leading` writes those, in order): each lookup is a bisection, not a scan of
        # every comment, which made a file of 10,000 commented lines take 17 s.
        self.lines = [c.span.line for c in self.comments]
        self.next_alone = 0
        self.alone_order = sorted(self.alone)

    def _on_lines(self, first_line: int, last_line: int) -> range:
        """Indices of the comments on lines `first_line` to `last_line`."""
        return range(bisect.bisect_left(self.lines, first_line),
                     bisect.bisect_right(self.lines, last_line))

    def run(self) -> str:
        end = len(self.source_lines) + 1
        self._body(self.module.items, 0, _separate_top)
        self._last_comments(end, 0, after_code=bool(self.module.items))
        while self.out and self.out[-1] == "":
            self.out.pop()
        # A file with nothing to keep (empty, or only blank lines) formats to empty, not
        # to one newline: `fmt --check` has no reason to flag an empty file.
        return "\n".join(self.out) + "\n" if self.out else ""

    # ------------------------------------------------------------- comments
    def _leading(self, before_line: int, depth: int, *, closing: bool = False) -> None:
        """Standalone comments above `before_line` that are not yet written. Above a
        closing bracket (`closing`), the last of them gets no blank line after it: fmt
        writes none before a `}` or `]` anywhere else, so one kept there made two
        layouts of the same block canonical."""
        while self.next_alone < len(self.alone_order):
            index = self.alone_order[self.next_alone]
            comment = self.comments[index]
            if comment.span.line >= before_line:
                break
            self.next_alone += 1
            self.used.add(index)
            self.out.append(INDENT * depth + comment.text)
            last = not self._alone_before(before_line)
            if self._blank_after(comment.span.line, before_line) and not (closing and last):
                self.out.append("")

    def _last_comments(self, before_line: int, depth: int, *, after_code: bool) -> None:
        """The standalone comments after the last statement of a body (or of the file, or
        the last entry of a map or list written one entry per line), with the blank line
        that set them apart from that statement in the source: no statement follows them
        to bring one (as the separator between declarations does), so fmt dropped it,
        and a closing note glued itself to the code above."""
        if after_code and self._alone_before(before_line):
            first = self.comments[self.alone_order[self.next_alone]].span.line
            if first >= 2 and not self.source_lines[first - 2].strip() and self.out[-1]:
                self.out.append("")
        self._leading(before_line, depth, closing=True)

    def _alone_before(self, before_line: int) -> bool:
        """Whether a standalone comment not yet written sits above `before_line`."""
        return self.next_alone < len(self.alone_order) and \
            self.comments[self.alone_order[self.next_alone]].span.line < before_line

    def _blank_after(self, line: int, limit: int) -> bool:
        following = line  # index of the next line (0-based == line number)
        return following < len(self.source_lines) and following + 1 < limit \
            and not self.source_lines[following].strip()

    def _trailing(self, first_line: int, last_line: int) -> list[n.Comment]:
        """End-of-line comments on these lines not yet written (the first node written
        that starts on a line takes its comment)."""
        found = []
        for index in self._on_lines(first_line, last_line):
            if index not in self.used and index not in self.alone:
                self.used.add(index)
                found.append(self.comments[index])
        return found

    def _inside(self, first_line: int, last_line: int) -> bool:
        """Whether a comment not yet written sits on these lines."""
        return any(index not in self.used for index in self._on_lines(first_line, last_line))

    def _emit(self, code: str, comments: list[n.Comment]) -> None:
        """A line of code and its end-of-line comments. An aligned comment keeps its
        column (as gofmt keeps aligned comments) when its line keeps its code; otherwise
        (a one-line block expanded, say) two spaces separate it. The `,` or `;` ending a
        line, which fmt drops, counts as kept code for a comment in a column with the one
        on the line above or below (`C: 0.5,   # tuned` over `solver: "lbfgs"  # default`
        in a map written one entry per line), not elsewhere (`a: 1,  # c` keeps two
        spaces, not three)."""
        if not comments:
            self.out.append(code)
            return
        column = comments[0].span.col - 1
        written = _squeezed(self.source_lines[comments[0].span.line - 1][:column])
        kept = written == _squeezed(code) or (
            written.rstrip(",;") == _squeezed(code) and self._in_a_column(comments[0]))
        padding = column - len(code) if kept and column - len(code) >= 2 else 2
        self.out.append(code + " " * padding + " ".join(c.text for c in comments))

    def _in_a_column(self, comment: n.Comment) -> bool:
        """Whether an end-of-line comment on the line above or below starts in the same
        column as this one."""
        line, col = comment.span.line, comment.span.col
        return any(self.comments[i].span.col == col and self.comments[i].span.line != line
                   and i not in self.alone for i in self._on_lines(line - 1, line + 1))

    def _has_inner_comments(self, block: n.Block) -> bool:
        """A one-line block keeps its end-of-line comment; any other comment inside
        forces the multi-line layout."""
        if block.span.line == block.span.end_line:
            return False
        return bool(self._on_lines(block.span.line, block.span.end_line - 1))

    # ------------------------------------------------------------ statements
    def _body(self, body: Sequence[n.Stmt], depth: int,
              separate: Callable[[n.Stmt, n.Stmt], bool]) -> None:
        """The statements of a module or block. The `}` closing a block is no statement:
        a comment on a line where the last statement ends and the block closes stays with
        that statement (`b: "..." } }  # pipec: ignore[...]`), on which `pipec check`
        reads it; given to the `}`, it covered the `params` no more."""
        previous: n.Stmt | None = None
        index = 0
        line_ends = _line_ends(body)
        while index < len(body):
            chained = self._chain(body, index, line_ends)
            group, spread = chained or (self._group(body, index, line_ends), None)
            if previous is not None and separate(previous, group[0]):
                self.out.append("")
            next_line = _next_line(body, index + len(group) - 1, _NOTHING_FOLLOWS)
            if len(group) > 1:
                self._inline(group, depth, next_line, spread)
            else:
                self._statement(group[0], depth, next_line)
            previous = group[-1]
            index += len(group)

    def _group(self, body: Sequence[n.Stmt], index: int,
               line_ends: list[int]) -> Sequence[n.Stmt]:
        """The statements written on one line from `body[index]`: several only where a
        suppression not yet written (not taken by the block whose header shares the
        line) covers a line they share, and no other comment sits inside them. They
        share a line by starting on it, or by the ones starting on it following a
        wrapped map or list that ends there (`b: 2 }; seed 1  # pipec: ignore[...]`
        covers both `params` and `seed`). A comment inside the map or list the group may
        spread (`_spreadable`) keeps the group together: split apart, the suppression
        covered only the statement left on its line, and the other's diagnostic came
        back."""
        end = line_ends[index]
        joint = body[index].span.line
        wraps = end < len(body) and _wraps_onto(body[end - 1], body[end])
        if wraps and not self._pending(joint):
            joint = body[end].span.line
            end = line_ends[end]
        elif wraps and end - index == 1 and all(
                stmt.span.end_line == body[end].span.line for stmt in body[end:line_ends[end]]):
            # A suppression on or above `features [` covers its lines, so also the
            # statements after its `]` (`]; params { ... }`): apart, they were uncovered.
            end = line_ends[end]
        if end - index == 1 or not self._pending(joint):
            return body[index:index + 1]
        group = body[index:end]
        first, last = group[0].span.line, max(stmt.span.end_line for stmt in group)
        spread = _spreadable(group)
        own = range(spread.span.line, spread.span.end_line + 1) if spread else range(0)
        if any(self.lines[i] != joint and self.lines[i] not in own
               for i in self._on_lines(first, last)):
            return body[index:index + 1]
        return group

    def _chain(self, body: Sequence[n.Stmt], index: int,
               line_ends: list[int]) -> tuple[Sequence[n.Stmt], n.Stmt | None] | None:
        """The statements from `body[index]` a suppression not yet written covers a line
        of, when they are linked by wrapped maps or lists (`_chain_end`) beyond what
        `_group` keeps together: `seed 1; params { x: 1` over `}  # pipec: ignore[...]`
        covers all of `params`, so also `seed 1` on its first line, and a suppression
        above `features [ a` over `]; params { x: 1` over `}` covers `params` (it starts
        on a line of `features`). Split apart, the suppression covered only one of them.
        With them, the one whose map or list `_inline` may spread. None where `_group`
        decides (no such suppression, or comments `_inline` could not keep in place)."""
        end = _chain_end(body, index, line_ends)
        if end - index < 2:
            return None
        first, last = body[index].span.line, body[end - 1].span.end_line
        # Only a suppression written on the chain's lines or directly above it: one above
        # the block holding the chain stays above it, covering all of it however laid out.
        owners = {i for i in self._on_lines(first, last) if i in self.coverage} | set(
            self.suppressing.get(first, ()))
        owners -= self.used
        if not owners:  # checked first: slicing per statement made 10,000 on a line slow
            return None
        chain = body[index:end]
        if any(isinstance(stmt, n.Block | n.Schema) for stmt in chain):
            return None
        reach = max(self._reach(chain, *self.coverage[comment]) for comment in owners)
        if reach < 2 or reach <= len(self._group(body, index, line_ends)):
            return None
        group = chain[:reach]
        for spread in _spread_candidates(group):
            if self._keeps_comments(group, spread, owners):
                return group, spread
        return None

    def _keeps_comments(self, group: Sequence[n.Stmt], spread: n.Stmt | None,
                        owners: set[int]) -> bool:
        """Whether `_inline` writes each comment on the group's lines where it was: those
        inside the map or list of `spread` with its entries, and at most one other, an
        end-of-line suppression, at the end of a line it covers (two would be joined into
        one comment). A standalone comment, or one before the line `_inline` gives the
        others, would move off the suppression's lines: then the group stays apart, as
        in `_group`."""
        found = _listing(spread) if spread is not None else None
        listing = found[1] if found is not None else None
        inner = range(listing.span.line, listing.span.end_line) if listing else range(0)
        top = max(stmt.span.end_line for stmt in group)
        others = [i for i in self._on_lines(group[0].span.line, top)
                  if self.lines[i] not in inner]
        earliest = listing.span.line if spread is group[-1] else \
            listing.span.end_line if listing else 0
        return len(others) <= 1 and all(i in owners and i not in self.alone
                                        and self.lines[i] >= earliest for i in others)

    @staticmethod
    def _reach(chain: Sequence[n.Stmt], low: int, high: int) -> int:
        """How many statements from the chain's first a suppression covering lines `low`
        to `high` covers, each from its first line to its last entry (a line holding
        only its closing bracket bears no diagnostic). One it covers only in part stops
        the count: no layout keeps exactly those lines covered, joined it would cover
        more than it did, and `_group` decides as before."""
        count = 0
        while count < len(chain) and low <= chain[count].span.line \
                and _last_entry_line(chain[count]) <= high:
            count += 1
        return count

    def _pending(self, line: int) -> bool:
        """Whether a suppression not yet written covers `line`."""
        return any(i not in self.used for i in self.suppressing.get(line, ()))

    def _inline(self, group: Sequence[n.Stmt], depth: int, next_line: int,
                spread: n.Stmt | None = None) -> None:
        """Statements that share a line with a suppression. The map or list of one of
        them may still be laid out one entry per line (`_spreadable`), when the line is
        too wide or a comment sits inside it: the others stay on the line the
        suppression is on, which keeps covering them all."""
        self._leading(group[0].span.line, depth)
        first, last = group[0].span.line, max(stmt.span.end_line for stmt in group)
        until = _until(first, last, next_line)
        line = INDENT * depth + "; ".join(render_inline(stmt) for stmt in group)
        spread = spread or _spreadable(group)
        listing = _listing(spread) if spread is not None else None
        if listing is None or not self._spread(listing[1], line):
            self._emit(line, self._trailing(first, until))
            return
        # `seed 1; params {`, its entries, then `}; seed 2`: the suppression stays after
        # the opening bracket when it is the last, else after the closing one.
        at = next(i for i, stmt in enumerate(group) if stmt is spread)
        before = "".join(render_inline(stmt) + "; " for stmt in group[:at])
        after = "".join("; " + render_inline(stmt) for stmt in group[at + 1:])
        self._entries(INDENT * depth + before + listing[0], listing[1], depth, until,
                      after=after)

    def _statement(self, stmt: n.Stmt, depth: int, next_line: int) -> None:
        self._leading(stmt.span.line, depth)
        if isinstance(stmt, n.Block):
            self._block(stmt, depth, next_line)
        elif isinstance(stmt, n.Schema):
            self._schema(stmt, depth, next_line)
        else:
            until = _until(stmt.span.line, stmt.span.end_line, next_line)
            spread = _listing(stmt)
            line = INDENT * depth + render_statement(stmt)
            if spread is not None and self._spread(spread[1], line):
                self._entries(INDENT * depth + spread[0], spread[1], depth, until)
            else:
                self._emit(line, self._trailing(stmt.span.line, until))

    def _spread(self, listing: n.Node, line: str) -> bool:
        """A map or list is laid out one entry per line when a comment sits inside it
        (the comment stays with its entry) or when `line`, the statement or entry on one
        line, is wider than MAX_WIDTH. An empty one gets no narrower spread (`key: {`
        over `}`), so width alone leaves it whole."""
        wide = cells(line) > MAX_WIDTH and bool(_entries_of(listing))
        return wide or self._inside(listing.span.line, listing.span.end_line - 1)

    def _entries(self, head: str, listing: n.Node, depth: int, until: int,
                 after: str = "", limit: int | None = None) -> None:
        """`head` and the opening bracket, an entry per line, the closing bracket and
        `after` (the statements of a group that follow it on its line). No entry takes
        a comment past line `limit` (that of the map or list holding this one)."""
        opening, closing = ("{", "}") if isinstance(listing, n.MapValue) else ("[", "]")
        self._emit(head + opening, self._trailing(listing.span.line, listing.span.line))
        entries = _entries_of(listing)
        # Built once, not once per entry: a 10,000-name `features [` list took 14 s.
        nodes = [entry for entry, _, _ in entries]
        # With statements after the closing bracket, its line's comment (the group's
        # suppression) is theirs: given to the last entry, it left them uncovered.
        last_line = listing.span.end_line - 1 if after else listing.span.end_line
        last_line = last_line if limit is None else min(limit, last_line)
        for index, (entry, key, inner) in enumerate(entries):
            self._leading(entry.span.line, depth + 1)
            entry_until = min(last_line, _until(entry.span.line, entry.span.end_line,
                                                _next_line(nodes, index, listing.span.end_line)))
            text = inner if isinstance(inner, str) else render_value(inner)
            line = INDENT * (depth + 1) + key + text
            if isinstance(inner, n.MapValue | n.ListValue) and self._spread(inner, line):
                self._entries(INDENT * (depth + 1) + key, inner, depth + 1, entry_until,
                              limit=last_line)
            else:
                self._emit(line, self._trailing(entry.span.line, entry_until))
        self._last_comments(listing.span.end_line, depth + 1, after_code=bool(entries))
        self._emit(INDENT * depth + closing + after,
                   self._trailing(listing.span.end_line, until))

    def _block(self, block: n.Block, depth: int, next_line: int) -> None:
        header = INDENT * depth + render_header(block)
        if block.kind == "team" and not self._has_inner_comments(block):
            until = _until(block.span.line, block.span.end_line, next_line)
            self._emit(render_inline(block, header), self._trailing(block.span.line, until))
            return
        self._header(header + " {", block.span.line)
        self._body(block.body, depth + 1, _separate)
        self._close(block, depth, next_line)

    def _header(self, text: str, line: int) -> None:
        self._emit(text, self._trailing(line, line))

    def _close(self, node: n.Block | n.Schema, depth: int, next_line: int) -> None:
        inner = node.body if isinstance(node, n.Block) else node.columns
        self._last_comments(node.span.end_line, depth + 1, after_code=bool(inner))
        until = _until(node.span.line, node.span.end_line, next_line)
        self._emit(INDENT * depth + "}", self._trailing(node.span.end_line, until))

    def _schema(self, schema: n.Schema, depth: int, next_line: int) -> None:
        self._header(INDENT * depth + "schema {", schema.span.line)
        for index, column in enumerate(schema.columns):
            self._leading(column.span.line, depth + 1)
            until = _until(column.span.line, column.span.end_line,
                           _next_line(schema.columns, index, schema.span.end_line))
            self._emit(INDENT * (depth + 1) + render_column(column),
                       self._trailing(column.span.line, until))
        self._close(schema, depth, next_line)


def _listing(stmt: n.Stmt) -> tuple[str, n.Node] | None:
    """A statement that may wrap lines: the text before its map or list, and the node
    spanning that map or list (`params {`, `holdout [`, `features [`, `columns [`)."""
    if isinstance(stmt, n.TrainFeatures | n.Columns):
        return f"{_KEYWORDS[type(stmt)]} ", stmt
    value = stmt.value if isinstance(stmt, n.Setting | n.LabelWhen) else None
    if isinstance(value, n.MapValue | n.ListValue):
        text = render_statement(stmt)
        return text[:len(text) - len(render_value(value))], value
    return None


_KEYWORDS: dict[type, str] = {n.TrainFeatures: "features", n.Columns: "columns"}


def _entries_of(listing: n.Node) -> list[tuple[n.Node, str, n.Value | str]]:
    """Each entry of a map or list: its node, the text before its value, its value."""
    if isinstance(listing, n.MapValue):
        return [(pair, f"{pair.key_text}: ", pair.value) for pair in listing.pairs]
    if isinstance(listing, n.ListValue):
        return [(item, "", item) for item in listing.items]
    if isinstance(listing, n.TrainFeatures):
        return [(ref, "", ref.text) for ref in listing.refs]
    assert isinstance(listing, n.Columns)
    return [(column, "", column.name) for column in listing.columns]


def _suppressed_lines(comments: Sequence[n.Comment], lines: list[str],
                      alone: set[int]) -> dict[int, list[int]]:
    """Line -> the suppression comments (by index) on it or directly above it."""
    standalone = {c.span.line for index, c in enumerate(comments) if index in alone}
    found: dict[int, list[int]] = {}
    for index, comment in enumerate(comments):
        suppression = parse_suppression(comment, lines, standalone)
        if suppression is not None and suppression.line > 0:
            found.setdefault(suppression.line, []).append(index)
    return found


def _covered_lines(module: n.Module, comments: Sequence[n.Comment], lines: list[str],
                   alone: set[int]) -> dict[int, tuple[int, int]]:
    """Suppression comment (by index) -> the first and last line it covers, as `pipec
    check` reads it (`pipec.suppress.StatementLines`)."""
    standalone = {c.span.line for index, c in enumerate(comments) if index in alone}
    statements = StatementLines.of(module)
    found: dict[int, tuple[int, int]] = {}
    for index, comment in enumerate(comments):
        suppression = parse_suppression(comment, lines, standalone)
        if suppression is not None:
            statements.cover(suppression)
            if suppression.first > 0:
                found[index] = (suppression.first, suppression.last)
    return found


def _chain_end(body: Sequence[n.Stmt], index: int, line_ends: list[int]) -> int:
    """The index after the statements linked to `body[index]` by sharing lines: starting
    on one line, or starting on the line a wrapped map or list before them ends on."""
    end = line_ends[index]
    while end < len(body) and _wraps_onto(body[end - 1], body[end]):
        end = line_ends[end]
    return end


def _squeezed(code: str) -> str:
    return re.sub(r"\s+", "", code)


def _until(first_line: int, last_line: int, next_line: int) -> int:
    """The last line whose end-of-line comment a node spanning these lines takes: not
    its last one when the next statement starts there (the comment goes with the
    statement that starts on its line)."""
    return last_line - 1 if next_line == last_line != first_line else last_line


_NOTHING_FOLLOWS = 0  # a line no statement starts on


def _next_line(siblings: Sequence[n.Node], index: int, closing_line: int) -> int:
    return siblings[index + 1].span.line if index + 1 < len(siblings) else closing_line


def _line_ends(body: Sequence[n.Stmt]) -> list[int]:
    """For each statement, the index after the last statement starting on its line:
    found once per body, not once per statement, which took 6 s for 10,000 statements
    on one line."""
    ends = list(range(1, len(body) + 1))
    for index in reversed(range(len(body) - 1)):
        if body[index + 1].span.line == body[index].span.line:
            ends[index] = ends[index + 1]
    return ends


def _spreadable(group: Sequence[n.Stmt]) -> n.Stmt | None:
    """The statement of a group written on one line whose map or list may be laid out
    one entry per line while a suppression on the group's line still covers them all:
    the one wrapped onto the line the others start on, the last on the group's first
    line (the suppression stays after its closing bracket, which covers that first
    line), else the last (the suppression stays after its opening bracket). Spreading
    any other would move the statements after it off the suppression's line, and a
    second fmt would choose as the first did only with these."""
    first, last = group[0], group[-1]
    if first.span.line < last.span.line:
        wrapped = [stmt for stmt in group if stmt.span.line == first.span.line][-1]
        return wrapped if _listing(wrapped) is not None else None
    return last if _listing(last) is not None else None


def _last_entry_line(stmt: n.Stmt) -> int:
    """The last line of a statement that holds more than closing brackets: that of the
    last entry of its map or list, if it has one."""
    found = _listing(stmt)
    entries = _entries_of(found[1]) if found is not None else []
    if not entries:
        return stmt.span.end_line if found is None else stmt.span.line
    return max(stmt.span.line, entries[-1][0].span.end_line)


def _spread_candidates(group: Sequence[n.Stmt]) -> list[n.Stmt | None]:
    """The statements of a chain joined on one line whose map or list `_inline` may lay
    out one entry per line, best first: the last (the others stay on its opening line,
    as `_spreadable` chooses once they share a line, so a second fmt agrees), then the
    first (the others follow its closing bracket), then none."""
    found: list[n.Stmt | None] = [stmt for stmt in dict.fromkeys((group[-1], group[0]))
                                  if _listing(stmt) is not None]
    return [*found, None]


def _wraps_onto(stmt: n.Stmt, following: n.Stmt) -> bool:
    """Whether `stmt` is a wrapped statement without a body (a map or list over several
    lines) that ends on the line `following` starts on: a suppression there covers both
    (see `pipec.suppress.StatementLines`)."""
    return not isinstance(stmt, n.Block | n.Schema) \
        and stmt.span.line < stmt.span.end_line == following.span.line


def _separate(previous: n.Stmt, current: n.Stmt) -> bool:
    """A blank line around every nested block."""
    return isinstance(previous, n.Block) or isinstance(current, n.Block)


def _separate_top(previous: n.Stmt, current: n.Stmt) -> bool:
    """A blank line between top-level declarations, not between imports."""
    return not (isinstance(previous, n.Import) and isinstance(current, n.Import))


# ------------------------------------------------------------------ rendering


def render_inline(stmt: n.Stmt, header: str | None = None) -> str:
    """A statement on one line, a block with its body (`team risk { role risk }`)."""
    if isinstance(stmt, n.Block):
        inner = "; ".join(render_inline(s) for s in stmt.body)
        header = render_header(stmt) if header is None else header
        return f"{header} {{ {inner} }}" if inner else f"{header} {{}}"
    if isinstance(stmt, n.Schema):
        columns = ", ".join(render_column(c) for c in stmt.columns)
        return f"schema {{ {columns} }}" if columns else "schema {}"
    return render_statement(stmt)


def render_header(block: n.Block) -> str:
    if isinstance(block, n.Split):
        on = f" on {block.on.name}" if block.on else ""
        return f"split by {block.by}{on}"
    if isinstance(block, n.Features) and block.version is not None:
        return f"features {block.name.name} version {block.version.text}"
    return f"{block.kind} {block.name.name}"


def render_value(value: n.Value | n.Ident) -> str:
    if isinstance(value, n.Ident):
        return value.name
    if isinstance(value, n.ListValue):
        return "[" + ", ".join(render_value(item) for item in value.items) + "]"
    if isinstance(value, n.MapValue):
        if not value.pairs:
            return "{}"
        return "{ " + ", ".join(f"{p.key_text}: {render_value(p.value)}"
                                for p in value.pairs) + " }"
    return value.text


def render_column(column: n.ColumnDef) -> str:
    parts = [f"{column.name.name}: {column.type}"]
    if column.constraint is not None:
        parts.append(_constraint(column.constraint))
    parts.extend(column.markers)
    return " ".join(parts)


def _constraint(constraint: n.Constraint) -> str:
    if constraint.range is not None:
        return f"in {constraint.range.text}"
    assert constraint.value is not None
    return f"{constraint.op} {constraint.value.text}"


def _names(idents: tuple[n.Ident, ...]) -> str:
    return ", ".join(i.name for i in idents)


def _warn(check: n.Check | n.Gate) -> str:
    return " warn" if check.warn else ""


def render_statement(stmt: n.Stmt) -> str:
    """One statement on one line (blocks and schemas are laid out by the formatter)."""
    renderer = _RENDERERS.get(type(stmt))
    if renderer is None:
        raise TypeError(f"no layout for {type(stmt).__name__}")
    return renderer(stmt)


def _retrain(stmt: n.Retrain) -> str:
    if stmt.mode == "scheduled":
        assert stmt.cron is not None
        return f"retrain scheduled {stmt.cron.text}"
    if stmt.mode == "new_snapshot":
        return "retrain triggered on new_snapshot"
    if stmt.mode == "drift":
        assert stmt.column and stmt.threshold
        return f"retrain triggered on drift({stmt.column.name}) {stmt.op} {stmt.threshold.text}"
    return f"retrain {stmt.mode}"


def _range_check(stmt: n.RangeCheck) -> str:
    if stmt.range is not None:
        return f"range {stmt.column.name} in {stmt.range.text}{_warn(stmt)}"
    assert stmt.value is not None
    return f"range {stmt.column.name} {stmt.op} {stmt.value.text}{_warn(stmt)}"


def _gate(gate: n.Gate) -> str:
    metric = gate.metric.name if gate.metric else ""
    value = gate.value.text if gate.value else ""
    if gate.kind == "slice":
        assert gate.column is not None
        minimum = f" min {gate.min_rows.text}" if gate.min_rows else ""
        return f"slice {gate.column.name}{minimum}: {metric} {gate.op} {value}{_warn(gate)}"
    if gate.kind == "size":
        return f"size {gate.op} {value}{_warn(gate)}"
    if gate.kind == "features_compatible":
        return f"features compatible{_warn(gate)}"
    if gate.kind == "compare_champion":
        return f"compare champion {metric} {gate.op} {value}{_warn(gate)}"
    return f"{gate.kind} {metric} {gate.op} {value}{_warn(gate)}"


def _test_from(stmt: n.TestFrom) -> str:
    until = f" until {stmt.until.text}" if stmt.until is not None else ""
    return f"test from {stmt.start.text}{until}"


def _feature(stmt: n.FeatureDef) -> str:
    column = stmt.column.name if stmt.column else ""
    return f"feature {stmt.name.name} = {stmt.agg.name}({column}) over {stmt.window.text}"


def _on_failure(stmt: n.OnFailure) -> str:
    if stmt.message is not None:
        return f"on_failure alert {stmt.message.text}"
    return f"on_failure {stmt.policy}"


_RENDERERS = {
    n.Setting: lambda s: f"{s.keyword} {render_value(s.value)}",
    n.Flag: lambda s: s.keyword,
    n.OnFailure: _on_failure,
    n.Retrain: _retrain,
    n.ExamplesFrom: lambda s: f"examples from {s.source.name}",
    n.SourceFrom: lambda s: f"from {s.format} {s.location.text}",
    n.Require: lambda s: f"require {_names(s.columns)}",
    n.Unique: lambda s: f"unique {_names(s.columns)}{_warn(s)}",
    n.RangeCheck: _range_check,
    n.Completeness: lambda s: f"completeness {s.column.name} {s.op} {s.value.text}{_warn(s)}",
    n.Drift: lambda s: (f"drift {s.stat.name}({s.column.name}) within {s.factor.text} "
                        f"of baseline{_warn(s)}"),
    n.FreshnessCheck: lambda s: f"freshness {s.column.name} within {s.within.text}{_warn(s)}",
    n.Use: lambda s: f"use {s.set_name.name}",
    n.LabelWhen: lambda s: f"when {s.column.name} {s.op} {render_value(s.value)}",
    n.FeatureDef: _feature,
    n.Columns: lambda s: f"columns [{_names(s.columns)}]",
    n.Backfill: lambda s: f"backfill {s.range.text}" + (" validated" if s.validated else ""),
    n.TrainBefore: lambda s: f"train before {s.date.text}",
    n.TestFrom: _test_from,
    n.TrainFeatures: lambda s: "features [" + ", ".join(r.text for r in s.refs) + "]",
    n.Owners: lambda s: f"owners {_names(s.teams)}",
    n.Gate: _gate,
    n.Approval: lambda s: f"approval by {s.team.name}",
    n.Registry: lambda s: f"registry {s.kind} {s.location.text}",
    n.Canary: lambda s: f"canary {s.share.text} for {s.duration.text}",
    n.Import: lambda s: f"import {s.path.text}",
}
