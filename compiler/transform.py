"""Lark tree -> typed AST. One method per grammar rule; `__default__` raises for any
rule that has neither a method nor an entry in `SETTINGS`, so no rule slips through."""

from __future__ import annotations

from typing import Any

from lark import Token, Transformer, Tree
from lark.tree import Meta
from pipec import literals
from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error

# Grammar rules of the form `keyword value` -> the statement keyword they set.
SETTINGS = {
    "owner": "owner", "retries": "retries", "timeout": "timeout",
    "description": "description", "contact": "contact", "role": "role",
    "risk": "risk", "predicts": "predicts", "image": "image", "code_commit": "code_commit",
    "snapshot": "snapshot", "entity": "entity", "time_col": "time", "lag": "lag",
    "freshness": "freshness", "label_from": "from", "window": "window",
    "label_column": "column", "known_after": "known_after", "definition": "definition",
    "test_share": "test", "valid_share": "valid", "seed": "seed", "gap": "gap",
    "model": "model", "task": "task", "params": "params", "resources": "resources",
    "distributed": "distributed", "threshold": "threshold", "runtime": "runtime",
    "rollback": "rollback", "holdout": "holdout",
}

WORD_TOKENS = {
    "ROLE", "RISK_LEVEL", "PREDICTS", "AUTO", "LATEST", "TASK", "PREVIOUS", "KEY",
    "POLICY", "FILE_FORMAT", "COLUMN_TYPE", "SPLIT_KIND", "REGISTRY_KIND",
}


def token_span(file: str, token: Token) -> n.Span:
    return n.Span(file, token.line, token.column, token.end_line, token.end_column)


