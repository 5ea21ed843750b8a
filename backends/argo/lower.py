"""Plan -> ArgoWorkflow."""

from __future__ import annotations

import hashlib
import json
import math
import re
import unicodedata
from dataclasses import replace

from pipec.backends.argo.model import (
    ArgoWorkflow,
    DagGroup,
    DagTask,
    Sensor,
    SensorDependency,
    StageTemplate,
)
from pipec.backends.base import BuildOptions
from pipec.backends.naming import DNS_LABEL_MAX, dns_label, label_value
from pipec.backends.plan import RETRY_DELAY_S, Plan, StagePlan, lineage_summary, most_common
from pipec.backends.triggers import drift_condition, trigger_keys

NAME_MAX = 52  # CronWorkflow names; Workflows get a 5-character suffix after it
PREFIX = "pipec.dev/"
APPROVAL_TEMPLATE = "approval"
REJECT_TEMPLATE = "record-rejection"
HUMAN_SUFFIX = "--human"
REJECTED_SUFFIX = "--rejected"
APPROVED_SUFFIX = "--approved"
# The human step's outputs, chosen when the workflow is resumed (Argo's intermediate
# parameters): a plain `argo resume` gives the defaults, `approve` and no reviewer.
DECISION, REVIEWER, REJECT = "decision", "reviewer", "reject"
# The register stage's output that says whether the registry already holds the approval
# (`pipec stage run --approval-given` writes JSON `true` or `false` there), in a volume of
# the pod's own: whether the image's own folders are writable is not known.
APPROVAL_GIVEN = "approval-given"
OUTPUTS_VOLUME, OUTPUTS_MOUNT_PATH = "pipec-outputs", "/pipec-outputs"
APPROVAL_GIVEN_PATH = f"{OUTPUTS_MOUNT_PATH}/{APPROVAL_GIVEN}.json"
DAG_TEMPLATE = "pipeline"
# This many sibling stages with the same inputs and the same dependents (a wide fan-out:
# feature views over one source) become one nested DAG.
FAN_OUT_MIN = 10


def lower_workflow(plan: Plan, options: BuildOptions) -> ArgoWorkflow:
    checks = {s.register for s in plan.stages if s.is_approval}
    shapes = _described({s.id: _shape(s, s.id in checks) for s in plan.stages}, plan)
    passed: dict[StageTemplate, list[dict[str, str]]] = {}
    for stage in plan.stages:
        if stage.id in shapes:
            passed.setdefault(shapes[stage.id], []).append(_parameters(stage, shapes[stage.id]))
    templates = {shape: _with_defaults(shape, passed[shape])
                 for shape in sorted(passed, key=lambda t: t.name)}
    tasks, groups = fan_outs(
        tuple(task for stage in plan.stages for task in _tasks(stage, templates[shapes[stage.id]])))
    return ArgoWorkflow(
        kind=_kind(plan), name=dns_label(plan.name, NAME_MAX), file_name=f"{plan.name}.yaml",
        image=plan.image or "", manifest_name=options.manifest_name,
        retry_delay_s=RETRY_DELAY_S, cron=plan.retrain.get("cron"),
        labels=_labels(plan), annotations=_annotations(plan),
        run_annotations=_run_annotations(plan),
        templates=tuple(templates.values()),
        tasks=tasks, sensor=_sensor(plan), groups=groups, state_volume=options.state_volume,
        service_account=options.service_account,
        sensor_service_account=options.sensor_service_account,
        manifest_configmap=options.manifest_configmap, dag_hash=plan.dag_hash,
        parallelism=options.max_parallel_stages,
        rejection_timed=any(s.timeout_s is not None for s in plan.stages if s.is_approval),
    )


def _kind(plan: Plan) -> str:
    kind = plan.retrain.get("kind")
    if kind == "scheduled":
        return "CronWorkflow"
    return "WorkflowTemplate" if kind in ("triggered", "continuous") else "Workflow"


def _shape(stage: StagePlan, approval_check: bool = False) -> StageTemplate:
    """The stage's template: one per set of resources, with or without a deadline, and
    for a register stage an approval's human step follows (`approval_check`)."""
    resources = tuple(sorted((str(k), str(v)) for k, v in stage.resources.items()))
    name = "stage"
    if resources:
        digest = hashlib.sha256(json.dumps(resources).encode()).hexdigest()[:8]
        name += f"-res-{digest}"
    timed = stage.timeout_s is not None
    name += ("-timed" if timed else "") + ("-approval-check" if approval_check else "")
    return StageTemplate(name, timed, resources, approval_check=approval_check)


