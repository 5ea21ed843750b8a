"""The command line on bad input and odd surroundings: a clear message with exit 2 (or
a diagnostic at the right place), never "internal error"; outputs follow symlinks and
get ordinary permissions; options work wherever argparse lets them be written."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import stat
from pathlib import Path

import jsonschema
import pytest
from conftest import EXAMPLES, REPO
from pipec.cli import build_parser, main

GRAPH_SCHEMA = REPO / "docs" / "graph.schema.json"


@pytest.fixture
def fraud(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A copy of the fraud example, the working directory being its folder."""
    folder = tmp_path / "fraud"
    shutil.copytree(EXAMPLES / "fraud", folder)
    monkeypatch.chdir(folder)
    return folder / "fraud.pipe"


def _unreadable(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """Emulate mode 000 (the tests may run as root, who reads anything): `Path.open`,
    which `read_bytes` and pipec's own readability check go through, refuses `name`."""
    real_open = Path.open

    def refusing(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if self.name == name:
            raise PermissionError(13, "Permission denied", str(self))
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", refusing)


def _no_internal_error(err: str) -> None:
    assert "internal error" not in err and "Traceback" not in err


# ---------------------------------------------------------------- 6: unreadable files


def test_unreadable_import_is_p002_at_the_import(tmp_path: Path, monkeypatch:
                                                 pytest.MonkeyPatch, capsys) -> None:
    (tmp_path / "secret.pipe").write_text('team x { contact "#x"; role ml }\n')
    main_file = tmp_path / "main.pipe"
    main_file.write_text('# shared teams\nimport "secret.pipe"\n')
    _unreadable(monkeypatch, "secret.pipe")
    assert main(["check", "--format", "json", str(main_file)]) == 1
    out, err = capsys.readouterr()
    _no_internal_error(err)
    [diagnostic] = json.loads(out)
    assert diagnostic["code"] == "P002" and "cannot read" in diagnostic["message"]
    assert (diagnostic["line"], diagnostic["column"]) == (2, 8)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads mode-000 files")
def test_mode_000_import_is_p002(tmp_path: Path, capsys) -> None:  # pragma: no cover
    secret = tmp_path / "secret.pipe"
    secret.write_text('team x { contact "#x"; role ml }\n')
    secret.chmod(0)
    main_file = tmp_path / "main.pipe"
    main_file.write_text('import "secret.pipe"\n')
    assert main(["check", str(main_file)]) == 1
    assert "P002" in capsys.readouterr().out


def test_run_of_an_unreadable_file_says_cannot_read(fraud: Path, monkeypatch:
                                                    pytest.MonkeyPatch, capsys) -> None:
    _unreadable(monkeypatch, fraud.name)
    assert main(["run", str(fraud)]) == 2
    err = capsys.readouterr().err
    _no_internal_error(err)
    assert f"cannot read `{fraud}`" in err


@pytest.mark.parametrize("output", [".", "..", "../fraud"])
def test_build_refuses_the_current_folder_and_the_sources_folder(fraud: Path, output: str,
                                                                 capsys) -> None:
    before = sorted(p.name for p in fraud.parent.parent.iterdir())
    assert main(["build", "fraud.pipe", "--target", "local", "-o", output]) == 2
    err = capsys.readouterr().err
    _no_internal_error(err)
    assert f"refusing to write into `{output}`" in err
    assert sorted(p.name for p in fraud.parent.parent.iterdir()) == before
    assert not list(fraud.parent.glob("run_*.py"))


def test_build_refuses_a_folder_holding_the_source(fraud: Path, monkeypatch:
                                                   pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(fraud.parent.parent)
    assert main(["build", "fraud/fraud.pipe", "--target", "local", "-o", "fraud"]) == 2
    assert "holds the source `fraud/fraud.pipe`" in capsys.readouterr().err


@pytest.mark.parametrize("output", ["afile", "afile/sub"])
def test_build_into_a_file_is_a_usage_error(fraud: Path, output: str, capsys) -> None:
    (fraud.parent / "afile").write_text("keep me\n")
    assert main(["build", "fraud.pipe", "--target", "local", "-o", output]) == 2
    err = capsys.readouterr().err
    _no_internal_error(err)
    assert "afile" in err and ("is a file" in err or "not a folder" in err)
    assert (fraud.parent / "afile").read_text() == "keep me\n"


@pytest.mark.parametrize("command", [["build", "fraud.pipe", "--target", "argo"],
                                     ["docs", "fraud.pipe"]])
@pytest.mark.parametrize("output", ["loop", "loop/sub"])
def test_an_output_through_a_symlink_loop_names_the_loop(fraud: Path, command: list[str],
                                                         output: str, capsys) -> None:
    (fraud.parent / "loop").symlink_to("loop")
    assert main([*command, "-o", output]) == 2
    err = capsys.readouterr().err
    _no_internal_error(err)
    assert "`loop` is a symbolic link that leads back to itself (a loop)" in err


def test_docs_refuses_the_current_folder(fraud: Path, capsys) -> None:
    assert main(["docs", "fraud.pipe", "-o", "."]) == 2
    assert "current folder" in capsys.readouterr().err
    assert not (fraud.parent / "manifest.json").exists()


# ------------------------------------------------------------ 7: symlinks, permissions


def test_build_writes_through_a_symlinked_output(fraud: Path, tmp_path: Path) -> None:
    real = tmp_path / "real"
    real.mkdir()
    (fraud.parent / "dags").symlink_to(Path("..") / "real", target_is_directory=True)
    assert main(["build", "fraud.pipe", "--target", "local", "-o", "dags"]) == 0
    assert (fraud.parent / "dags").is_symlink()
    assert (real / "lineage.json").is_file() and list(real.glob("run_*.py"))


def test_fmt_writes_through_a_symlinked_file(tmp_path: Path) -> None:
    real = tmp_path / "real.pipe"
    real.write_text('team   a {  contact "#a" ; role ml }\n')
    link = tmp_path / "link.pipe"
    link.symlink_to("real.pipe")
    assert main(["fmt", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == "real.pipe"
    assert real.read_text() != 'team   a {  contact "#a" ; role ml }\n'
    assert main(["fmt", "--check", str(real)]) == 0


@pytest.mark.parametrize("umask", [0o022, 0o027])
def test_new_build_folder_gets_the_umask_mode(fraud: Path, umask: int) -> None:
    previous = os.umask(umask)
    try:
        assert main(["build", "fraud.pipe", "--target", "local", "-o", "out/local"]) == 0
    finally:
        os.umask(previous)
    assert stat.S_IMODE((fraud.parent / "out" / "local").stat().st_mode) == 0o777 & ~umask


@pytest.mark.parametrize("into", ["new", "existing"])
def test_the_local_script_is_executable_and_the_manifest_is_not(fraud: Path,
                                                                into: str) -> None:
    """`run_<pipeline>.py` starts with `#!`: `./run_fraud_detection.py` must run it, in a
    new build folder and in one that exists (written file by file)."""
    out = fraud.parent / "out"
    if into == "existing":
        out.mkdir()
    umask = os.umask(0o022)
    try:
        assert main(["build", "fraud.pipe", "--target", "local", "-o", "out"]) == 0
    finally:
        os.umask(umask)
    assert stat.S_IMODE((out / "run_fraud_detection.py").stat().st_mode) == 0o755
    assert stat.S_IMODE((out / "lineage.json").stat().st_mode) == 0o644


def test_existing_build_folder_keeps_its_mode(fraud: Path) -> None:
    out = fraud.parent / "out"
    out.mkdir(mode=0o700)
    out.chmod(0o711)
    assert main(["build", "fraud.pipe", "--target", "local", "-o", "out"]) == 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o711


# ------------------------------------------------- 8: options before or after the action


@pytest.mark.parametrize("command", ["runs", "registry"])
def test_project_before_or_after_the_action(command: str) -> None:
    def project(*words: str) -> str:
        return build_parser([command, *words]).parse_args([command, *words]).project

    assert project("--project", "P", "list") == "P"
    assert project("list", "--project", "P") == "P"
    assert project("--project", "A", "list", "--project", "B") == "B"
    assert project("list") == "."
    assert project("--project", "P") == "P"


def test_runs_project_before_list_end_to_end(tmp_path: Path, capsys) -> None:
    (tmp_path / ".pipec").mkdir()
    assert main(["runs", "--project", str(tmp_path), "list"]) == 0
    # The `--project` given before `list` is the store read (empty, and said so).
    assert f"no runs recorded yet in `{tmp_path / '.pipec'}`" in capsys.readouterr().err


# ----------------------------------------------------------------- 9: --select/--ignore


LEAKY = EXAMPLES / "flights" / "variants" / "leaky.pipe"


@pytest.mark.parametrize(("option", "value", "hint"), [
    ("--select", "BOGUS", "`pipec explain` lists them"),
    ("--select", "leak008", "did you mean `LEAK008`"),
    ("--select", "LEAK,LEKA002", "did you mean `LEAK002`"),
    ("--ignore", "OWN01x", "did you mean"),
    ("--select", "LEAK,", "empty entry"),
])
def test_unknown_codes_are_a_usage_error(option: str, value: str, hint: str, capsys) -> None:
    assert main(["check", option, value, str(LEAKY)]) == 2
    out, err = capsys.readouterr()
    assert out == "" and hint in err and f"--{option.strip('-')}" in err


def test_known_codes_and_prefixes_still_select(capsys) -> None:
    assert main(["check", "--select", "LEAK", str(LEAKY)]) == 1
    assert main(["check", "--select", "LEAK008", str(LEAKY)]) == 1
    assert main(["check", "--ignore", "LEAK008", str(LEAKY)]) == 0
    capsys.readouterr()


# --------------------------------------------------------------- 10: invalid UTF-8 text


def test_invalid_utf8_shows_the_line_and_a_caret(tmp_path: Path, monkeypatch:
                                                 pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.chdir(tmp_path)
    Path("bad.pipe").write_bytes(b'team a { contact "#a"; role ml }\nteam b { co\xffntact }\n')
    assert main(["check", "bad.pipe"]) == 1
    out = capsys.readouterr().out
    assert "--> bad.pipe:2:12" in out
    assert "2 | team b { co\ufffdntact }" in out
    caret = next(line for line in out.splitlines() if line.strip().startswith("|")
                 and "^" in line)
    source = next(line for line in out.splitlines() if line.startswith("2 |"))
    assert source[caret.index("^")] == "\ufffd"


# ------------------------------------------------------------- 11: no .pipe files found


@pytest.mark.parametrize("command", [["check"], ["fmt"], ["docs", "-o", "site"]])
def test_a_folder_without_pipe_files_says_so(tmp_path: Path, command: list[str],
                                             capsys) -> None:
    empty = tmp_path / "emptydir"
    empty.mkdir()
    (empty / "notes.txt").write_text("nothing to see\n")
    assert main([command[0], str(empty), *command[1:]]) == 2
    assert f"no .pipe files found in `{empty}`" in capsys.readouterr().err


# --------------------------------------------------------- 12: run with nothing to run


@pytest.mark.parametrize("text", ['team x { contact "#x"; role ml }\n', ""])
def test_run_without_a_pipeline_is_a_usage_error(tmp_path: Path, text: str, capsys) -> None:
    path = tmp_path / "nothing.pipe"
    path.write_text(text)
    assert main(["run", str(path), "--project", str(tmp_path)]) == 2
    assert f"no pipeline in `{path}`" in capsys.readouterr().err
    assert not (tmp_path / ".pipec").exists()  # and no run record


def test_run_from_after_until_is_a_usage_error(fraud: Path, capsys) -> None:
    assert main(["run", "fraud.pipe", "--from", "deploy", "--until", "split"]) == 2
    assert "is not upstream of `--until split`" in capsys.readouterr().err
    assert not (fraud.parent / ".pipec").exists()


# ---------------------------------------------------------- 5: the published graph schema


def _graph_examples() -> list[Path]:
    """Every example that declares a pipeline (a teams-only file has no graph)."""
    return sorted(p for p in EXAMPLES.glob("*/*.pipe") if "\npipeline " in p.read_text())


@pytest.mark.parametrize("example", _graph_examples(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_graph_json_validates_against_the_published_schema(example: Path, capsys) -> None:
    schema = json.loads(GRAPH_SCHEMA.read_text("utf-8"))
    jsonschema.Draft202012Validator.check_schema(schema)
    assert main(["graph", str(example), "--format", "json"]) == 0
    graph = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator(schema).validate(graph)
    assert graph["schema"] == schema["$id"]
    ids = {node["id"] for node in graph["nodes"]}
    assert all({e["source"], e["target"]} <= ids for e in graph["edges"])


def test_graph_schema_is_not_vacuous(capsys) -> None:
    schema = json.loads(GRAPH_SCHEMA.read_text("utf-8"))
    assert main(["graph", str(EXAMPLES / "fraud" / "fraud.pipe"), "--format", "json"]) == 0
    graph = json.loads(capsys.readouterr().out)
    validator = jsonschema.Draft202012Validator(schema)
    for broken in (dict(graph, schema="pipec-graph-v0"), dict(graph, extra=1),
                   dict(graph, nodes=[{k: v for k, v in graph["nodes"][0].items()
                                       if k != "owner"}]),
                   dict(graph, nodes=[dict(n, gates=[{"kind": "vibes"}])
                                      for n in graph["nodes"] if n["kind"] == "evaluate"]),
                   dict(graph, edges=[dict(graph["edges"][0], target=None)])):
        assert not validator.is_valid(broken)


# ------------------------------------------------------------------ 14: the README tour


def test_readme_docs_tour_line_works(tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                     capsys) -> None:
    [line] = [line for line in (REPO / "README.md").read_text("utf-8").splitlines()
              if line.startswith("pipec docs ")]
    words = shlex.split(line.partition("#")[0])[1:]
    words[words.index("-o") + 1] = str(tmp_path / "site")
    monkeypatch.chdir(REPO)
    assert main(words) == 0, capsys.readouterr()
    assert (tmp_path / "site" / "index.html").is_file()


# ------------------------------------------------- one file named two ways, checked once


def test_a_file_named_two_ways_is_checked_once(fraud: Path, capsys) -> None:
    fraud.write_text(fraud.read_text().replace("owner ml_fraud", "owner nobody", 1))
    assert main(["check", "fraud.pipe", str(fraud), "./fraud.pipe"]) == 1
    out = capsys.readouterr().out
    assert out.count("error[OWN002]") == 1 and "--> fraud.pipe:" in out


@pytest.mark.parametrize("command", [["check"], ["docs", "-o", "site"]])
def test_an_imported_file_also_named_reports_its_errors_once(fraud: Path, command: list[str],
                                                             capsys) -> None:
    teams = fraud.parent / "teams.pipe"
    teams.write_text(teams.read_text() + '\nteam broken { contact "#x"; role wizard }\n')
    assert main([command[0], ".", *command[1:]]) == 1
    captured = capsys.readouterr()
    assert (captured.out + captured.err).count("error[P001]") == 1


def test_graph_of_a_file_without_a_pipeline_is_a_usage_error(capsys) -> None:
    assert main(["graph", str(EXAMPLES / "fraud" / "teams.pipe")]) == 2
    assert "no pipeline in" in capsys.readouterr().err
