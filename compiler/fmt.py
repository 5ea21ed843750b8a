"""`pipec fmt`: the canonical layout of a parsed module, comments kept.

Layout: two-space indentation, one statement per line, a blank line between
top-level declarations and around stage blocks, teams on one line
(`team risk { contact "#risk"; role risk }`) unless a comment sits inside them.
Literals keep their spelling (`20%` stays `20%`). A standalone comment stays above the
statement that follows it (a blank line after it is kept); a comment at the end of a
line stays at the end of that statement's line.
"""

from __future__ import annotations

from pipec import nodes as n

INDENT = "  "


def format_module(module: n.Module, text: str) -> str:
    return _Formatter(module, text).run()


class _Formatter:
    def __init__(self, module: n.Module, text: str):
        self.module = module
        self.source_lines = text.replace("\r\n", "\n").split("\n")
        self.comments = sorted(module.comments, key=lambda c: (c.span.line, c.span.col))
        self.used: set[int] = set()
        self.out: list[str] = []

    def run(self) -> str:
        previous: n.Stmt | None = None
        for item in self.module.items:
            if previous is not None and not (isinstance(previous, n.Import)
                                             and isinstance(item, n.Import)):
                self.out.append("")
            self._statement(item, 0, None)
            previous = item
        self._leading(len(self.source_lines) + 1, 0)
        while self.out and self.out[-1] == "":
            self.out.pop()
        return "\n".join(self.out) + "\n"

    # ------------------------------------------------------------- comments
    def _leading(self, before_line: int, depth: int) -> None:
        """Standalone comments above `before_line` that are not yet written."""
        for index, comment in enumerate(self.comments):
            if index in self.used or comment.span.line >= before_line:
                continue
            if not comment.standalone:
                continue
            self.used.add(index)
            self.out.append(INDENT * depth + comment.text)
            if self._blank_after(comment.span.line, before_line):
                self.out.append("")

    def _blank_after(self, line: int, limit: int) -> bool:
        following = line  # index of the next line (0-based == line number)
        return following < len(self.source_lines) and following + 1 < limit \
            and not self.source_lines[following].strip()

    def _trailing(self, first_line: int, last_line: int) -> list[n.Comment]:
        """End-of-line comments on the statement's lines."""
        found = []
        for index, comment in enumerate(self.comments):
            if index in self.used or comment.standalone:
                continue
            if first_line <= comment.span.line <= last_line:
                self.used.add(index)
                found.append(comment)
        return found

    def _emit(self, code: str, comments: list[n.Comment]) -> None:
        """A line of code and its end-of-line comments. An aligned comment keeps its
        column (as gofmt keeps aligned comments); otherwise two spaces separate it."""
        if not comments:
            self.out.append(code)
            return
        column = comments[0].span.col - 1
        padding = column - len(code) if column - len(code) >= 2 else 2
        self.out.append(code + " " * padding + " ".join(c.text for c in comments))

    def _has_inner_comments(self, block: n.Block) -> bool:
        """A one-line block keeps its end-of-line comment; any other comment inside
        forces the multi-line layout."""
        if block.span.line == block.span.end_line:
            return False
        return any(block.span.line <= c.span.line < block.span.end_line for c in self.comments)

    @staticmethod
    def _until(stmt: n.Node, next_line: int | None) -> int:
        """The last line whose end-of-line comment belongs to `stmt`: not one shared with
        the next statement (the comment belongs to whatever ends the line)."""
        last = stmt.span.end_line
        return last - 1 if next_line is not None and next_line == last else last

    # ------------------------------------------------------------ statements
    def _statement(self, stmt: n.Stmt, depth: int, next_line: int | None) -> None:
        self._leading(stmt.span.line, depth)
        if isinstance(stmt, n.Block):
            self._block(stmt, depth, next_line)
        elif isinstance(stmt, n.Schema):
            self._schema(stmt, depth, next_line)
        else:
            self._emit(INDENT * depth + render_statement(stmt),
                       self._trailing(stmt.span.line, self._until(stmt, next_line)))

    def _block(self, block: n.Block, depth: int, next_line: int | None) -> None:
        header = INDENT * depth + render_header(block)
        if block.kind == "team" and not self._has_inner_comments(block):
            inner = "; ".join(render_statement(s) for s in block.body)
            line = f"{header} {{ {inner} }}" if inner else f"{header} {{}}"
            self._emit(line, self._trailing(block.span.line, self._until(block, next_line)))
            return
        self._header(header + " {", block.span.line, block.body)
        previous: n.Stmt | None = None
        for index, stmt in enumerate(block.body):
            if _separate(previous, stmt):
                self.out.append("")
            self._statement(stmt, depth + 1, _next_line(block.body, index, block.span.end_line))
            previous = stmt
        self._close(block, depth, next_line)

    def _header(self, text: str, line: int, body: tuple[n.Node, ...]) -> None:
        shares_line = bool(body) and body[0].span.line == line
        self._emit(text, [] if shares_line else self._trailing(line, line))

    def _close(self, node: n.Node, depth: int, next_line: int | None) -> None:
        self._leading(node.span.end_line, depth + 1)
        self._emit(INDENT * depth + "}",
                   self._trailing(node.span.end_line, self._until(node, next_line)))

    def _schema(self, schema: n.Schema, depth: int, next_line: int | None) -> None:
        self._header(INDENT * depth + "schema {", schema.span.line, schema.columns)
        for index, column in enumerate(schema.columns):
            self._leading(column.span.line, depth + 1)
            until = self._until(column, _next_line(schema.columns, index, schema.span.end_line))
            self._emit(INDENT * (depth + 1) + render_column(column),
                       self._trailing(column.span.line, until))
        self._close(schema, depth, next_line)


def _next_line(siblings: tuple[n.Node, ...], index: int, closing_line: int) -> int:
    return siblings[index + 1].span.line if index + 1 < len(siblings) else closing_line


def _separate(previous: n.Stmt | None, current: n.Stmt) -> bool:
    """A blank line around every nested block."""
    if previous is None:
        return False
    return isinstance(previous, n.Block) or isinstance(current, n.Block)


# ------------------------------------------------------------------ rendering


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