class ToAst(Transformer):
    """Builds nodes; collects value errors (an impossible date) instead of raising.

    Every method takes `(meta, children)`. The dispatch is our own rather than Lark's
    `v_args(meta=True)`, whose wrapper is rebuilt on every call: a tenth of the time of
    checking a large file went there.
    """

    def _call_userfunc(self, tree: Tree, new_children: list[Any] | None = None) -> Any:
        children = new_children if new_children is not None else tree.children
        method = getattr(self, tree.data, None)
        if method is None:
            return self.__default__(tree.data, children, tree.meta)
        return method(tree.meta, children)

    def __init__(self, file: str):
        super().__init__(visit_tokens=False)
        self.file = file
        self.errors: list[Diagnostic] = []

    # ---------------------------------------------------------------- helpers
    def _span(self, meta: Meta) -> n.Span:
        if getattr(meta, "empty", True):
            return n.Span(self.file, 1, 1, 1, 1)
        return n.Span(self.file, meta.line, meta.column, meta.end_line, meta.end_column)

    def _value(self, item: Any) -> Any:
        if isinstance(item, Token):
            return self._token_value(item)
        return item

    def _token_value(self, tok: Token) -> n.Value:
        span, text = token_span(self.file, tok), str(tok)
        kind = tok.type
        try:
            return _decode(kind, text, span)
        except literals.StringProblem as problem:
            self.errors.append(error("P001", problem.message, span, problem.fix))
            return n.Word(text=text, span=span)
        except (ValueError, OverflowError):  # overflow: `1e999`, a 400-digit duration
            self.errors.append(
                error("P001", f"`{text}` is not a valid {_KIND_WORDS.get(kind, 'value')}", span)
            )
            return n.Word(text=text, span=span)

    def __default__(self, data: str, children: list[Any], meta: Meta) -> Any:
        if data in SETTINGS:
            value = self._value(children[0])
            return n.Setting(keyword=SETTINGS[data], value=value, span=self._span(meta))
        raise NotImplementedError(f"grammar rule `{data}` has no AST builder")

    # ----------------------------------------------------------------- module
    def start(self, meta: Meta, children: list[Any]) -> tuple[n.Stmt, ...]:
        return tuple(children)

    def name(self, meta: Meta, children: list[Token]) -> n.Ident:
        return n.Ident(name=str(children[0]), span=token_span(self.file, children[0]))

    def name_list(self, meta: Meta, children: list[n.Ident]) -> tuple[n.Ident, ...]:
        return tuple(children)

    def import_decl(self, meta: Meta, children: list[Token]) -> n.Import:
        return n.Import(path=self._value(children[0]), span=self._span(meta))

    def _block(self, kind: str, meta: Meta, name: n.Ident, body: list[Any], **extra: Any):
        header_end = max([name.span] + [x.span for x in extra.values() if hasattr(x, "span")],
                         key=lambda s: (s.end_line, s.end_col))
        header = n.Span(self.file, meta.line, meta.column, header_end.end_line, header_end.end_col)
        cls = {"features": n.Features, "split": n.Split}.get(kind, n.Block)
        return cls(kind=kind, name=name, body=tuple(body), span=self._span(meta),
                   header=header, **extra)

    def team_decl(self, meta: Meta, c: list[Any]) -> n.Block:
        return self._block("team", meta, c[0], c[1:])

    def checks_decl(self, meta: Meta, c: list[Any]) -> n.Block:
        return self._block("checks", meta, c[0], c[1:])

    def gates_decl(self, meta: Meta, c: list[Any]) -> n.Block:
        return self._block("gates", meta, c[0], c[1:])

    def pipeline_decl(self, meta: Meta, c: list[Any]) -> n.Block:
        return self._block("pipeline", meta, c[0], c[1:])

    def source_decl(self, meta: Meta, c: list[Any]) -> n.Block:
        return self._block("source", meta, c[0], c[1:])

    def validate_decl(self, meta: Meta, c: list[Any]) -> n.Block:
        return self._block("validate", meta, c[0], c[1:])

    def label_decl(self, meta: Meta, c: list[Any]) -> n.Block:
        return self._block("label", meta, c[0], c[1:])

    def train_decl(self, meta: Meta, c: list[Any]) -> n.Block:
        return self._block("train", meta, c[0], c[1:])

    def evaluate_decl(self, meta: Meta, c: list[Any]) -> n.Block:
        return self._block("evaluate", meta, c[0], c[1:])

    def register_decl(self, meta: Meta, c: list[Any]) -> n.Block:
        return self._block("register", meta, c[0], c[1:])

    def deploy_decl(self, meta: Meta, c: list[Any]) -> n.Block:
        return self._block("deploy", meta, c[0], c[1:])

    def features_decl(self, meta: Meta, c: list[Any]) -> n.Block:
        name, _keyword, version, *body = c
        extra = {"version": self._value(version)} if version is not None else {}
        return self._block("features", meta, name, body, **extra)

    def split_decl(self, meta: Meta, c: list[Any]) -> n.Block:
        kind, on, *body = c
        # The split has no name of its own; its identity is the keyword.
        ident = n.Ident(name="split", span=n.Span(self.file, meta.line, meta.column,
                                                  meta.line, meta.column + 5))
        extra: dict[str, Any] = {"by": str(kind)}
        if on is not None:
            extra["on"] = on
        block = self._block("split", meta, ident, body, **extra)
        end = on.span if on is not None else token_span(self.file, kind)
        header = n.Span(self.file, meta.line, meta.column, end.end_line, end.end_col)
        return n.Split(kind="split", name=ident, body=block.body, span=block.span,
                       header=header, **extra)

    # ------------------------------------------------------- common statements
    def on_failure(self, meta: Meta, c: list[Token]) -> n.OnFailure:
        return n.OnFailure(policy=str(c[0]), span=self._span(meta))

    def on_failure_alert(self, meta: Meta, c: list[Token]) -> n.OnFailure:
        return n.OnFailure(policy="alert", message=self._value(c[0]), span=self._span(meta))

    def examples_from(self, meta: Meta, c: list[n.Ident]) -> n.ExamplesFrom:
        return n.ExamplesFrom(source=c[0], span=self._span(meta))

    def retrain_manual(self, meta: Meta, c: list[Any]) -> n.Retrain:
        return n.Retrain(mode="manual", span=self._span(meta))

    def retrain_continuous(self, meta: Meta, c: list[Any]) -> n.Retrain:
        return n.Retrain(mode="continuous", span=self._span(meta))

    def retrain_new_snapshot(self, meta: Meta, c: list[Any]) -> n.Retrain:
        return n.Retrain(mode="new_snapshot", span=self._span(meta))

    def retrain_scheduled(self, meta: Meta, c: list[Token]) -> n.Retrain:
        return n.Retrain(mode="scheduled", cron=self._value(c[0]), span=self._span(meta))

    def retrain_drift(self, meta: Meta, c: list[Any]) -> n.Retrain:
        column, op, threshold = c
        return n.Retrain(mode="drift", column=column, op=str(op),
                         threshold=self._value(threshold), span=self._span(meta))

    # ------------------------------------------------------------------ source
    def source_from(self, meta: Meta, c: list[Token]) -> n.SourceFrom:
        return n.SourceFrom(format=str(c[0]), location=self._value(c[1]), span=self._span(meta))

    def schema(self, meta: Meta, c: list[n.ColumnDef]) -> n.Schema:
        return n.Schema(columns=tuple(c), span=self._span(meta))

    def column_def(self, meta: Meta, c: list[Any]) -> n.ColumnDef:
        name, col_type, constraint, *markers = c
        return n.ColumnDef(name=name, type=str(col_type), constraint=constraint,
                           markers=tuple(markers), span=self._span(meta))

    def constraint_cmp(self, meta: Meta, c: list[Token]) -> n.Constraint:
        return n.Constraint(op=str(c[0]), value=self._value(c[1]), span=self._span(meta))

    def constraint_in(self, meta: Meta, c: list[n.RangeValue]) -> n.Constraint:
        return n.Constraint(range=c[0], span=self._span(meta))

    def marker(self, meta: Meta, c: list[Token]) -> str:
        return str(c[0])

    # ---------------------------------------------------------------- validate
    def require(self, meta: Meta, c: list[Any]) -> n.Require:
        return n.Require(columns=c[0], span=self._span(meta))

    def unique(self, meta: Meta, c: list[Any]) -> n.Unique:
        return n.Unique(columns=c[0], warn=c[1] is not None, span=self._span(meta))

    def range_cmp(self, meta: Meta, c: list[Any]) -> n.RangeCheck:
        column, op, value, warn = c
        return n.RangeCheck(column=column, op=str(op), value=self._value(value),
                            warn=warn is not None, span=self._span(meta))

    def range_in(self, meta: Meta, c: list[Any]) -> n.RangeCheck:
        column, rng, warn = c
        return n.RangeCheck(column=column, range=rng, warn=warn is not None,
                            span=self._span(meta))

    def completeness(self, meta: Meta, c: list[Any]) -> n.Completeness:
        column, op, value, warn = c
        return n.Completeness(column=column, op=str(op), value=self._value(value),
                              warn=warn is not None, span=self._span(meta))

    def drift(self, meta: Meta, c: list[Any]) -> n.Drift:
        stat, column, factor, warn = c
        return n.Drift(stat=stat, column=column, factor=self._value(factor),
                       warn=warn is not None, span=self._span(meta))

    def freshness_check(self, meta: Meta, c: list[Any]) -> n.FreshnessCheck:
        column, within, warn = c
        return n.FreshnessCheck(column=column, within=self._value(within),
                                warn=warn is not None, span=self._span(meta))

    def use(self, meta: Meta, c: list[n.Ident]) -> n.Use:
        return n.Use(set_name=c[0], span=self._span(meta))

    # ------------------------------------------------------- label and features
    def label_when(self, meta: Meta, c: list[Any]) -> n.LabelWhen:
        return n.LabelWhen(column=c[0], op=str(c[1]), value=self._value(c[2]),
                           span=self._span(meta))

    def point_in_time(self, meta: Meta, c: list[Any]) -> n.Flag:
        return n.Flag(keyword="point_in_time", span=self._span(meta))

    def feature_def(self, meta: Meta, c: list[Any]) -> n.FeatureDef:
        name, agg, column, window = c
        return n.FeatureDef(name=name, agg=agg, column=column, window=self._value(window),
                            span=self._span(meta))

    def columns(self, meta: Meta, c: list[Any]) -> n.Columns:
        return n.Columns(columns=tuple(x for x in c if x is not None), span=self._span(meta))

    def backfill(self, meta: Meta, c: list[Any]) -> n.Backfill:
        return n.Backfill(range=c[0], validated=c[1] is not None, span=self._span(meta))

    # ------------------------------------------------------------------- split
    def train_before(self, meta: Meta, c: list[Any]) -> n.TrainBefore:
        return n.TrainBefore(date=c[0], span=self._span(meta))

    def test_from(self, meta: Meta, c: list[Any]) -> n.TestFrom:
        return n.TestFrom(start=c[0], until=c[1], span=self._span(meta))

    def date_abs(self, meta: Meta, c: list[Token]) -> n.Value:
        return self._value(c[0])

    def date_snapshot(self, meta: Meta, c: list[Any]) -> n.SnapshotRelative:
        minus = self._value(c[0]) if c[0] is not None else None
        text = f"snapshot - {minus.text}" if minus else "snapshot"
        return n.SnapshotRelative(text=text, minus=minus, span=self._span(meta))

    # ------------------------------------------------------------------- train
    def train_features(self, meta: Meta, c: list[Any]) -> n.TrainFeatures:
        return n.TrainFeatures(refs=tuple(x for x in c if x is not None), span=self._span(meta))

    def feature_ref(self, meta: Meta, c: list[Any]) -> n.FeatureRef:
        head, member = c
        if isinstance(member, Token):
            return n.FeatureRef(head=head, star=True, span=self._span(meta))
        return n.FeatureRef(head=head, member=member, span=self._span(meta))

    # ---------------------------------------------------------------- evaluate
    def owners(self, meta: Meta, c: list[n.Ident]) -> n.Owners:
        return n.Owners(teams=tuple(c), span=self._span(meta))

    def _gate(self, kind: str, meta: Meta, metric: Any, op: Any, value: Any, warn: Any,
              **extra: Any) -> n.Gate:
        if isinstance(metric, Token):
            metric = n.Ident(name=str(metric), span=token_span(self.file, metric))
        return n.Gate(kind=kind, metric=metric, op=str(op) if op is not None else None,
                      value=self._value(value) if value is not None else None,
                      warn=warn is not None, span=self._span(meta), **extra)

    def primary(self, meta: Meta, c: list[Any]) -> n.Gate:
        return self._gate("primary", meta, *c)

    def guardrail(self, meta: Meta, c: list[Any]) -> n.Gate:
        return self._gate("guardrail", meta, *c)

    def slice_gate(self, meta: Meta, c: list[Any]) -> n.Gate:
        column, min_rows, metric, op, value, warn = c
        min_value = self._value(min_rows) if min_rows is not None else None
        return self._gate("slice", meta, metric, op, value, warn, column=column,
                          min_rows=min_value)

    def calibration(self, meta: Meta, c: list[Any]) -> n.Gate:
        return self._gate("calibration", meta, *c)

    def latency(self, meta: Meta, c: list[Any]) -> n.Gate:
        return self._gate("latency", meta, *c)

    def size_gate(self, meta: Meta, c: list[Any]) -> n.Gate:
        op, value, warn = c
        return self._gate("size", meta, None, op, value, warn)

    def compare_champion(self, meta: Meta, c: list[Any]) -> n.Gate:
        return self._gate("compare_champion", meta, *c)

    def features_compatible(self, meta: Meta, c: list[Any]) -> n.Gate:
        return self._gate("features_compatible", meta, None, None, None, c[0])

    def approval(self, meta: Meta, c: list[n.Ident]) -> n.Approval:
        return n.Approval(team=c[0], span=self._span(meta))

    # ------------------------------------------------------- register / deploy
    def registry(self, meta: Meta, c: list[Token]) -> n.Registry:
        return n.Registry(kind=str(c[0]), location=self._value(c[1]), span=self._span(meta))

    def canary(self, meta: Meta, c: list[Any]) -> n.Canary:
        return n.Canary(share=self._value(c[0]), duration=self._value(c[1]),
                        span=self._span(meta))

    # ------------------------------------------------------------------ values
    def range(self, meta: Meta, c: list[Any]) -> n.RangeValue:
        low, high = self._value(c[0]), self._value(c[1])
        return n.RangeValue(text=f"{low.text}..{high.text}", low=low, high=high,
                            span=self._span(meta))

    def bare(self, meta: Meta, c: list[Token]) -> n.Value:
        return self._value(c[0])

    def list(self, meta: Meta, c: list[Any]) -> n.ListValue:
        items = tuple(self._value(x) for x in c if x is not None)
        text = "[" + ", ".join(item.text for item in items) + "]"
        return n.ListValue(text=text, items=items, span=self._span(meta))

    def map(self, meta: Meta, c: list[Any]) -> n.MapValue:
        pairs = tuple(x for x in c if x is not None)
        text = "{ " + ", ".join(f"{p.key_text}: {p.value.text}" for p in pairs) + " }"
        return n.MapValue(text=text if pairs else "{}", pairs=pairs, span=self._span(meta))

    def pair(self, meta: Meta, c: list[Any]) -> n.Pair:
        key_token, value = c
        key = str(key_token)
        decoded = literals.decode_string(key) if key_token.type == "STRING" else key
        return n.Pair(key=decoded, key_text=key, value=self._value(value),
                      span=self._span(meta))