def _described(shapes: dict[str, StageTemplate], plan: Plan) -> dict[str, StageTemplate]:
    """The shapes (by stage id) with `described` set on each shape one of whose stages
    has a `description`: only those templates take it, so the others stay as they were."""
    described = {shapes[s.id] for s in plan.stages if s.description}
    return {stage_id: replace(shape, described=True) if shape in described else shape
            for stage_id, shape in shapes.items()}


def _parameters(stage: StagePlan, shape: StageTemplate) -> dict[str, str]:
    """Every input parameter of the stage's template, as the stage would pass it."""
    parameters = {"stage": stage.id, "owner": label_value(stage.owner or ""),
                  "retries": str(stage.retries)}
    if shape.timed:
        parameters["timeout"] = str(deadline_seconds(stage.timeout_s))
    if shape.described:
        parameters["description"] = annotation_text(stage.description or "")
    return parameters


def _with_defaults(shape: StageTemplate, stages: list[dict[str, str]]) -> StageTemplate:
    """The shape with a default for each parameter but `stage`: the value most of its
    stages pass, so a task passes only what differs."""
    names = ["owner", "retries"] + (["timeout"] if shape.timed else []) \
        + (["description"] if shape.described else [])
    defaults = tuple((n, most_common([p[n] for p in stages], "")) for n in names)
    return replace(shape, defaults=defaults)


def _tasks(stage: StagePlan, template: StageTemplate) -> tuple[DagTask, ...]:
    """The stage's DAG task; an approval stage is preceded by the human's `suspend` step,
    `NAME--human` (a stage's task name never holds `--` unless it ends in a hash, which
    `human` and `rejected` are not: naming.py). Resumed with decision `approve` (the
    default), the approval stage runs and checks the registry for the approval, as
    `pipec run` does, so resuming without recording it stops there; with `reject`, it is
    skipped and `NAME--rejected` records the rejection instead. When the registry already
    holds the approval, nobody is asked and `NAME--approved` runs the approval stage
    (`_approval_tasks`)."""
    dependencies = tuple(sorted(dns_label(i) for i in stage.inputs))
    defaults = dict(template.defaults)
    parameters = tuple((k, v) for k, v in _parameters(stage, template).items()
                       if defaults.get(k) != v)
    task = DagTask(dns_label(stage.id), stage.id, template.name, dependencies, parameters)
    return _approval_tasks(stage, task) if stage.is_approval else (task,)


def _approval_tasks(stage: StagePlan, task: DagTask) -> tuple[DagTask, ...]:
    """The human step, skipped when its register stage says the registry already holds
    the approval (a re-run of an approved version: `pipec run` asks nobody then); the
    approval stage after its answer (unless rejected); the task that records a rejection
    (only then); and the approval stage after a skipped human step.

    That last one is a task of its own because nothing may read the outputs of a skipped
    step: Argo has left such a reference unresolved (an error), hung on it (v4.0.3,
    https://github.com/argoproj/argo-workflows/issues/15837) or read it as empty,
    depending on the version. The tasks that read the decision wait for the human step
    to have succeeded (`depends`), so they are omitted, unevaluated, when it is skipped,
    and `NAME--approved` runs the approval stage instead, on `NAME--human.Skipped`."""
    human = _suffixed(stage.id, HUMAN_SUFFIX)
    register = dns_label(stage.register or "")  # always set for an approval stage
    given = f"{{{{tasks.{register}.outputs.parameters.{APPROVAL_GIVEN}}}}}"

    def chosen(name: str) -> str:
        return f"{{{{tasks.{human}.outputs.parameters.{name}}}}}"

    # The approval stage's retries and deadline (the pipeline's), as its own task's.
    deadline = (("timeout", str(deadline_seconds(stage.timeout_s))),) \
        if stage.timeout_s is not None else ()
    rejected = DagTask(
        _suffixed(stage.id, REJECTED_SUFFIX), stage.id, REJECT_TEMPLATE, (human,),
        (("stage", stage.id), ("owner", label_value(stage.owner or "")),
         ("retries", str(stage.retries)), *deadline, (REVIEWER, chosen(REVIEWER))),
        when=f"{chosen(DECISION)} == {REJECT}")
    approved = replace(task, name=_suffixed(stage.id, APPROVED_SUFFIX), dependencies=(human,),
                       depends=f"{human}.Skipped", stands_for=task.name)
    return (DagTask(human, stage.id, APPROVAL_TEMPLATE, task.dependencies, (),
                    when=f"{given} != true"),
            replace(task, dependencies=(human,), when=f"{chosen(DECISION)} != {REJECT}"),
            rejected, approved)


