"""`pipec runs`, `pipec registry` and `pipec lineage` as a demanding user types them: an
option before the action word is used or refused, never dropped; an unknown run id is
answered with the run it likely means; a diff of two pipelines' runs says so; promoting
the production version says nothing was recorded; a repeated gate is answered once."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pipec.cli import main
from pipec.stdlib.runtime import serialize
from pipec.stdlib.runtime.registry import Registry
from support.records import run_record, stored

FIRST, SECOND = "786dd6d6039d4c66", "cf271665dae24317"
IMAGE = "pipec/train@sha256:" + "ab" * 32
GATE = {"line": "features compatible", "passed": True, "observed": True,
        "blocking": True, "kind": "features_compatible", "note": ""}


def _record(run_id: str, pipeline: str = "p", **changes: Any) -> dict[str, Any]:
    return run_record(run_id, GATE, IMAGE, pipeline, **changes)


def _registry(folder: Path) -> None:
    """Model `m` v1, a candidate registered by run FIRST."""
    registry = Registry(folder / "registry")
    try:
        registry.register("m", b"m", serialize.sha256(b"m"), run_id=FIRST,
                          report_sha256="report-m", actor="ml", info={})
    finally:
        registry.close()


def _history(folder: Path) -> list[dict[str, Any]]:
    registry = Registry(folder / "registry")
    try:
        return registry.transitions("m")
    finally:
        registry.close()


def _pipec(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("command", [
    ["runs", "--format", "json", "list"],
    ["runs", "--format", "json", "show", FIRST],
    ["runs", "--format", "json", "diff", FIRST, SECOND],
    ["registry", "--format", "json", "list"],
    ["registry", "--format", "json", "show", "m@1"],
    ["lineage", "--format", "json", "m@1"],
])
def test_format_before_the_action_word_is_used(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str]) -> None:
    """`pipec registry --format json show M` prints JSON: the action's own default
    `text` does not replace the value given before the action word."""
    stored(tmp_path, _record(FIRST), _record(SECOND))
    _registry(tmp_path)
    code, out, err = _pipec(capsys, *command, "--project", str(tmp_path))
    assert code == 0, err
    json.loads(out)


@pytest.mark.parametrize("action", [["show", FIRST], ["diff", FIRST, SECOND]])
def test_limit_before_show_or_diff_is_refused(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], action: list[str]) -> None:
    """`runs --limit 1 show RUN` read `--limit` and then ignored it: now a usage error
    naming the option; before `list` (or alone) it still limits the listing."""
    stored(tmp_path, _record(FIRST), _record(SECOND))
    code, out, err = _pipec(capsys, "runs", "--limit", "1", *action, "--project", str(tmp_path))
    assert code == 2 and out == "", out
    assert f"`--limit` applies to `runs list` only, not `runs {action[0]}`" in err, err
    code, out, _ = _pipec(capsys, "runs", "--limit", "1", "list", "--project", str(tmp_path))
    assert code == 0 and len(out.splitlines()) == 1, out
    code, out, _ = _pipec(capsys, "runs", "list", "--project", str(tmp_path))
    assert code == 0 and len(out.splitlines()) == 2, out


def test_verify_before_a_state_change_is_refused_and_nothing_changes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`registry --verify promote m@1` promoted without a word about `--verify`: now it
    is refused before anything is recorded. Before `list`, `show` or alone it hashes."""
    _registry(tmp_path)
    before = _history(tmp_path)
    code, out, err = _pipec(capsys, "registry", "--verify", "promote", "m@1",
                            "--project", str(tmp_path))
    assert code == 2 and out == "", out
    assert "`--verify` applies to `registry list` and `registry show` only" in err, err
    assert _history(tmp_path) == before
    for words, checked in ((["registry", "--verify"], True), (["registry"], False),
                           (["registry", "--verify", "list"], True)):
        code, out, err = _pipec(capsys, *words, "--format", "json", "--project", str(tmp_path))
        assert code == 0, err
        assert json.loads(out)[0]["model_file"]["hash_checked"] is checked, words


