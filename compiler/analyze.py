"""Builds the `Program`: declarations (P003), references (T001/T004), the base
source (T007), the retraining schedule, out-of-range values and stages that cannot run
(P001, `pipec.structure`) and the stage DAG with its implicit join and approval nodes."""

from __future__ import annotations

from pathlib import Path

from pipec import cron
from pipec import nodes as n
from pipec.diagnostics import Diagnostic, error, with_article
from pipec.loader import LoadedFile, Loader, imports_failed
from pipec.model import PRODUCES, Program, Stage
from pipec.rules._support import approval_of
from pipec.structure import declaration_diagnostics, structure_diagnostics
from pipec.value_ranges import value_diagnostics

# A stage acts on a declaration of this kind with the same name.
ACTS_ON = {"validate": "source", "evaluate": "train", "register": "train", "deploy": "train"}
# Settings that reference another declaration: (stage kind, keyword) -> referenced kind.
READS = {("label", "from"): "source", ("features", "from"): "source"}
TOP_LEVEL_SETS = {"team": "teams", "checks": "check_sets", "gates": "gate_sets"}


def build_program(path: Path, loader: Loader | None = None) -> Program:
    loader = loader or Loader()
    files, import_diagnostics = loader.closure(path)
    main = loader.load(path)
    program = Program(path=main.path, display=main.display, files=files, module=main.module)
    for loaded in files:
        program.diagnostics.extend(loaded.diagnostics)
    program.diagnostics.extend(import_diagnostics)
    _collect_top_level(program, files)
    program.diagnostics.extend(declaration_diagnostics(program))
    if main.module is not None:
        _collect_pipeline(program, main.module)
    if program.pipeline is not None:
        _collect_stages(program)
        _resolve_references(program)
        _check_train_inputs(program)
        _check_feature_columns(program)
        _choose_base_source(program)
        _check_schedule(program)
        program.diagnostics.extend(structure_diagnostics(program))
        program.diagnostics.extend(value_diagnostics(_value_blocks(program)))
        _build_graph(program)
    return program


# ----------------------------------------------------------------- declarations


def _collect_top_level(program: Program, files: list[LoadedFile]) -> None:
    for loaded in files:
        if loaded.module is None:
            continue
        for item in loaded.module.items:
            if isinstance(item, n.Block) and item.kind in TOP_LEVEL_SETS:
                table = getattr(program, TOP_LEVEL_SETS[item.kind])
                _declare(program, table, item, f"{_kind_word(item.kind)} `{item.name.name}`")


def _declare(program: Program, table: dict[str, n.Block], block: n.Block, what: str) -> None:
    first = table.get(block.name.name)
    if first is None:
        table[block.name.name] = block
        return
    program.diagnostics.append(error(
        "P003", f"{what} is declared twice (first at {first.name.span})", block.name.span,
        "rename or remove one of them"))


def _collect_pipeline(program: Program, module: n.Module) -> None:
    pipelines = module.blocks("pipeline")
    if pipelines:
        program.pipeline = pipelines[0]
    for extra in pipelines[1:]:
        program.diagnostics.append(error(
            "P003", f"a file declares at most one pipeline; `{extra.name.name}` is a second one",
            extra.header, "move it into a file of its own"))


def _collect_stages(program: Program) -> None:
    assert program.pipeline is not None
    first_label: n.Block | None = None
    for stmt in program.pipeline.body:
        if not isinstance(stmt, n.Block):
            continue
        if stmt.kind == "label" and first_label is not None and stmt.id != first_label.id:
            # The examples table carries one target, the one train learns and evaluate
            # scores: a second label would be computed and silently never used.
            program.diagnostics.append(error(
                "P003", f"a pipeline has one label; `{stmt.name.name}` is a second one "
                f"(first `{first_label.name.name}` at {first_label.header})", stmt.header,
                "keep the label the model learns; a second target needs its own pipeline"))
            continue
        first_label = first_label or (stmt if stmt.kind == "label" else None)
        if stmt.id in program.stages:
            first = program.stages[stmt.id].span
            what = "split" if stmt.kind == "split" else f"{stmt.kind} `{stmt.name.name}`"
            program.diagnostics.append(error(
                "P003", f"{what} is declared twice (first at {first})", stmt.header,
                "a pipeline has one split, and one stage of each kind and name"))
            continue
        program.stages[stmt.id] = _stage(program, stmt)


def _stage(program: Program, block: n.Block) -> Stage:
    owner = block.setting("owner")
    if owner is None and block.kind == "evaluate":
        owners = block.first(n.Owners)
        if owners is not None and owners.teams:
            return Stage(block.id, block.kind, block.name.name, block,
                         owners.teams[0].name, owners.teams[0].span)
    if owner is None:
        owner = program.pipeline_setting("owner")
    if owner is not None and isinstance(owner.value, n.Ident):
        return Stage(block.id, block.kind, block.name.name, block, owner.value.name,
                     owner.value.span)
    return Stage(block.id, block.kind, block.name.name, block)