def _suffixed(stage_id: str, suffix: str) -> str:
    """A task of the approval stage's besides its own: a stage's task name never holds
    `--` unless it ends in a hash, which no suffix here is (naming.py)."""
    return dns_label(stage_id, DNS_LABEL_MAX - len(suffix)) + suffix


def fan_outs(tasks: tuple[DagTask, ...]) -> tuple[tuple[DagTask, ...], tuple[DagGroup, ...]]:
    """(outer tasks, groups): FAN_OUT_MIN or more stages that wait for the same tasks and
    are waited for by the same tasks become one nested DAG task.

    The same schedule: the group starts when those inputs are done, its stages then run
    side by side as before, and every task that waited for them waited for all of them,
    so it now waits for the group. What it saves is the outer DAG listing each stage's
    inputs again and each dependent listing every stage (a join over 990 feature views
    was one 21 KB `depends` line); the Argo UI shows the fan-out as one node to open.
    """
    dependents: dict[str, list[str]] = {t.name: [] for t in tasks}
    for task in tasks:
        for name in task.dependencies:
            dependents.setdefault(name, []).append(task.name)
    siblings: dict[tuple[tuple[str, ...], tuple[str, ...]], list[DagTask]] = {}
    for task in tasks:
        if task.template not in (APPROVAL_TEMPLATE, REJECT_TEMPLATE) and task.when is None \
                and task.depends is None:
            key = (task.dependencies, tuple(sorted(dependents[task.name])))
            siblings.setdefault(key, []).append(task)
    group_of: dict[str, str] = {}
    groups = []
    for members in siblings.values():
        if len(members) < FAN_OUT_MIN:
            continue
        name = _group_name(members[0])
        group_of.update((m.name, name) for m in members)
        groups.append(DagGroup(name, tuple(replace(m, dependencies=()) for m in members)))
    if not groups:
        return tasks, ()
    outer: list[DagTask] = []
    placed: set[str] = set()  # groups already in `outer`, at their first stage's place
    for task in tasks:
        needs = tuple(sorted({group_of.get(d, d) for d in task.dependencies}))
        group = group_of.get(task.name)
        if group is None:
            outer.append(replace(task, dependencies=needs))
        elif group not in placed:
            placed.add(group)
            outer.append(DagTask(group, "", group, needs, ()))
    return tuple(outer), tuple(groups)


def _group_name(first: DagTask) -> str:
    """`fanout-` and the first stage's task name: no stage kind is `fanout`, so it never
    meets a stage's task name (naming.py)."""
    name = f"fanout-{first.name}"
    return name if len(name) <= DNS_LABEL_MAX else dns_label(f"fanout.{first.stage_id}")


def deadline_seconds(timeout_s: float | None) -> int:
    """Argo deadlines are whole seconds: round up, never below 1."""
    return max(1, math.ceil(timeout_s or 0))


def _labels(plan: Plan) -> tuple[tuple[str, str], ...]:
    labels = {"app.kubernetes.io/managed-by": "pipec",
              PREFIX + "pipeline": label_value(plan.name),
              PREFIX + "owner": label_value(plan.owner or ""),
              PREFIX + "risk": label_value(plan.risk or ""),
              PREFIX + "retrain": label_value(plan.retrain.get("kind", ""))}
    return tuple(labels.items())


# Kubernetes refuses an object whose annotations total more than 256 KiB. A lineage
# summary longer than this (a long description, long source queries) is cut down to the
# fields that name the build; the manifest, which `dag_hash` names, holds all of it.
LINEAGE_ANNOTATION_MAX = 64 * 1024
# What the cut-down summary keeps: the build's identity, nothing of unbounded length.
LINEAGE_IDENTITY = ("pipeline", "owner", "risk", "dag_hash", "pipec_version", "stages",
                    "edges")


def _annotations(plan: Plan) -> tuple[tuple[str, str], ...]:
    """The dag hash and the lineage summary (compact JSON, which holds the pipeline's
    name, owner, description, image and commit too; the full lineage is the manifest),
    and the description the Argo UI lists (the dag hash and the description are also
    every run's: `_run_annotations`)."""
    summary = lineage_summary(plan)
    lineage = _compact_json(summary)
    if len(lineage.encode()) > LINEAGE_ANNOTATION_MAX:
        lineage = _compact_json({**{k: summary[k] for k in LINEAGE_IDENTITY},
                                 "cut": "too long for an annotation: see the manifest"})
    return ((PREFIX + "dag-hash", plan.dag_hash), (PREFIX + "lineage", lineage),
            *_ui_description(plan))


