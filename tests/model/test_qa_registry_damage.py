"""`pipec registry` over a registry with something wrong in it, on real runs: one damaged
entry (a row edited by hand) or one missing or altered model file is shown as such and
the other versions as usual; `show` says whether the version's model can be loaded;
`promote` refuses a model nobody could load; an unknown name gets the names there are;
`approve --report` approves only the report the reviewer read; a version that a later
run refused keeps what its failed gates measured and their notes in its history."""

from __future__ import annotations

import io
import json
import shutil
import sqlite3
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from conftest import REPO
from model.project import program, write_project
from pipec.cli import main
from pipec.stdlib.runtime import serialize
from pipec.stdlib.runtime.registry import Registry, RegistryError

SCHEMA = json.loads((REPO / "docs" / "registry.schema.json").read_text("utf-8"))


def _run(folder: Path, expected: int) -> str:
    done = subprocess.run([sys.executable, "-m", "pipec", "run", "spend.pipe"],
                          capture_output=True, text=True, cwd=folder, timeout=600)
    output = done.stdout + done.stderr
    assert done.returncode == expected, output[-3000:]
    assert "Traceback" not in output
    return output


def _registry(folder: Path, *args: str) -> tuple[int, str, str]:
    """`pipec registry ARGS` on the project's registry, in process."""
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["registry", *args, "--project", str(folder)])
    assert "internal error" not in err.getvalue() and "Traceback" not in err.getvalue()
    return code, out.getvalue(), err.getvalue()


def _json(folder: Path, *args: str, code: int = 0) -> Any:
    got, out, err = _registry(folder, *args, "--format", "json")
    assert got == code, out + err
    shown = json.loads(out)
    jsonschema.Draft202012Validator(SCHEMA).validate(shown)
    return shown