_KIND_WORDS = {"DATE": "date", "TIMESTAMP": "timestamp", "SIZE": "size", "STRING": "string",
               "DURATION": "duration (at most 1000 years)", "FLOAT": "finite number",
               "PERCENT": "finite percentage", "MULTIPLIER": "finite multiplier",
               "INT": "whole number (one that fits in 64 bits)"}
# A whole number past a signed 64-bit integer reads as nothing the outputs' readers hold
# (Go and Kubernetes for Argo, numpy, SQL): `retries 10**29` built a workflow Argo
# could not run. Such a number means nothing in a pipeline anyway.
INT64_LIMIT = 2**63


def _decode(kind: str, text: str, span: n.Span) -> n.Value:
    """One token -> one value node. Raises ValueError for an impossible literal."""
    if kind == "STRING":
        return n.Str(text=text, value=literals.decode_string(text), span=span)
    if kind == "INT":
        value = int(text)
        if not -INT64_LIMIT <= value < INT64_LIMIT:
            raise ValueError(f"not a 64-bit integer: {text}")
        return n.Int(text=text, value=value, span=span)
    if kind == "FLOAT":
        return n.Float(text=text, value=literals.finite(float(text)), span=span)
    if kind == "PERCENT":
        return n.Percent(text=text, value=round(literals.finite(float(text[:-1])) / 100, 12),
                         span=span)
    if kind == "DURATION":
        return n.Duration(text=text, seconds=literals.duration_seconds(text), span=span)
    if kind == "SIZE":
        return n.Size(text=text, bytes=literals.size_bytes(text), span=span)
    if kind == "MULTIPLIER":
        return n.Multiplier(text=text, factor=literals.finite(float(text[:-1])), span=span)
    if kind == "DATE":
        return n.Date(text=text, value=literals.parse_date(text), span=span)
    if kind == "TIMESTAMP":
        return n.Timestamp(text=text, value=literals.parse_timestamp(text), span=span)
    if kind in ("TRUE", "FALSE"):
        return n.Bool(text=text, value=kind == "TRUE", span=span)
    if kind in WORD_TOKENS or kind.isupper():
        return n.Word(text=text, span=span)
    raise ValueError(kind)


def is_tree(x: object) -> bool:
    return isinstance(x, Tree)
