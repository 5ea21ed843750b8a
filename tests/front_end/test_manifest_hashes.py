"""The manifest's hashes: edits that keep a program's meaning keep `dag_hash` and every
`definition_hash`; edits to what a stage computes or records change that stage's hash;
ownership and orchestration settings are not part of any `definition_hash`."""

from __future__ import annotations

import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pipec
from conftest import EXAMPLES, REPO
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pipec.fmt import format_module
from pipec.manifest import build_manifest
from pipec.parser import parse_text

BLOCK = re.compile(r"(?:  #[^\n]*\n)*  (?:source|validate|label|features|split|train|"
                   r"evaluate|register|deploy)\b[^\n]*\{\n(?:.*?\n)??  \}\n", re.S)


def _project(tmp_path: Path, example: str) -> Path:
    folder = tmp_path / example
    shutil.copytree(EXAMPLES / example, folder,
                    ignore=shutil.ignore_patterns("data", "registry", "variants"))
    (folder / "pyproject.toml").write_text("", "utf-8")
    return folder


def _manifest(folder: Path, text: str, name: str = "edited.pipe") -> dict[str, Any]:
    path = folder / name
    path.write_bytes(text.encode("utf-8"))
    program = pipec.compile(path)
    assert program.ok, [(d.code, d.message) for d in program.diagnostics]
    return build_manifest(program)


def _hashes(manifest: dict[str, Any]) -> tuple[str, dict[str, str]]:
    return manifest["dag_hash"], {s["id"]: s["definition_hash"] for s in manifest["stages"]}


def _changed(a: dict[str, Any], b: dict[str, Any]) -> set[str]:
    old, new = _hashes(a)[1], _hashes(b)[1]
    return {sid for sid in old.keys() | new.keys() if old.get(sid) != new.get(sid)}


# stability ------------------------------------------------------------------------------
def _reorder_blocks(text: str) -> str:
    blocks = BLOCK.findall(text)
    start, end = text.index(blocks[0]), text.index(blocks[-1]) + len(blocks[-1])
    return text[:start] + "\n".join(reversed(blocks)) + text[end:]


def _respell(text: str) -> str:
    for old, new in ((" 1d\n", " 24h\n"), (" 2d\n", " 48h\n"), (" 30d\n", " 720h\n"),
                     ("99%", "0.99"), (">= 0.99", ">= 99%"), (" 1h\n", " 60m\n")):
        text = text.replace(old, new)
    return text


def _fmt(text: str) -> str:
    result = parse_text(text, "x.pipe")
    assert result.module is not None
    return format_module(result.module, text)


NEUTRAL: dict[str, Callable[[str], str]] = {
    "comments": lambda t: t.replace("\n  source", "\n  # a comment\n  source")
    .replace("\n    owner", "  # trailing\n    owner"),
    "blank lines": lambda t: t.replace("\n  }\n", "\n  }\n\n\n"),
    "whitespace": lambda t: re.sub(r"\n( +)", lambda m: "\n" + m.group(1) * 2, t)
    .replace("\n", "  \n"),
    "semicolons": lambda t: re.sub(r"(\n +owner \w+)\n", r"\1;\n", t),
    "respelled literals": _respell,
    "block order": _reorder_blocks,
    "fmt": _fmt,
    "crlf": lambda t: t.replace("\n", "\r\n"),
}