@pytest.fixture(scope="module")
def waiting(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """`approval by risk`: v1 (C 1.0) and v2 (C 0.5) registered, both waiting."""
    folder = tmp_path_factory.mktemp("waiting")
    write_project(folder, approval=True)
    _run(folder, 3)
    (folder / "spend.pipe").write_text(program(approval=True, c=0.5), "utf-8")
    _run(folder, 3)
    return folder


@pytest.fixture()
def project(waiting: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "project"
    shutil.copytree(waiting, copy)
    return copy


def _edit(folder: Path, sql: str) -> None:
    con = sqlite3.connect(folder / "registry" / "registry.sqlite")
    with con:
        con.execute(sql)
    con.close()


def _model_file(folder: Path, version: int) -> Path:
    registry = Registry(folder / "registry")
    try:
        return registry.object_path(registry.get("model", version).sha256)
    finally:
        registry.close()


# One damaged entry -----------------------------------------------------------------------
@pytest.mark.parametrize("column, value, why", [
    ("info", "'not json'", "`info` is not JSON"),
    ("info", "'[1]'", "`info` is not a JSON object"),
    ("created_at", "'yesterday'", "`created_at` is not a time"),
    ("sha256", "'../../registry'", "`sha256` is not a sha256 hash"),
])
def test_one_damaged_entry_is_marked_and_every_other_version_listed(
        project: Path, column: str, value: str, why: str) -> None:
    """`list` and `show MODEL` failed (exit 2, or an internal error) for one row edited
    by hand. Now `list` shows every version, the damaged one marked with the reason
    (exit 0: the listing is complete); `show` of another version answers as before;
    `show` of the damaged one shows what it can and exits 2."""
    _edit(project, f"UPDATE versions SET {column} = {value} WHERE version = 1")
    code, out, _ = _registry(project, "list")
    assert code == 0
    first, second = out.splitlines()
    assert first.startswith("model@1  candidate") and f"! DAMAGED ENTRY: {why}" in first
    assert second.startswith("model@2  candidate") and "!" not in second
    listed = _json(project, "list")
    assert listed[0]["damaged"] == f"model v1: its registry entry is damaged ({why})"
    assert listed[1]["version"] == 2 and listed[1]["model_file"]["problem"] is None
    assert _json(project, "show", "model")["version"] == 2
    code, out, err = _registry(project, "show", "model@1")
    assert code == 2 and "model@1  candidate  DAMAGED ENTRY" in out
    assert f"  damaged     {why}" in out and "registered (blessed)" in out
    assert f"pipec: model v1: its registry entry is damaged ({why})" in err
    shown = _json(project, "show", "model@1", code=2)
    assert shown["transitions"][0]["reason"] == "registered (blessed)"


def test_lineage_and_approve_of_a_sound_version_beside_a_damaged_one(project: Path) -> None:
    """`lineage MODEL` read every version of the model before choosing one."""
    _edit(project, "UPDATE versions SET info = 'not json' WHERE version = 1")
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        code = main(["lineage", "model", "--project", str(project)])
    assert code == 0 and out.getvalue().startswith("lineage of model@2"), err.getvalue()
    assert _registry(project, "approve", "model@2", "--by", "risk")[0] == 0
    code, _, err = _registry(project, "approve", "model@1", "--by", "risk")
    assert code == 2 and "model v1: its registry entry is damaged" in err


def test_registering_again_over_a_damaged_entry_names_it() -> None:
    """The same bytes registered again over an entry whose `info` cannot be read (its
    `approval by` unknown): a RegistryError naming the version, not a JSON parser's."""
    import tempfile

    with tempfile.TemporaryDirectory() as folder:
        registry = Registry(Path(folder))
        try:
            sha = serialize.sha256(b"m")
            registry.register("m", b"m", sha, run_id="r1", report_sha256="e1", info={},
                              actor="ml")
            registry.db.execute("UPDATE versions SET info = '{' WHERE version = 1")
            with pytest.raises(RegistryError, match=r"m v1: its registry entry is damaged "
                                                    r"\(`info` is not JSON\)"):
                registry.register("m", b"m", sha, run_id="r2", report_sha256="e2",
                                  info={}, actor="ml")
        finally:
            registry.close()


# A missing or altered model file --------------------------------------------------------
def test_show_says_a_missing_model_file_and_exits_2(project: Path) -> None:
    """`show` printed the version as if it could be served."""
    _model_file(project, 1).unlink()
    code, out, err = _registry(project, "show", "model@1")
    assert code == 2
    assert "  model file  MISSING: objects/" in out and "nobody can load this version" in out
    assert err.startswith("pipec: model v1: model file ") and "is missing" in err
    assert "restore the file from a backup" in err
    assert _json(project, "show", "model@1", code=2)["model_file"] == {
        "name": _model_file(project, 1).name, "size_bytes": None, "problem": "missing",
        "hash_checked": False}
    for listing in (["list"], [], ["--verify"]):  # `registry` alone lists too
        code, out, _ = _registry(project, *listing)
        assert code == 0 and out.splitlines()[0].endswith("! MODEL FILE MISSING")
    code, out, _ = _registry(project, "show", "model@2")
    assert code == 0 and "intact (its sha256 checked)" in out


def test_show_hashes_the_model_file_and_list_does_with_verify(project: Path) -> None:
    """Altered bytes of the same size: `show` hashes a file of this size unasked; `list`
    looks at presence and size only, unless `--verify`."""
    path = _model_file(project, 2)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 1
    path.write_bytes(bytes(data))
    code, out, err = _registry(project, "show", "model")
    assert code == 2 and "  model file  ALTERED: objects/" in out
    assert "pipec: model v2: the model file was altered or corrupted" in err
    code, out, _ = _registry(project, "list")
    assert code == 0 and "!" not in out
    code, out, _ = _registry(project, "list", "--verify")
    assert code == 0 and out.splitlines()[1].endswith("! MODEL FILE ALTERED")
    checked = _json(project, "list", "--verify")[1]["model_file"]
    assert checked["problem"] == "altered" and checked["hash_checked"] is True
    assert checked["size_bytes"] == len(data)


def test_promote_refuses_a_model_whose_file_is_missing(project: Path) -> None:
    assert _registry(project, "approve", "model@1", "--by", "risk")[0] == 0
    _model_file(project, 1).unlink()
    code, _, err = _registry(project, "promote", "model@1")
    assert code == 2 and "model v1: model file" in err
    assert "v1 is not made production, as nobody could load it" in err
    assert [v["state"] for v in _json(project, "list")] == ["candidate", "candidate"]


# Unknown names ----------------------------------------------------------------------------
@pytest.mark.parametrize("ref, says", [
    ("modle", "no model `modle` in the registry; did you mean `model`? it holds `model`"),
    ("model@9", "model `model` has no version 9; its versions are 1, 2"),
])
def test_an_unknown_model_or_version_names_those_there_are(project: Path, ref: str,
                                                           says: str) -> None:
    for action in (["show", ref], ["approve", ref if "@" in ref else f"{ref}@1", "--by",
                                   "risk"]):
        code, _, err = _registry(project, *action)
        assert code == 2 and says in err, err


# approve --report ---------------------------------------------------------------------------
def test_approve_report_refuses_a_report_evaluated_since_it_was_reviewed(
        project: Path) -> None:
    """The reviewer read v1's report; a run evaluated v1 again (a new report) before the
    approval: `--report` refuses, records nothing, and names the new report."""
    reviewed = _json(project, "show", "model@1")["report_sha256"]
    text = program(approval=True).replace("guardrail recall >= 0.01 warn",
                                          "guardrail recall >= 0.02 warn")
    (project / "spend.pipe").write_text(text, "utf-8")
    _run(project, 3)  # the same bytes evaluated again: v1, bound to the new report
    now = _json(project, "show", "model@1")["report_sha256"]
    assert now != reviewed
    code, _, err = _registry(project, "approve", "model@1", "--by", "risk", "--report",
                             reviewed[:12])
    assert code == 2 and f"evaluation report is now {now}" in err
    assert f"not the {reviewed[:12]} you reviewed" in err and "nothing recorded" in err
    assert _json(project, "show", "model@1")["approval"] is None
    code, out, _ = _registry(project, "approve", "model@1", "--by", "risk", "--report",
                             now[:16].upper())
    assert code == 0 and f"for report {now};" in out  # the full hash it is bound to
    assert _json(project, "show", "model@1")["approval"]["team"] == "risk"


@pytest.mark.parametrize("report", ["abc", "zz" * 8, ""])
def test_approve_report_takes_a_prefix_of_12_hex_digits_at_least(project: Path,
                                                                 report: str) -> None:
    code, _, err = _registry(project, "approve", "model@2", "--by", "risk", "--report", report)
    assert code == 2 and "give at least its first 12 hex digits" in err
    assert _json(project, "show", "model@2")["approval"] is None


# Refused by a later run: the failed gates with their notes -------------------------------
def test_an_unblessed_mark_keeps_what_failed_gates_measured_and_their_notes(
        tmp_path: Path) -> None:
    """The history said `failed compare champion roc_auc >= -0.05` and no more: not
    that the champion could not be scored, nor why."""
    registry = Registry(tmp_path)
    try:
        registry.register("m", b"m", serialize.sha256(b"m"), run_id="r1", report_sha256="e1",
                          info={"approval_by": "risk"}, actor="ml")
        note = "champion v1 cannot be scored: its model file `x.skops` is missing"
        registry.mark_unblessed(registry.get("m", 1), run_id="r2", report_sha256="e2", failed=[
            {"line": "primary roc_auc >= 0.99", "kind": "primary", "observed": 0.93,
             "note": ""},
            {"line": "compare champion roc_auc >= -0.05", "kind": "compare_champion",
             "observed": None, "note": note},
            {"line": "latency p99 <= 1ms", "kind": "latency", "observed": 0.0122,
             "note": ""}])
        expected = (f"primary roc_auc >= 0.99: 0.93; compare champion roc_auc >= -0.05 "
                    f"({note}); latency p99 <= 1ms: 12.2ms")
        assert registry.transitions("m")[-1]["reason"] == f"not blessed by run r2: failed " \
                                                          f"{expected}"
        with pytest.raises(RegistryError, match="run r2: primary roc_auc >= 0.99: 0.93; "):
            registry.approve("m", 1, approver="ana", team="risk")
        assert registry.get("m", 1).info["unblessed"]["failed"] == [
            "primary roc_auc >= 0.99", "compare champion roc_auc >= -0.05",
            "latency p99 <= 1ms"]
    finally:
        registry.close()
    out, err = io.StringIO(), io.StringIO()
    with redirect_stdout(out), redirect_stderr(err):
        assert main(["registry", "show", "m@1", "--registry", str(tmp_path)]) == 0
    assert f"pipec: not blessed by run r2: failed {expected}" in out.getvalue()


def test_a_run_that_refuses_a_registered_version_records_the_gate_notes(
        tmp_path: Path) -> None:
    """v1 in production, v2 registered and waiting; v1's model file is then lost and a
    run evaluates v2 again: its `compare champion` line fails with a note saying why,
    and v2's history must say it too."""
    write_project(tmp_path)
    _run(tmp_path, 0)
    (tmp_path / "spend.pipe").write_text(program(approval=True, c=0.5), "utf-8")
    _run(tmp_path, 3)
    _model_file(tmp_path, 1).unlink()
    (tmp_path / "spend.pipe").write_text(program(approval=True, c=0.5).replace(
        "compare champion roc_auc >= -0.05", "compare champion roc_auc >= -0.04"), "utf-8")
    _run(tmp_path, 1)
    (reason,) = [t["reason"] for t in _json(tmp_path, "show", "model@2", code=0)["transitions"]
                 if t["reason"].startswith("not blessed")]
    assert "compare champion roc_auc >= -0.04 (champion v1 cannot be scored: its " \
           "model file" in reason
