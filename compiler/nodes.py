"""The typed, immutable syntax tree of a `.pipe` file.

Every node carries a `Span`; spans never take part in equality, so two trees parsed
from differently formatted text compare equal when they mean the same thing
(`parse(fmt(x)) == parse(x)`).

Values keep the text they were written with (`20%` and `0.2` are the same share but
`pipec fmt` must not rewrite one into the other), plus the decoded Python value.
Simple `keyword value` statements are one `Setting` node; statements with structure
have their own class.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TypeVar

N = TypeVar("N", bound="Node")


@dataclass(frozen=True, slots=True)
class Span:
    """A 1-based source range; `end_col` is exclusive; columns count code points."""

    file: str
    line: int
    col: int
    end_line: int
    end_col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


NO_SPAN = Span("<none>", 1, 1, 1, 1)


@dataclass(frozen=True, slots=True, kw_only=True)
class Node:
    span: Span = field(default=NO_SPAN, compare=False, repr=False)


# ---------------------------------------------------------------- values


@dataclass(frozen=True, slots=True, kw_only=True)
class Value(Node):
    text: str

    @property
    def py(self) -> object:
        """The decoded value (JSON-friendly where possible)."""
        return self.text


@dataclass(frozen=True, slots=True, kw_only=True)
class Str(Value):
    value: str

    @property
    def py(self) -> str:
        return self.value


@dataclass(frozen=True, slots=True, kw_only=True)
class Int(Value):
    value: int

    @property
    def py(self) -> int:
        return self.value


@dataclass(frozen=True, slots=True, kw_only=True)
class Float(Value):
    value: float

    @property
    def py(self) -> float:
        return self.value


@dataclass(frozen=True, slots=True, kw_only=True)
class Percent(Value):
    """`20%`: `value` is the share, 0.2."""

    value: float

    @property
    def py(self) -> float:
        return self.value


@dataclass(frozen=True, slots=True, kw_only=True)
class Bool(Value):
    value: bool

    @property
    def py(self) -> bool:
        return self.value


@dataclass(frozen=True, slots=True, kw_only=True)
class Date(Value):
    value: dt.date

    @property
    def py(self) -> str:
        return self.value.isoformat()


@dataclass(frozen=True, slots=True, kw_only=True)
class Timestamp(Value):
    value: dt.datetime

    @property
    def py(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True, kw_only=True)
class Duration(Value):
    """`30d`, `1h30m`, `250ms`: `seconds` may be fractional (milliseconds)."""

    seconds: float

    @property
    def py(self) -> float:
        return self.seconds


@dataclass(frozen=True, slots=True, kw_only=True)
class Size(Value):
    bytes: int

    @property
    def py(self) -> int:
        return self.bytes


@dataclass(frozen=True, slots=True, kw_only=True)
class Multiplier(Value):
    """`5x`."""

    factor: float

    @property
    def py(self) -> float:
        return self.factor


@dataclass(frozen=True, slots=True, kw_only=True)
class Word(Value):
    """A keyword value (`high`, `block`, `latest`) or a bare word in a list or map."""

    @property
    def py(self) -> str:
        return self.text


@dataclass(frozen=True, slots=True, kw_only=True)
class ListValue(Value):
    items: tuple[Value, ...]

    @property
    def py(self) -> list[object]:
        return [item.py for item in self.items]


@dataclass(frozen=True, slots=True, kw_only=True)
class Pair(Node):
    key: str
    key_text: str
    value: Value


@dataclass(frozen=True, slots=True, kw_only=True)
class MapValue(Value):
    pairs: tuple[Pair, ...]

    @property
    def py(self) -> dict[str, object]:
        return {pair.key: pair.value.py for pair in self.pairs}


@dataclass(frozen=True, slots=True, kw_only=True)
class RangeValue(Value):
    low: Value
    high: Value

    @property
    def py(self) -> list[object]:
        return [self.low.py, self.high.py]


@dataclass(frozen=True, slots=True, kw_only=True)
class SnapshotRelative(Value):
    """`snapshot` or `snapshot - 60d`: relative to the base source's snapshot."""

    minus: Duration | None

    @property
    def py(self) -> dict[str, float]:
        return {"snapshot_minus_s": self.minus.seconds if self.minus else 0}