# The Argo UI's workflow lists show this annotation under the workflow's name (v3.4.4+
# for Workflows, v3.6+ for CronWorkflows and WorkflowTemplates, rendered as Markdown
# from v3.6): https://argo-workflows.readthedocs.io/en/latest/title-and-description/.
# Its companion `workflows.argoproj.io/title` is left unset: it replaces the name in
# that list, and every run of the pipeline would show the same title instead of its own
# generated name.
UI_DESCRIPTION = "workflows.argoproj.io/description"


def _run_annotations(plan: Plan) -> tuple[tuple[str, str], ...]:
    """What each run carries of its template's annotations (`workflowMetadata`): the dag
    hash, which says which build a run that cron or the Sensor started ran (it does not
    inherit the CronWorkflow's or WorkflowTemplate's own), and the description. The
    lineage summary stays on the template: a copy on every run adds up in etcd, and the
    dag hash names the build's manifest, which holds it all."""
    return ((PREFIX + "dag-hash", plan.dag_hash), *_ui_description(plan))


def _ui_description(plan: Plan) -> tuple[tuple[str, str], ...]:
    """The pipeline's `description`, for the Argo UI's workflow lists."""
    return ((UI_DESCRIPTION, annotation_text(plan.description)),) if plan.description else ()


# A description in an annotation: a stage's on its pod, the pipeline's in the Argo UI.
# The stage's also travels as a parameter, so each task that passes it and each
# attempt's node in the workflow's status (one etcd object with the spec, 1.5 MB at
# most) hold a copy: a short paragraph fits, and a longer one is cut (the manifest,
# which `dag_hash` names, holds all of it).
DESCRIPTION_ANNOTATION_MAX = 512  # bytes of UTF-8
DESCRIPTION_CUT = " … [cut: the full description is in the manifest]"
# `{{` opens an Argo template tag, and Argo has no escape for it: in a parameter or an
# annotation `{{workflow.name}}` would be replaced, `{{=expr}}` evaluated and
# `{{inputs.x}}` refused at submit ("failed to resolve"). A space between two braces
# keeps the text readable and inert.
_OPEN_TAG = re.compile(r"\{(?=\{)")
# Argo puts a parameter's value into its template's JSON quoted as Go quotes a string
# (`strconv.Quote`, util/template/simple_template.go), then reads that JSON back. What Go
# writes for a control character (`\a`, `\v`, `\x01`) or for an unprintable character
# past U+FFFF (`\U000e0067`, a tag of a flag emoji) is no JSON escape: the stage's pod
# could not be made. Such characters are shown as U+FFFD instead.
_GO_CONTROL = re.compile(r"[\x00-\x07\x0b\x0e-\x1f\x7f]")
_ASTRAL = re.compile(r"[\U00010000-\U0010ffff]")


def _go_quotable(match: re.Match[str]) -> str:
    """An astral character as is when Go prints it (a letter, mark, number, punctuation
    or symbol, such as an emoji), else U+FFFD."""
    char = match[0]
    return char if unicodedata.category(char)[0] in "LMNPS" else "\ufffd"


def annotation_text(text: str) -> str:
    """`text` as an annotation's value that Argo passes through a parameter intact: no
    `{{`, no character Go would quote as no JSON does, at most DESCRIPTION_ANNOTATION_MAX
    bytes (cut at a character, with a marker)."""
    text = _ASTRAL.sub(_go_quotable, _GO_CONTROL.sub("\ufffd", text))
    text = _OPEN_TAG.sub("{ ", text)
    if len(text.encode()) <= DESCRIPTION_ANNOTATION_MAX:
        return text
    room = DESCRIPTION_ANNOTATION_MAX - len(DESCRIPTION_CUT.encode())
    return text.encode()[:room].decode(errors="ignore") + DESCRIPTION_CUT


def _compact_json(value: object) -> str:
    return json.dumps(value, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _sensor(plan: Plan) -> Sensor | None:
    keys = trigger_keys(plan)
    if not keys:
        return None
    # Dependency names are plain words: Argo Events reads `-` in `conditions` as minus.
    dependencies = tuple(SensorDependency(f"event{i}", dns_label(key))
                         for i, key in enumerate(keys))
    return Sensor(dns_label(plan.name, NAME_MAX), dns_label(plan.name, NAME_MAX),
                  dependencies, drift_condition(plan))
