"""The semantic model: declarations by name, effective settings, and the stage DAG.

`Program` is what every rule, backend and the runtime manifest read. It is built by
`pipec.build_model`; this module holds the data and the queries on it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path

import networkx as nx
from pipec import nodes as n
from pipec.diagnostics import Diagnostic, has_errors
from pipec.loader import LoadedFile

# What each stage kind produces (language.md "The semantic model").
PRODUCES = {
    "source": "Dataset", "validate": "ValidatedDataset", "label": "Labels",
    "features": "FeatureTable", "join": "Examples", "split": "TrainSet+TestSet",
    "train": "Model", "evaluate": "EvalReport", "register": "RegisteredModel",
    "approval": "ApprovedModel", "deploy": "Deployment",
}

DEFAULT_RETRIES = 0


@dataclass
class Stage:
    """A node of the DAG. Implicit stages (join, approval) have no block of their own."""

    id: str
    kind: str
    name: str
    block: n.Block | None
    owner: str | None = None
    owner_span: n.Span | None = None
    anchor: n.Span | None = None  # where diagnostics about the stage point

    @property
    def span(self) -> n.Span:
        if self.anchor is not None:
            return self.anchor
        assert self.block is not None
        return self.block.header


@dataclass
class Program:
    path: Path
    display: str
    files: list[LoadedFile]
    module: n.Module | None
    teams: dict[str, n.Block] = field(default_factory=dict)
    check_sets: dict[str, n.Block] = field(default_factory=dict)
    gate_sets: dict[str, n.Block] = field(default_factory=dict)
    pipeline: n.Block | None = None
    stages: dict[str, Stage] = field(default_factory=dict)
    graph: nx.DiGraph = field(default_factory=nx.DiGraph)
    base_source: str | None = None
    # With no base source (T007: several candidates), the sources it could be: a rule
    # that holds whichever one is meant (LEAK001) still reports.
    base_candidates: tuple[str, ...] = ()
    diagnostics: list[Diagnostic] = field(default_factory=list)
    # `snapshot latest` of a source, resolved from its data (`pipec build --resolve`):
    # rules that need the date (LEAK002, LEAK007, ...) then check with it.
    resolved_snapshots: dict[str, dt.date] = field(default_factory=dict)
    # `[tool.pipec] allowed_model_modules`: the modules a train stage's model may come
    # from (SEC002; the runtime refuses the others).
    allowed_model_modules: tuple[str, ...] = ("sklearn",)
    _kind_index: dict[str, list[n.Block]] = field(default_factory=dict, repr=False)
    _kind_index_size: int = field(default=-1, repr=False)

    # ----------------------------------------------------------------- state
    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    @property
    def name(self) -> str:
        return self.pipeline.name.name if self.pipeline else self.path.stem

    # ---------------------------------------------------------------- lookups
    def blocks(self, kind: str) -> list[n.Block]:
        """The blocks of one stage kind, in declaration order (indexed: rules ask often)."""
        if self._kind_index_size != len(self.stages):
            index: dict[str, list[n.Block]] = {}
            for stage in self.stages.values():
                if stage.block is not None:
                    index.setdefault(stage.kind, []).append(stage.block)
            self._kind_index, self._kind_index_size = index, len(self.stages)
        return list(self._kind_index.get(kind, ()))

    def block(self, kind: str, name: str) -> n.Block | None:
        stage = self.stages.get(f"{kind}.{name}")
        return stage.block if stage else None

    @property
    def split(self) -> n.Split | None:
        stage = self.stages.get("split")
        return stage.block if stage and isinstance(stage.block, n.Split) else None

    def pipeline_setting(self, keyword: str) -> n.Setting | None:
        return self.pipeline.setting(keyword) if self.pipeline else None

    def pipeline_word(self, keyword: str, default: str | None = None) -> str | None:
        setting = self.pipeline_setting(keyword)
        if setting is None or not isinstance(setting.value, n.Value):
            return default
        return str(setting.value.py)

    def retrain(self) -> n.Retrain | None:
        return self.pipeline.first(n.Retrain) if self.pipeline else None

    def schema(self, source: str) -> dict[str, n.ColumnDef] | None:
        """Column name -> definition, or None when the source or its schema is unknown."""
        block = self.block("source", source)
        if block is None:
            return None
        schema = block.first(n.Schema)
        if schema is None:
            return None
        columns: dict[str, n.ColumnDef] = {}
        for col in schema.columns:  # a column declared twice (P003): the first one counts
            columns.setdefault(col.name.name, col)
        return columns

    def source_word(self, source: str, keyword: str) -> str | None:
        block = self.block("source", source)
        setting = block.setting(keyword) if block else None
        if setting is None:
            return None
        value = setting.value
        return value.name if isinstance(value, n.Ident) else str(value.py)

    def source_seconds(self, source: str, keyword: str) -> float:
        block = self.block("source", source)
        setting = block.setting(keyword) if block else None
        if setting is not None and isinstance(setting.value, n.Duration):
            return setting.value.seconds
        return 0.0

    def team_role(self, team: str) -> str | None:
        block = self.teams.get(team)
        role = block.setting("role") if block else None
        return str(role.value.py) if role is not None and isinstance(role.value, n.Value) else None

    # --------------------------------------------------------- effective values
    def effective(self, block: n.Block, keyword: str) -> n.Setting | None:
        """A stage's own setting, else the pipeline's default."""
        return block.setting(keyword) or self.pipeline_setting(keyword)

    def failure_policy(self, block: n.Block) -> str | None:
        own = self._on_failure(block)
        return own.policy if own else None

    def failure_alert(self, block: n.Block) -> str | None:
        """The message of the effective `on_failure alert "..."`, if that is the policy."""
        own = self._on_failure(block)
        return own.message.value if own and own.message is not None else None

    def _on_failure(self, block: n.Block) -> n.OnFailure | None:
        own = block.first(n.OnFailure)
        if own is None and self.pipeline is not None:
            own = self.pipeline.first(n.OnFailure)
        return own

    # ------------------------------------------------------------------ labels
    def labels(self) -> list[n.Block]:
        return self.blocks("label")

    def label_maturity(self, label: n.Block) -> float:
        """`window + lag` of its source, or `known_after`, else 0 (seconds)."""
        window = label.setting("window")
        if window is not None and isinstance(window.value, n.Duration):
            source = label.setting("from")
            lag = self.source_seconds(source.value.name, "lag") \
                if source is not None and isinstance(source.value, n.Ident) else 0.0
            return window.value.seconds + lag
        known = label.setting("known_after")
        if known is not None and isinstance(known.value, n.Duration):
            return known.value.seconds
        return 0.0

    def label_column(self, label: n.Block) -> str | None:
        """The base-source column a `column`/`when` label reads, if any."""
        column = label.setting("column")
        if column is not None and isinstance(column.value, n.Ident):
            return column.value.name
        when = label.first(n.LabelWhen)
        return when.column.name if when else None

    def max_label_maturity(self) -> float:
        return max((self.label_maturity(label) for label in self.labels()), default=0.0)

    # ---------------------------------------------------------------- graph
    def upstream(self, stage_id: str) -> set[str]:
        return nx.ancestors(self.graph, stage_id) if stage_id in self.graph else set()

    def downstream(self, stage_id: str) -> set[str]:
        return nx.descendants(self.graph, stage_id) if stage_id in self.graph else set()

    def topological(self) -> list[str]:
        return list(nx.lexicographical_topological_sort(self.graph))

    def source_reader(self, source: str) -> str:
        """Consumers of a source read its validated dataset when a validate stage exists."""
        validated = f"validate.{source}"
        return validated if validated in self.stages else f"source.{source}"

    def task(self) -> str | None:
        """binary, multiclass or regression, from train's `task` or the label's type."""
        for train in self.blocks("train"):
            task = train.setting("task")
            if task is not None:
                return str(task.value.py)
        return self.label_task()

    def train_task(self, name: str) -> str | None:
        """The task of `train NAME`: its own `task`, else the label's type. Each train
        stage has its own (a classifier and a regressor may learn one 0/1 label); without
        such a stage, the program's."""
        train = self.block("train", name)
        task = train.setting("task") if train is not None else None
        if task is not None:
            return str(task.value.py)
        return self.label_task() if train is not None else self.task()

    def label_task(self) -> str | None:
        for label in self.labels():
            if label.setting("window") is not None or label.first(n.LabelWhen) is not None:
                return "binary"
            column = self.label_column(label)
            schema = self.schema(self.base_source) if self.base_source else None
            if column and schema and column in schema:
                col_type = schema[column].type
                if col_type in ("category", "string", "bool"):
                    return "binary" if col_type == "bool" else "multiclass"
                return "regression"
        return None