def _describe(block: n.Block) -> str:
    return "the split" if block.kind == "split" else f"{block.kind} `{block.name.name}`"


# ------------------------------------------------------------------- references


def declared_kinds(program: Program, name: str) -> list[str]:
    referable = ("source", "label", "features", "train")
    kinds = sorted({s.kind for s in program.stages.values()
                    if s.name == name and s.kind in referable})
    kinds += [kind for kind, attr in TOP_LEVEL_SETS.items() if name in getattr(program, attr)]
    return kinds


def reference_problem(program: Program, ident: n.Ident, wanted: str,
                      context: str) -> Diagnostic | None:
    """T001 when nothing of that name exists; T004 when it is another kind."""
    table = {"checks": program.check_sets, "gates": program.gate_sets}.get(wanted)
    exists = ident.name in table if table is not None else \
        f"{wanted}.{ident.name}" in program.stages
    if exists:
        return None
    others = [k for k in declared_kinds(program, ident.name) if k != wanted]
    if others:
        return error("T004", f"{context} names `{ident.name}`, which is {_a(others[0])}, "
                     f"not {_a(wanted)}", ident.span,
                     f"name a declared {_kind_word(wanted)}")
    close = _closest_name(ident.name, list(table) if table is not None else
                          [s.name for s in program.stages.values() if s.kind == wanted])
    return error("T001", f"{context} names `{ident.name}`, but no {_kind_word(wanted)} "
                 f"`{ident.name}` is declared", ident.span,
                 f"did you mean `{close}`?" if close else
                 f"declare `{wanted} {ident.name} {{ ... }}` or fix the name")


def _closest_name(name: str, declared: list[str]) -> str | None:
    """The declared name that `name` most likely misspells (`chargeback` for
    `chargebacks`), if one is close enough."""
    import difflib  # only for a misspelt name: not worth importing on every check

    close = difflib.get_close_matches(name, sorted(declared), n=1, cutoff=0.75)
    return close[0] if close else None


def _a(kind: str) -> str:
    return with_article(_kind_word(kind))


def _kind_word(kind: str) -> str:
    return {"checks": "check set", "gates": "gate set", "train": "train stage",
            "features": "feature view"}.get(kind, kind)


def _resolve_references(program: Program) -> None:
    # A set from a failed import (P002) or one that did not parse (P001) is unknowable:
    # a `use` of it is no mistake of this file, and the real error is reported there.
    sets_known = not imports_failed(program.files, program.path, program.diagnostics)
    for stage in list(program.stages.values()):
        block = stage.block
        assert block is not None
        wanted = ACTS_ON.get(block.kind)
        if wanted is not None:
            _report(program, reference_problem(program, block.name, wanted,
                                               f"`{block.kind} {block.name.name}`"))
        for (kind, keyword), target in READS.items():
            setting = block.setting(keyword) if block.kind == kind else None
            if setting is not None and isinstance(setting.value, n.Ident):
                _report(program, reference_problem(program, setting.value, target,
                                                   f"`{keyword}` in {_describe(block)}"))
        for use in block.all(n.Use) if sets_known else ():
            wanted_set = "gates" if block.kind == "evaluate" else "checks"
            _report(program, reference_problem(program, use.set_name, wanted_set,
                                               f"`use` in {_describe(block)}"))
    for top in program.check_sets.values() if sets_known else ():
        for use in top.all(n.Use):
            _report(program, reference_problem(program, use.set_name, "checks", "`use`"))
    for top in program.gate_sets.values() if sets_known else ():
        for use in top.all(n.Use):
            _report(program, reference_problem(program, use.set_name, "gates", "`use`"))
    assert program.pipeline is not None
    examples = program.pipeline.first(n.ExamplesFrom)
    if examples is not None:
        _report(program, reference_problem(program, examples.source, "source",
                                           "`examples from`"))


def _check_train_inputs(program: Program) -> None:
    """T001 for a train stage with nothing to learn from: it reads the pipeline's split
    of the examples, which need a label (without them the check passed and the run
    failed at the train stage)."""
    for block in program.blocks("train"):
        where = f"train `{block.name.name}`"
        if "split" not in program.stages:
            program.diagnostics.append(error(
                "T001", f"{where} learns from the pipeline's split, and the pipeline has no "
                "`split`", block.header,
                "add one, such as `split by time { train before DATE; test from DATE }`"))
        if not program.labels():
            program.diagnostics.append(error(
                "T001", f"{where} learns a label, and the pipeline declares none",
                block.header, "add `label NAME { column COL }` (or `when COL > V`, or "
                "`from SOURCE; window DUR` for events)"))