DateExpr = Date | Timestamp | SnapshotRelative


@dataclass(frozen=True, slots=True, kw_only=True)
class Ident(Node):
    """A name as written; references keep their own span for diagnostics."""

    name: str


# ------------------------------------------------------------ statements


@dataclass(frozen=True, slots=True, kw_only=True)
class Stmt(Node):
    """A statement: a line inside a block, or a block itself."""


@dataclass(frozen=True, slots=True, kw_only=True)
class Setting(Stmt):
    """`keyword value`, e.g. `owner ml_fraud`, `window 30d`, `params { ... }`."""

    keyword: str
    value: Value | Ident


@dataclass(frozen=True, slots=True, kw_only=True)
class Flag(Stmt):
    """A statement that is only its keyword: `point_in_time`."""

    keyword: str


@dataclass(frozen=True, slots=True, kw_only=True)
class OnFailure(Stmt):
    policy: str
    message: Str | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Retrain(Stmt):
    """`manual`, `scheduled`, `new_snapshot` (triggered), `drift` (triggered), `continuous`."""

    mode: str
    cron: Str | None = None
    column: Ident | None = None
    op: str | None = None
    threshold: Value | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ExamplesFrom(Stmt):
    source: Ident


@dataclass(frozen=True, slots=True, kw_only=True)
class SourceFrom(Stmt):
    format: str
    location: Str


@dataclass(frozen=True, slots=True, kw_only=True)
class Constraint(Node):
    op: str | None = None
    value: Value | None = None
    range: RangeValue | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ColumnDef(Node):
    name: Ident
    type: str
    constraint: Constraint | None = None
    markers: tuple[str, ...] = ()

    @property
    def pii(self) -> bool:
        return "pii" in self.markers

    @property
    def after_event(self) -> bool:
        return "after_event" in self.markers