@pytest.mark.parametrize(("typed", "meant"), [
    ("786dd6d6039d4c67", FIRST),  # a digit mistyped
    ("786dd6d6039d4c66x", FIRST),  # a character too many
    ("786D", FIRST),  # the right start in another case
])
def test_an_unknown_run_id_names_the_run_it_likely_means(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], typed: str, meant: str) -> None:
    stored(tmp_path, _record(FIRST), _record(SECOND))
    code, out, err = _pipec(capsys, "runs", "show", typed, "--project", str(tmp_path))
    assert code == 2 and out == ""
    assert f"no run `{typed}`; did you mean `{meant}`? (`pipec runs list --project " in err, err


def test_an_unknown_run_id_in_an_empty_store_says_it_is_empty(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """No run to mean: the store holds none yet (`runs list` prints nothing there); with
    runs but none close, the plain `no run` (a guess would mislead)."""
    empty = tmp_path / "empty"
    stored(empty)
    code, _, err = _pipec(capsys, "runs", "show", "zzz", "--project", str(empty))
    assert code == 2 and "no run `zzz`: " in err and "holds no run record yet" in err, err
    full = stored(tmp_path / "full", _record(FIRST))
    code, _, err = _pipec(capsys, "runs", "diff", FIRST, "zzz", "--project", str(full))
    assert code == 2 and err == "pipec: no run `zzz`\n", err


def test_diff_of_runs_of_two_pipelines_says_so_first(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """Every stage of one pipeline is null in the other's run: the one line that says
    why comes on stderr (the JSON on stdout stays a document); two runs of one pipeline
    get no such note."""
    stored(tmp_path, _record(FIRST), _record(SECOND, pipeline="q"), _record("run3"))
    code, out, err = _pipec(capsys, "runs", "diff", FIRST, SECOND, "--format", "json",
                            "--project", str(tmp_path))
    assert code == 0 and json.loads(out)["pipeline"] == ["p", "q"]
    assert f"run {FIRST} is of pipeline `p`, run {SECOND} of `q`" in err, err
    code, _, err = _pipec(capsys, "runs", "diff", FIRST, "run3", "--project", str(tmp_path))
    assert code == 0 and err == "", err


def test_promoting_the_production_version_says_nothing_was_recorded(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A second promote changes nothing and drops its `--reason`: the line says so
    rather than repeating `is production` as if the reason were in the history."""
    _registry(tmp_path)
    code, out, err = _pipec(capsys, "registry", "promote", "m@1", "--project", str(tmp_path))
    assert code == 0 and out.strip() == "m@1 is production", out + err
    history = _history(tmp_path)
    code, out, err = _pipec(capsys, "registry", "promote", "m@1", "--reason", "incident 7",
                            "--project", str(tmp_path))
    assert code == 0 and out.strip() == "m@1 was already production; nothing recorded", out
    assert _history(tmp_path) == history


def test_lineage_answers_a_repeated_gate_once(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A stage's own `features compatible` and its gate set's are one gate to a reader,
    as `pipec run` and `runs show` print them; the record keeps both."""
    evaluations = {"m": {"blessed": True, "report_sha256": "report-m", "gates": [GATE, GATE]}}
    stored(tmp_path, _record(FIRST, evaluations=evaluations))
    _registry(tmp_path)
    code, out, err = _pipec(capsys, "lineage", "m@1", "--format", "json",
                            "--project", str(tmp_path))
    assert code == 0, err
    gates = json.loads(out)["7. which gates and approvals"]["gates"]
    assert gates == ["pass features compatible (true)"], gates


def test_a_command_option_before_the_command_says_where_it_goes(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`pipec --format json runs` was refused as `invalid choice: 'json'`: argparse took
    the option's value for the command. The refusal names the option and its place;
    pipec's own `--debug` before the command still works."""
    stored(tmp_path, _record(FIRST))
    with pytest.raises(SystemExit) as stopped:
        main(["--format", "json", "runs", "--project", str(tmp_path)])
    _, err = capsys.readouterr()
    assert stopped.value.code == 2
    assert "`--format` goes after the command, as in `pipec runs --format ...`" in err, err
    assert "invalid choice" not in err
    code, out, err = _pipec(capsys, "--debug", "runs", "--project", str(tmp_path))
    assert code == 0 and out.startswith(FIRST), out + err


def test_rollback_of_an_unknown_model_names_the_ones_there_are(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A typo in `registry rollback MODEL` said the model `has no production version to
    roll back`, as if it existed; `show` and `promote` name the models there are."""
    _registry(tmp_path)
    code, out, err = _pipec(capsys, "registry", "rollback", "mx", "--project", str(tmp_path))
    assert code == 2 and out == ""
    assert err == "pipec: no model `mx` in the registry; did you mean `m`? it holds `m`\n", err


def test_show_says_a_version_found_archived_was_already_registered(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A re-run registering the same bytes finds their version as it is now: `pipec run`
    says `already registered (archived)`, and `runs show` said `v1 archived`, as if this
    run had archived it."""
    def register(state: str) -> dict[str, Any]:
        return {"m": {"model": "m", "version": 1, "state": state, "registry": "registry/",
                      "sha256": serialize.sha256(b"m")}}

    stored(tmp_path, _record(FIRST, register=register("candidate")),
           _record(SECOND, register=register("archived")))
    code, out, err = _pipec(capsys, "runs", "show", SECOND, "--project", str(tmp_path))
    assert code == 0 and "  register  m: v1 already registered (archived)\n" in out, out + err
    code, out, err = _pipec(capsys, "runs", "show", FIRST, "--project", str(tmp_path))
    assert code == 0 and "  register  m: v1 candidate\n" in out, out + err


def test_json_of_runs_keeps_non_ascii_text_as_show_does(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`runs list` and `runs diff` print `Zürich` as `runs show` does, not `Z\\u00fcrich`:
    the same record reads the same in the three commands (and a diff greps)."""
    stored(tmp_path, _record(FIRST, pipeline="zürich"), _record(SECOND, pipeline="genève"))
    for command in (["list"], ["show", FIRST], ["diff", FIRST, SECOND]):
        code, out, err = _pipec(capsys, "runs", *command, "--format", "json",
                                "--project", str(tmp_path))
        assert code == 0 and "\\u00" not in out and "zürich" in out, out + err
        json.loads(out)


@pytest.mark.parametrize("login", ["raises", "\udcffbob"])
def test_a_user_without_a_usable_login_name_is_recorded_by_uid(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch,
        login: str) -> None:
    """A container run under a uid the system does not name has no login name
    (`getpass.getuser` raises), and a name typed with bytes that are not UTF-8 cannot be
    stored: `promote` and `approve` record `uid N` instead of failing inside."""
    import getpass
    import os

    if login == "raises":
        def no_name() -> str:
            raise KeyError("getpwuid(): uid not found: 1000660000")

        monkeypatch.setattr(getpass, "getuser", no_name)
    else:
        for name in ("LOGNAME", "USER", "LNAME", "USERNAME"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("LOGNAME", login)
    registry = Registry(tmp_path / "registry")
    try:
        registry.register("m", b"m", serialize.sha256(b"m"), run_id=FIRST,
                          report_sha256="report-m", actor="ml", info={"approval_by": "risk"})
    finally:
        registry.close()
    code, out, err = _pipec(capsys, "registry", "approve", "m@1", "--by", "risk",
                            "--project", str(tmp_path))
    assert code == 0 and f"approved by uid {os.getuid()} (risk)" in out, out + err
    code, out, err = _pipec(capsys, "registry", "promote", "m@1", "--project", str(tmp_path))
    assert code == 0, out + err
    assert _history(tmp_path)[-1]["actor"] == f"uid {os.getuid()}"
