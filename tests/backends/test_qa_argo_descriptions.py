"""QA: descriptions in the Argo target, where Argo users see them.

A stage's `description` (Airflow's `doc_md`) annotates its pod, through its template's
`metadata.annotations` and a `description` parameter; the pipeline's is the
`workflows.argoproj.io/description` the Argo UI lists under the workflow's name.
"""

from __future__ import annotations

import json
import unicodedata

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pipec.backends.argo.lower import (
    DESCRIPTION_ANNOTATION_MAX,
    DESCRIPTION_CUT,
    UI_DESCRIPTION,
    annotation_text,
)

from .backend_argo import dag_errors, schema_errors
from .backend_helpers import EXAMPLES, argo_stage_tasks, build, variant
from .test_qa_argo import strings_go_yaml_misreads

STAGE_ANNOTATION = "pipec.dev/description"
TITLE = "workflows.argoproj.io/title"
# What YAML, go-yaml or Argo could take for something else than text: these reach the
# pod's annotation as they are.
AWKWARD = {
    "source.transactions": "Card transactions: 'raw', \"as booked\"\n# no comment\né 🚀 \u2028",
    "label.is_fraud": "&ref: - ~ null 0x1F 1e3",
    "source.chargebacks": "yes",
    "features.account_risk": "1e3",
    "validate.transactions": "*alias &anchor: - [x] {y} | > !!str ---\tü\u0085\b\f\r",
}
# What Argo would resolve, evaluate, or quote as no JSON does.
TAGS = "Trains {{workflow.name}} with {{=sprig.upper('x')}} and {{{x}}}"
UNQUOTABLE = "bell\a tab\v del\x7f nul\x00 🏴\U000e0067\U000e007f private\U000f0000 ok"
HOSTILE = AWKWARD | {"train.fraud_gbm": TAGS, "split": UNQUOTABLE}


def _described(folder, descriptions: dict[str, str], retrain: str = "manual",
               pipeline: str | None = None):
    """The reference program with `descriptions` (stage id -> text) on those stages,
    and `pipeline` as the pipeline's own description."""
    path = variant(EXAMPLES / "fraud" / "fraud.pipe", folder, "described", retrain)
    text = path.read_text("utf-8")
    for stage_id, description in descriptions.items():
        words = stage_id.replace(".", " ") + " "  # `split`: `split by time on ...`
        header = next(line for line in text.splitlines() if line.strip().startswith(words))
        line = f"    description {json.dumps(description, ensure_ascii=False)}"
        text = text.replace(header + "\n", f"{header}\n{line}\n", 1)
    if pipeline is not None:
        text = text.replace("  owner ml_fraud\n", "  owner ml_fraud\n  description "
                            f"{json.dumps(pipeline, ensure_ascii=False)}\n", 1)
    path.write_text(text, "utf-8")
    return path


def _built(path, output):
    files = build(path, "argo", output).files
    text = files["described.yaml"]
    return text, list(yaml.safe_load_all(text))


def _manifest_descriptions(path, output) -> dict[str, str]:
    manifest = json.loads(build(path, "argo", output).files["lineage.json"])
    return {s["id"]: s["description"] for s in manifest["stages"] if s.get("description")}


def go_quote(text: str) -> str:
    """Go's `strconv.Quote`, with which Argo writes a parameter's value into its
    template's JSON before it reads the JSON back."""
    short = {"\a": "\\a", "\b": "\\b", "\f": "\\f", "\n": "\\n", "\r": "\\r",
             "\t": "\\t", "\v": "\\v", '"': '\\"', "\\": "\\\\"}
    out = []
    for char in text:
        code = ord(char)
        printable = char == " " or unicodedata.category(char)[0] in "LMNPS"
        if char in short:
            out.append(short[char])
        elif printable:
            out.append(char)
        elif code < 0x20 or code == 0x7F:
            out.append(f"\\x{code:02x}")
        else:
            out.append(f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}")
    return '"' + "".join(out) + '"'


def _argo_substituted(template: dict, values: dict[str, str]) -> dict:
    """`template` with its `{{inputs.parameters.NAME}}` replaced as Argo does: in its JSON,
    by the Go-quoted value, and read back (a value Go quotes as no JSON does fails here,
    as it fails Argo's pod)."""
    text = json.dumps(template)
    for name, value in values.items():
        text = text.replace(f"{{{{inputs.parameters.{name}}}}}", go_quote(value)[1:-1])
    return json.loads(text)