def _check_feature_columns(program: Program) -> None:
    """P003 for two features that get one examples column, `VIEW__NAME`: view `a_` with
    feature `b` and view `a` with feature `_b` both make `a___b`, and the examples
    table would keep one of them while the model read it twice."""
    seen: dict[str, n.Span] = {}
    for view in program.blocks("features"):
        # A feature defined twice in one view is already `structure`'s P003, at the same
        # place: only its first definition takes part here.
        defined: dict[str, n.Ident] = {}
        for feature in view.all(n.FeatureDef):
            defined.setdefault(feature.name.name, feature.name)
        outputs = list(defined.values())
        outputs += [c for listing in view.all(n.Columns) for c in listing.columns]
        for name in outputs:
            column = f"{view.name.name}__{name.name}"
            if column in seen:
                program.diagnostics.append(error(
                    "P003", f"`{name.name}` of feature view `{view.name.name}` is the examples "
                    f"column `{column}`, as is the feature at {seen[column]}", name.span,
                    "rename the feature or the view so their `VIEW__FEATURE` names differ"))
            seen.setdefault(column, name.span)


def _report(program: Program, diagnostic: Diagnostic | None) -> None:
    if diagnostic is not None:
        program.diagnostics.append(diagnostic)


# ------------------------------------------------------------------ base source


def _choose_base_source(program: Program) -> None:
    assert program.pipeline is not None
    sources = [s.name for s in program.stages.values() if s.kind == "source"]
    examples = program.pipeline.first(n.ExamplesFrom)
    if examples is not None:
        program.base_source = examples.source.name if examples.source.name in sources else None
        return
    label_sources = {_reads(b) for b in program.blocks("label")}
    candidates = [s for s in sources if s not in label_sources]
    feature_sources = {_reads(b) for b in program.blocks("features")}
    if len(candidates) > 1 and any(s and s not in sources
                                   for s in label_sources | feature_sources):
        # A label or view `from` an undeclared name (T001/T004) may have meant one of them:
        # the base is unknowable, and a guess would echo that error as column errors.
        return
    why = "every source feeds a label"
    possible = candidates
    if len(candidates) > 1:
        unread = [s for s in candidates if s not in feature_sources]
        why = f"{_names(candidates)} feed no label, but a feature view reads each of them"
        candidates = unread
    if len(candidates) > 1:
        why = f"{_names(candidates)} feed no label or view, but the time split names none " \
            "of their `time` columns"
        candidates = _by_split_time(program, candidates)
    if len(candidates) == 1:
        program.base_source = candidates[0]
    elif sources:
        program.base_candidates = tuple(candidates or possible)
        _report_no_base(program, candidates, why, _split_time_source(program, possible))
    elif program.stages:
        program.diagnostics.append(error(
            "T007", "the pipeline declares stages but no source: there are no rows to make "
            "examples of", program.pipeline.header,
            "declare the data with `source NAME { from ...; schema { ... } }`"))


def _names(sources: list[str]) -> str:
    return ", ".join(f"`{s}`" for s in sources)


def _reads(block: n.Block) -> str | None:
    setting = block.setting("from")
    return setting.value.name if setting and isinstance(setting.value, n.Ident) else None


def _by_split_time(program: Program, candidates: list[str]) -> list[str]:
    split = program.split
    if split is None or split.by != "time" or split.on is None:
        return candidates  # nothing to choose by: several are left
    return [s for s in candidates if program.source_word(s, "time") == split.on.name]


def _split_time_source(program: Program, sources: list[str]) -> str | None:
    """The one source whose `time` column the time split is `on`: the likely base when
    the rules above left none (it also feeds a feature view of its own history)."""
    split = program.split
    if split is None or split.by != "time" or split.on is None:
        return None
    named = _by_split_time(program, sources)
    return named[0] if len(named) == 1 else None


def _report_no_base(program: Program, candidates: list[str], why: str,
                    likely: str | None) -> None:
    assert program.pipeline is not None
    if candidates:
        message = f"more than one source could be the base of the examples: " \
            f"{_names(candidates)}"
    else:
        message = f"no source can be the base of the examples ({why})"
    help_text = f"add `examples from {likely}` to the pipeline (the time split is on its " \
        "`time` column)" if likely else "add `examples from NAME` to the pipeline"
    program.diagnostics.append(error("T007", message, program.pipeline.header, help_text))


# --------------------------------------------------------------------- schedule