@settings(max_examples=12, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(example=st.sampled_from(["fraud", "flights"]),
       edits=st.lists(st.sampled_from(sorted(NEUTRAL)), unique=True, max_size=5))
def test_meaning_preserving_edits_keep_every_hash(tmp_path: Path, example: str,
                                                   edits: list[str]) -> None:
    folder = _project(Path(tempfile.mkdtemp(dir=tmp_path)), example)
    original = (folder / f"{example}.pipe").read_text("utf-8")
    text = original
    # Block order first (it finds blocks by their indentation), CRLF last (edits match "\n").
    for edit in sorted(edits, key=lambda e: (e != "block order", e == "crlf")):
        text = NEUTRAL[edit](text)
    assert _hashes(_manifest(folder, text)) == _hashes(_manifest(folder, original, "a.pipe"))


def test_teams_inline_or_imported_in_any_order_keep_every_hash(tmp_path: Path) -> None:
    folder = _project(tmp_path, "flights")
    original = (folder / "flights.pipe").read_text("utf-8")
    teams = re.findall(r"team [^\n]*\n", (folder / "teams.pipe").read_text("utf-8"))
    (folder / "reversed.pipe").write_text("".join(reversed(teams)), "utf-8")
    imports = 'import "teams.pipe"\nimport "std/gates/binary.pipe"\n'
    assert imports in original
    base = _hashes(_manifest(folder, original, "a.pipe"))
    swapped = original.replace(imports, 'import "std/gates/binary.pipe"\n'
                                        'import "reversed.pipe"\n')
    inline = original.replace('import "teams.pipe"\n', "".join(teams))
    assert _hashes(_manifest(folder, swapped)) == base
    assert _hashes(_manifest(folder, inline)) == base


def test_timestamps_of_one_instant_give_one_hash(tmp_path: Path) -> None:
    folder = _project(tmp_path, "flights")
    original = (folder / "flights.pipe").read_text("utf-8")
    spellings = ["2013-10-01T04:00:00Z", "2013-10-01T04:00Z", "2013-10-01T06:00:00+02:00",
                 "2013-10-01T04:00:00.000Z", "2013-10-01T04:00:00"]
    hashes = [_hashes(_manifest(folder, original.replace(
        "train before 2013-10-01", f"train before {stamp}"))) for stamp in spellings]
    assert all(h == hashes[0] for h in hashes)
    split = next(s for s in _manifest(folder, original.replace(
        "train before 2013-10-01", "train before 2013-10-01T06:00+02:00"))["stages"]
        if s["id"] == "split")
    assert split["train_before"] == {"timestamp": "2013-10-01T04:00:00Z"}


def test_a_date_and_its_midnight_give_one_hash(tmp_path: Path) -> None:
    """A date means 00:00 UTC of that day (language.md, "Splits")."""
    folder = _project(tmp_path, "flights")
    original = (folder / "flights.pipe").read_text("utf-8")
    midnight = original.replace("test from 2013-10-03", "test from 2013-10-03T02:00+02:00")
    assert _hashes(_manifest(folder, midnight)) == _hashes(_manifest(folder, original, "a.pipe"))


# sensitivity ----------------------------------------------------------------------------
FRAUD_EDITS = [
    ("merchant_id: string", "merchant_id: category", {"source.transactions",
                                                      "validate.transactions"}),
    ("amount: float >= 0", "amount: float >= 1", {"source.transactions",
                                                  "validate.transactions"}),
    ('"data/chargebacks.parquet"', '"data/cb.parquet"', {"source.chargebacks"}),
    ("snapshot latest\n    entity account_id\n    time decision_at",
     "snapshot 2026-01-01\n    entity account_id\n    time decision_at",
     {"source.transactions"}),
    ("range amount >= 0\n", "range amount >= 1\n", {"validate.transactions"}),
    ("within 5x", "within 4x", {"validate.transactions"}),
    ("window 30d", "window 29d", {"label.is_fraud"}),
    ("lag 2d", "lag 1d", {"source.chargebacks", "label.is_fraud"}),
    ("over 7d", "over 8d", {"features.account_risk"}),
    ("= mean(amount)", "= max(amount)", {"features.account_risk"}),
    ("version 12", "version 13", {"features.account_risk"}),
    ("gap 32d", "gap 33d", {"split"}),
    ("max_iter: 200", "max_iter: 201", {"train.fraud_gbm"}),
    ("seed 42", "seed 43", {"train.fraud_gbm"}),
    ("roc_auc >= 0.85", "roc_auc >= 0.86", {"evaluate.fraud_gbm"}),
    ("rollback previous", "rollback 3", {"register.fraud_gbm"}),
    ("canary 5%", "canary 6%", {"deploy.fraud_gbm"}),
    ("ml-train@sha256:4b", "ml-train@sha256:5b", {"train.fraud_gbm"}),
    ("code_commit auto", 'code_commit "4b1c0f9e2d7a"', {"train.fraud_gbm"}),
]


def test_each_edit_changes_its_stage_hash_and_the_dag_hash(tmp_path: Path) -> None:
    folder = _project(tmp_path, "fraud")
    original = (folder / "fraud.pipe").read_text("utf-8")
    base = _manifest(folder, original, "a.pipe")
    for old, new, stages in FRAUD_EDITS:
        assert old in original, old
        edited = _manifest(folder, original.replace(old, new, 1))
        assert _changed(base, edited) == stages, (old, new)
        assert edited["dag_hash"] != base["dag_hash"], (old, new)


def test_an_imported_gate_set_is_part_of_the_evaluate_hash(tmp_path: Path) -> None:
    folder = _project(tmp_path, "flights")
    gates = (REPO / "stdlib" / "gates" / "binary.pipe").read_text("utf-8")
    text = (folder / "flights.pipe").read_text("utf-8").replace(
        'import "std/gates/binary.pipe"', 'import "gates.pipe"')
    (folder / "gates.pipe").write_text(gates, "utf-8")
    base = _manifest(folder, text)
    (folder / "gates.pipe").write_text(gates.replace("ece <= 0.10", "ece <= 0.09"), "utf-8")
    assert _changed(base, _manifest(folder, text)) == {"evaluate.delay_gbm"}


# metadata and orchestration -------------------------------------------------------------
METADATA_EDITS = [
    ("owner ml_fraud\n    model", "owner fraud_product\n    model"),
    ('owner data_platform\n    from parquet "data/trans', 'owner ml_fraud\n    from parquet'
     ' "data/trans'),
    ("owner ml_fraud\n  risk", "owner ml_platform\n  risk"),
    ("owner ml_platform\n    registry", "owner ml_fraud\n    registry"),
    ("owners ml_fraud, fraud_product, risk", "owners fraud_product, ml_fraud, risk"),
    ("owner serving\n", 'owner serving\n    description "the canary"\n'),
    ('definition "chargeback', 'definition "a chargeback'),
    ("retries 2", "retries 3"),
    ("timeout 2h", "timeout 3h"),
]


def test_owners_descriptions_and_retries_keep_every_definition_hash(tmp_path: Path) -> None:
    """A new owner must not invalidate cached results; `dag_hash`, which the run record
    and the registry keep, still shows that the program changed."""
    folder = _project(tmp_path, "fraud")
    original = (folder / "fraud.pipe").read_text("utf-8")
    base = _manifest(folder, original, "a.pipe")
    for old, new in METADATA_EDITS:
        assert old in original, old
        edited = _manifest(folder, original.replace(old, new, 1))
        assert _changed(base, edited) == set(), (old, new)
        assert edited["dag_hash"] != base["dag_hash"], (old, new)


def test_the_pipeline_s_retries_and_timeout_keep_every_definition_hash(tmp_path: Path) -> None:
    """Validate stages inherit them too, and hashed them with their policy: `retries 2`
    for the pipeline re-ran every validation and retrained the model behind them."""
    folder = _project(tmp_path, "flights")
    original = (folder / "flights.pipe").read_text("utf-8")
    base = _manifest(folder, original, "a.pipe")
    for old, new in (("  retries 1\n", "  retries 2\n"), ("  timeout 30m\n", "  timeout 45m\n")):
        assert old in original, old
        edited = _manifest(folder, original.replace(old, new, 1))
        assert _changed(base, edited) == set(), (old, new)
        assert edited["dag_hash"] != base["dag_hash"], (old, new)


def test_a_validate_policy_stays_in_its_hash(tmp_path: Path) -> None:
    """A validate stage's `on_failure` decides whether a failed check blocks the run."""
    folder = _project(tmp_path, "fraud")
    original = (folder / "fraud.pipe").read_text("utf-8")
    base = _manifest(folder, original, "a.pipe")
    text = original.replace("    range disputed_amount >= 0\n", "    range disputed_amount >= 0\n"
                            "    on_failure block  # pipec: ignore[VAL001] a test\n")
    assert _changed(base, _manifest(folder, text)) == set()  # block is the default
    text = text.replace("on_failure block  #", 'on_failure alert "chargebacks"  #')
    assert _changed(base, _manifest(folder, text)) == {"validate.chargebacks"}


def test_stages_that_differ_only_in_name_have_different_hashes(tmp_path: Path) -> None:
    """A view's name names its columns in the examples table (`VIEW__COLUMN`)."""
    folder = _project(tmp_path, "flights")
    text = (folder / "flights.pipe").read_text("utf-8")
    view = re.search(r"  features planes version 1 \{\n.*?\n  \}\n", text, re.S).group(0)
    text = text.replace(view, view + "\n" + view.replace("features planes ", "features fleet "))
    hashes = [s["definition_hash"] for s in _manifest(folder, text)["stages"]]
    assert len(set(hashes)) == len(hashes)