@dataclass(frozen=True, slots=True, kw_only=True)
class Schema(Stmt):
    columns: tuple[ColumnDef, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Check(Stmt):
    """A validation line; `warn` makes it non-blocking."""

    warn: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Require(Check):
    columns: tuple[Ident, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Unique(Check):
    columns: tuple[Ident, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class RangeCheck(Check):
    column: Ident
    op: str | None = None
    value: Value | None = None
    range: RangeValue | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Completeness(Check):
    column: Ident
    op: str
    value: Value


@dataclass(frozen=True, slots=True, kw_only=True)
class Drift(Check):
    stat: Ident
    column: Ident
    factor: Multiplier


@dataclass(frozen=True, slots=True, kw_only=True)
class FreshnessCheck(Check):
    column: Ident
    within: Duration


@dataclass(frozen=True, slots=True, kw_only=True)
class Use(Stmt):
    set_name: Ident


@dataclass(frozen=True, slots=True, kw_only=True)
class LabelWhen(Stmt):
    column: Ident
    op: str
    value: Value


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureDef(Stmt):
    name: Ident
    agg: Ident
    column: Ident | None
    window: Duration


@dataclass(frozen=True, slots=True, kw_only=True)
class Columns(Stmt):
    columns: tuple[Ident, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Backfill(Stmt):
    range: RangeValue
    validated: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainBefore(Stmt):
    date: DateExpr


@dataclass(frozen=True, slots=True, kw_only=True)
class TestFrom(Stmt):
    start: DateExpr
    until: DateExpr | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class FeatureRef(Node):
    """`distance`, `weather.temp` or `weather.*` in a train stage's feature list."""

    head: Ident
    member: Ident | None = None
    star: bool = False

    @property
    def text(self) -> str:
        if self.star:
            return f"{self.head.name}.*"
        return f"{self.head.name}.{self.member.name}" if self.member else self.head.name


@dataclass(frozen=True, slots=True, kw_only=True)
class TrainFeatures(Stmt):
    refs: tuple[FeatureRef, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Owners(Stmt):
    teams: tuple[Ident, ...]


@dataclass(frozen=True, slots=True, kw_only=True)
class Gate(Stmt):
    """A gate line. `kind` is primary, guardrail, slice, calibration, latency, size,
    compare_champion or features_compatible; `metric` is the metric's name (ece,
    p99, roc_auc...), absent for size and features_compatible."""

    kind: str
    metric: Ident | None = None
    op: str | None = None
    value: Value | None = None
    column: Ident | None = None
    min_rows: Int | None = None
    warn: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class Approval(Stmt):
    team: Ident


@dataclass(frozen=True, slots=True, kw_only=True)
class Registry(Stmt):
    kind: str
    location: Str


@dataclass(frozen=True, slots=True, kw_only=True)
class Canary(Stmt):
    share: Value
    duration: Duration


# ---------------------------------------------------------------- blocks


@dataclass(frozen=True, slots=True, kw_only=True)
class Block(Stmt):
    """`kind name { body }`. `header` spans the text before the `{`."""

    kind: str
    name: Ident
    body: tuple[Stmt, ...] = ()
    header: Span = field(default=NO_SPAN, compare=False, repr=False)
    # keyword -> its settings, built once: a pipeline body holds every stage, and
    # looking a default up by scanning it for each stage made builds quadratic.
    by_keyword: dict[str, tuple[Setting, ...]] = field(
        init=False, compare=False, repr=False, hash=False, default_factory=dict)
    # statement class -> the statements that are instances of it, filled on demand.
    by_class: dict[type, tuple[Stmt, ...]] = field(
        init=False, compare=False, repr=False, hash=False, default_factory=dict)

    def __post_init__(self) -> None:
        index: dict[str, list[Setting]] = {}
        for stmt in self.body:
            if isinstance(stmt, Setting):
                index.setdefault(stmt.keyword, []).append(stmt)
        object.__setattr__(self, "by_keyword", {k: tuple(v) for k, v in index.items()})

    def _of_class(self, cls: type) -> tuple[Stmt, ...]:
        found = self.by_class.get(cls)
        if found is None:
            found = self.by_class[cls] = tuple(s for s in self.body if isinstance(s, cls))
        return found

    def all(self, cls: type[N]) -> list[N]:
        return list(self._of_class(cls))  # type: ignore[arg-type]

    def first(self, cls: type[N]) -> N | None:
        found = self._of_class(cls)
        return found[0] if found else None  # type: ignore[return-value]

    def setting(self, keyword: str) -> Setting | None:
        found = self.by_keyword.get(keyword)
        return found[0] if found else None

    def settings(self, keyword: str) -> Iterator[Setting]:
        return iter(self.by_keyword.get(keyword, ()))

    def flag(self, keyword: str) -> Flag | None:
        return next((s for s in self.body if isinstance(s, Flag) and s.keyword == keyword), None)

    @property
    def id(self) -> str:
        return f"{self.kind}.{self.name.name}"


@dataclass(frozen=True, slots=True, kw_only=True)
class Features(Block):
    version: Int | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class Split(Block):
    by: str = "random"
    on: Ident | None = None

    @property
    def id(self) -> str:
        return "split"


@dataclass(frozen=True, slots=True, kw_only=True)
class Import(Stmt):
    path: Str


@dataclass(frozen=True, slots=True, kw_only=True)
class Comment(Node):
    text: str
    standalone: bool


@dataclass(frozen=True, slots=True, kw_only=True)
class Module(Node):
    """One parsed file: its top-level items in order, and its comments (for fmt)."""

    path: str
    items: tuple[Stmt, ...]
    comments: tuple[Comment, ...] = field(default=(), compare=False, repr=False)

    @property
    def imports(self) -> list[Import]:
        return [item for item in self.items if isinstance(item, Import)]

    def blocks(self, kind: str) -> list[Block]:
        return [item for item in self.items if isinstance(item, Block) and item.kind == kind]

    @property
    def pipeline(self) -> Block | None:
        pipelines = self.blocks("pipeline")
        return pipelines[0] if pipelines else None


STAGE_KINDS = (
    "source", "validate", "label", "features", "split", "train", "evaluate", "register", "deploy",
)