def _check_schedule(program: Program) -> None:
    """`retrain scheduled "CRON"`: a cron expression every target reads the same way,
    which fires at all. Checked here rather than while parsing, so that a bad schedule
    does not hide the rest of the program's diagnostics."""
    retrain = program.retrain()
    if retrain is None or retrain.mode != "scheduled" or retrain.cron is None:
        return
    text = retrain.cron.value
    try:
        schedule = cron.parse(text)
    except cron.CronError as exc:
        program.diagnostics.append(error(
            "P001", f"`{text}` is not a cron expression every target accepts: {exc}",
            retrain.cron.span, cron.preset_meant(text)
            or 'write five fields, e.g. "0 3 * * *" (03:00 UTC daily)'))
        return
    if cron.never_fires(schedule):
        program.diagnostics.append(error(
            "P001", f"`{text}` never fires (no such day in {cron.SEARCH_DAYS // 366} years)",
            retrain.cron.span, "check the day-of-month and month fields"))


def _value_blocks(program: Program) -> list[n.Block]:
    """The pipeline, its stages, and the check and gate sets they may use."""
    assert program.pipeline is not None
    stages = [s.block for s in program.stages.values() if s.block is not None]
    return [program.pipeline, *stages, *program.check_sets.values(),
            *program.gate_sets.values()]


# ------------------------------------------------------------------------ graph


def _build_graph(program: Program) -> None:
    graph = program.graph
    for stage in program.stages.values():
        graph.add_node(stage.id, stage=stage)
    for stage in list(program.stages.values()):
        for upstream, artifact in _inputs(program, stage):
            if upstream in program.stages:
                graph.add_edge(upstream, stage.id, artifact=artifact)
    _add_join(program)
    _add_approvals(program)


def _inputs(program: Program, stage: Stage) -> list[tuple[str, str]]:
    block = stage.block
    assert block is not None
    kind, name = stage.kind, stage.name
    if kind == "validate":
        return [(f"source.{name}", "Dataset")]
    if kind in ("label", "features"):
        # A label or view reads its own source and the base rows it labels or
        # featurises, so it runs after both are validated (the local runner follows
        # the manifest's order; Airflow and Argo the edges).
        sources = dict.fromkeys(s for s in (_reads(block) or program.base_source,
                                            program.base_source) if s)
        readers = [program.source_reader(source) for source in sources]
        return [(reader, PRODUCES[program.stages[reader].kind] if reader in program.stages
                 else "Dataset") for reader in readers]
    if kind == "train":
        return [("split", "TrainSet")]
    if kind == "evaluate":
        return [(f"train.{name}", "Model"), ("split", "TestSet")]
    if kind == "register":
        return [(f"train.{name}", "Model"), (f"evaluate.{name}", "EvalReport")]
    if kind == "deploy":
        return [(f"register.{name}", "RegisteredModel")]
    return []


def _add_join(program: Program) -> None:
    """The implicit join: base rows + labels + feature tables -> examples."""
    if program.base_source is None and not program.blocks("label"):
        return
    join = Stage("join", "join", "join", None, *_pipeline_owner(program),
                 anchor=program.pipeline.header if program.pipeline else None)
    program.stages["join"] = join
    program.graph.add_node("join", stage=join)
    if program.base_source is not None:
        reader = program.source_reader(program.base_source)
        program.graph.add_edge(reader, "join", artifact=PRODUCES[reader.split(".")[0]])
    for stage in list(program.stages.values()):
        if stage.kind in ("label", "features"):
            program.graph.add_edge(stage.id, "join", artifact=PRODUCES[stage.kind])
    if "split" in program.stages:
        program.graph.add_edge("join", "split", artifact="Examples")


def _pipeline_owner(program: Program) -> tuple[str | None, n.Span | None]:
    owner = program.pipeline_setting("owner")
    if owner is not None and isinstance(owner.value, n.Ident):
        return owner.value.name, owner.value.span
    return None, None


def _add_approvals(program: Program) -> None:
    """`approval by TEAM` (the evaluate stage's own, or a gate set's it uses) puts an
    approval node between register and deploy."""
    for evaluate in program.blocks("evaluate"):
        found = approval_of(program, evaluate)
        register_id = f"register.{evaluate.name.name}"
        if found is None or register_id not in program.stages:
            continue
        approval, use = found
        # A set's line is placed at the stage's `use` line: the set may be in a file the
        # user does not edit, and the approval belongs to this stage.
        stage = Stage(f"approval.{evaluate.name.name}", "approval", evaluate.name.name, None,
                      approval.team.name, use.set_name.span if use else approval.team.span,
                      anchor=use.span if use else approval.span)
        program.stages[stage.id] = stage
        program.graph.add_node(stage.id, stage=stage)
        program.graph.add_edge(register_id, stage.id, artifact="RegisteredModel")
        deploy_id = f"deploy.{evaluate.name.name}"
        if program.graph.has_edge(register_id, deploy_id):
            program.graph.remove_edge(register_id, deploy_id)
            program.graph.add_edge(stage.id, deploy_id, artifact="ApprovedModel")