def _pod_descriptions(document: dict) -> dict[str, str | None]:
    """Stage id -> the `pipec.dev/description` annotation its pod gets, as Argo resolves
    it: the template's annotation with the task's parameter, or else its default."""
    spec = document["spec"].get("workflowSpec", document["spec"])
    templates = {t["name"]: t for t in spec["templates"]}
    found: dict[str, str | None] = {}
    for task in argo_stage_tasks(spec):
        template = templates[task["template"]]
        if "container" not in template or template["name"] == "record-rejection":
            continue
        passed = {p["name"]: p["value"]
                  for p in task.get("arguments", {}).get("parameters", [])}
        inputs = {p["name"]: p.get("default") for p in template["inputs"]["parameters"]}
        values = inputs | passed
        pod = _argo_substituted(template, values)
        found[values["stage"]] = pod["metadata"]["annotations"].get(STAGE_ANNOTATION)
    return found


def test_a_stage_description_annotates_its_pod(tmp_path):
    """QA: the Argo target dropped a stage's `description` without a note (Airflow puts
    it in the task's `doc_md`). Quotes, newlines, Unicode and YAML's special words and
    marks reach the pod's annotation unchanged, read back as Argo substitutes it."""
    text, (document,) = _built(_described(tmp_path / "src", HOSTILE), tmp_path / "out")
    assert schema_errors(document) == [] and dag_errors(document) == []
    assert strings_go_yaml_misreads(text) == []
    pods = _pod_descriptions(document)
    assert {stage_id: pods[stage_id] for stage_id in AWKWARD} == AWKWARD
    # A stage without one, in a template that takes it, is annotated with nothing.
    assert pods["validate.chargebacks"] == ""
    # The templates no described stage uses stay as they were.
    assert pods["register.fraud_gbm"] is None


def test_argo_neither_resolves_nor_evaluates_a_description(tmp_path):
    """`{{` gets a space between its braces: Argo would replace `{{workflow.name}}`,
    evaluate `{{=...}}` and refuse to submit a workflow with `{{inputs.x}}` in a task."""
    _, (document,) = _built(_described(tmp_path / "src", HOSTILE), tmp_path / "out")
    pods = _pod_descriptions(document)
    assert pods["train.fraud_gbm"] == "Trains { {workflow.name}} with " \
        "{ {=sprig.upper('x')}} and { { {x}}}"
    spec = document["spec"]
    assert "{{" not in json.dumps([t.get("arguments") for t in argo_stage_tasks(spec)]
                                  + [t["inputs"] for t in spec["templates"] if "inputs" in t]
                                  ).replace("{{tasks.", "")


def test_characters_go_would_quote_as_no_json_are_replaced(tmp_path):
    """Argo writes a parameter into its template's JSON with Go's quoting: `\\a`, `\\v`,
    `\\x7f` or `\\U000e0067` there made the JSON unreadable and the pod impossible to
    create. Those characters become U+FFFD; printable ones (the emoji) stay."""
    _, (document,) = _built(_described(tmp_path / "src", HOSTILE), tmp_path / "out")
    assert _pod_descriptions(document)["split"] == \
        "bell\ufffd tab\ufffd del\ufffd nul\ufffd 🏴\ufffd\ufffd private\ufffd ok"


def test_the_manifest_keeps_every_description_whole(tmp_path):
    path = _described(tmp_path / "src", HOSTILE)
    assert _manifest_descriptions(path, tmp_path / "out") == HOSTILE


def test_a_huge_stage_description_is_cut_with_a_marker(tmp_path):
    """Each pod's annotations, and each task's and each attempt's copy of the parameter
    in the workflow, stay small: 300,000 characters (multi-byte ones among them) are cut
    at a character, and the manifest keeps them all."""
    huge = "é🚀x" * 100_000
    path = _described(tmp_path / "src", {"train.fraud_gbm": huge, "source.chargebacks": "a"})
    _, (document,) = _built(path, tmp_path / "out")
    assert schema_errors(document) == []
    annotation = _pod_descriptions(document)["train.fraud_gbm"]
    assert annotation is not None and annotation.endswith(DESCRIPTION_CUT)
    assert len(annotation.encode()) <= DESCRIPTION_ANNOTATION_MAX
    assert huge.startswith(annotation.removesuffix(DESCRIPTION_CUT))
    assert len(annotation) > DESCRIPTION_ANNOTATION_MAX // 4  # cut, not dropped
    assert _manifest_descriptions(path, tmp_path / "again")["train.fraud_gbm"] == huge


