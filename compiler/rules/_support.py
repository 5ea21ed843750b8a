"""Small queries that several rules share."""

from __future__ import annotations

from collections.abc import Iterator

from pipec import nodes as n
from pipec.model import Program

CLASSIFICATION_METRICS = frozenset({
    "roc_auc", "pr_auc", "average_precision", "accuracy", "balanced_accuracy", "precision",
    "recall", "f1", "log_loss", "brier", "ece",
})
REGRESSION_METRICS = frozenset({"rmse", "mae", "mse", "r2", "mape", "median_ae"})
NUMERIC_TYPES = frozenset({"int", "float"})
TEMPORAL_TYPES = frozenset({"date", "timestamp"})


def ident_value(block: n.Block | None, keyword: str) -> n.Ident | None:
    setting = block.setting(keyword) if block is not None else None
    return setting.value if setting is not None and isinstance(setting.value, n.Ident) else None


def reads_source(block: n.Block) -> str | None:
    ident = ident_value(block, "from")
    return ident.name if ident else None


def base_schema(program: Program) -> dict[str, n.ColumnDef] | None:
    return program.schema(program.base_source) if program.base_source else None


def gates_of(program: Program, evaluate: n.Block) -> Iterator[n.Gate]:
    """The evaluate stage's own gate lines and those of the gate sets it uses."""
    yield from evaluate.all(n.Gate)
    for set_name in used_sets(program.gate_sets, evaluate):
        yield from program.gate_sets[set_name].all(n.Gate)


def checks_of(program: Program, validate: n.Block) -> Iterator[n.Stmt]:
    """A validate stage's check lines, including those of the check sets it uses."""
    yield from (s for s in validate.body if isinstance(s, n.Check))
    for set_name in used_sets(program.check_sets, validate):
        yield from (s for s in program.check_sets[set_name].body if isinstance(s, n.Check))


def used_sets(table: dict[str, n.Block], block: n.Block) -> list[str]:
    """Names of the sets a block uses, transitively, each once, cycles ignored."""
    order: list[str] = []
    pending = [use.set_name.name for use in block.all(n.Use)]
    while pending:
        name = pending.pop(0)
        if name in order or name not in table:
            continue
        order.append(name)
        pending.extend(use.set_name.name for use in table[name].all(n.Use))
    return order


def feature_views(program: Program) -> list[n.Block]:
    return program.blocks("features")


def view_entity(view: n.Block) -> n.Ident | None:
    return ident_value(view, "entity")


def deploys(program: Program) -> bool:
    return bool(program.blocks("deploy"))


def registers(program: Program) -> bool:
    return bool(program.blocks("register"))


def is_classification(program: Program) -> bool:
    return program.task() in ("binary", "multiclass")


def evaluate_owner_teams(evaluate: n.Block) -> list[n.Ident]:
    teams: list[n.Ident] = []
    for owners in evaluate.all(n.Owners):
        teams.extend(owners.teams)
    owner = ident_value(evaluate, "owner")
    if owner is not None:
        teams.append(owner)
    return teams