@pytest.mark.parametrize("text, expected", [
    ("plain", "plain"),
    ("{{a}} {{{b}}} {{{{", "{ {a}} { { {b}}} { { { {"),
    ("{ {already} }", "{ {already} }"),
    ("x" * DESCRIPTION_ANNOTATION_MAX, "x" * DESCRIPTION_ANNOTATION_MAX),
])
def test_annotation_text(text, expected):
    assert annotation_text(text) == expected


def test_annotation_text_cuts_at_a_character_and_never_leaves_a_tag():
    """A cut through a multi-byte character drops that character; a cut after `{` meets
    the marker, which opens no tag."""
    room = DESCRIPTION_ANNOTATION_MAX - len(DESCRIPTION_CUT.encode())
    for text in ("é" * DESCRIPTION_ANNOTATION_MAX, "x" * (room - 1) + "{{" * 100):
        cut = annotation_text(text)
        assert cut.endswith(DESCRIPTION_CUT) and "{{" not in cut
        assert room - 3 <= len(cut.encode()) - len(DESCRIPTION_CUT.encode()) <= room


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.one_of(st.sampled_from(["{", "}", "\a", "\v", "\x7f",
                                                   "\U000e0067", "\U000f0000", "🚀"]),
                                  st.characters(exclude_categories=("Cs",)))))
def test_every_annotation_text_survives_argo_substitution(text):
    """Whatever the description: Go's quoting of it is JSON that reads back as it, it
    opens no tag, and it fits."""
    shown = annotation_text(text)
    assert json.loads(go_quote(shown)) == shown
    assert "{{" not in shown and len(shown.encode()) <= DESCRIPTION_ANNOTATION_MAX


@pytest.mark.parametrize("retrain, kind", [
    ("manual", "Workflow"), ('scheduled "0 3 * * *"', "CronWorkflow"),
    ("triggered on new_snapshot", "WorkflowTemplate")])
def test_the_pipeline_description_is_listed_in_the_argo_ui(tmp_path, retrain, kind):
    """The Argo UI lists `workflows.argoproj.io/description` under a workflow's name
    (Workflows since v3.4.4, CronWorkflows and WorkflowTemplates since v3.6). A run a
    CronWorkflow or a Sensor starts carries it too (`workflowMetadata`). No title: it
    would replace each run's own name in that list."""
    description = "Fraud: blocks {{x}} — 'yes' # scored at decision time"
    path = _described(tmp_path / "src", {}, retrain, pipeline=description)
    _, documents = _built(path, tmp_path / "out")
    document = documents[0]
    assert document["kind"] == kind and schema_errors(document) == []
    spec = document["spec"].get("workflowSpec", document["spec"])
    shown = "Fraud: blocks { {x}} — 'yes' # scored at decision time"
    assert document["metadata"]["annotations"][UI_DESCRIPTION] == shown
    assert spec["workflowMetadata"]["annotations"][UI_DESCRIPTION] == shown
    assert TITLE not in document["metadata"]["annotations"]
    lineage = json.loads(document["metadata"]["annotations"]["pipec.dev/lineage"])
    assert lineage["description"] == description  # never templated: kept whole


def test_no_description_no_annotation(tmp_path):
    _, (document,) = _built(_described(tmp_path / "src", {}), tmp_path / "out")
    assert UI_DESCRIPTION not in document["metadata"]["annotations"]
    assert UI_DESCRIPTION not in document["spec"]["workflowMetadata"]["annotations"]
    assert set(_pod_descriptions(document).values()) == {None}


def test_descriptions_build_the_same_bytes_twice(tmp_path):
    path = _described(tmp_path / "src", HOSTILE, pipeline="a\nb")
    first, _ = _built(path, tmp_path / "one")
    second, _ = _built(path, tmp_path / "two")
    assert first == second
