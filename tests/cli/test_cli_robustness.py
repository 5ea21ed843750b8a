"""The command line when its surroundings fail: a reader that leaves, a full or closed
stdout, a file that opens but cannot be read, file names that are not UTF-8, empty
option values. The exit status says what happened (`--debug` never changes it), one bad
argument does not hide the others' results, and stdout carries only the output asked for."""

from __future__ import annotations

import errno
import io
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import EXAMPLES
from pipec.cli import main
from pipec.diagnostics import Diagnostic, Severity
from pipec.nodes import Span
from pipec.render import renderer
from pipec.rules import load_all

BAD = "pipeline p {\n  stage a { uses nothing }\n}\n"  # P001 at 2:3
UGLY = "pipeline   p {\n}\n"
PRETTY = "pipeline p {\n}\n"


def _pipec(*args: str, cwd: Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipec", *args], cwd=cwd, text=True,
                          **kwargs)  # type: ignore[call-overload]


def _clean(err: str) -> None:
    assert "internal error" not in err and "Traceback" not in err
    assert "Exception ignored" not in err


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The working directory, with `bad.pipe` (an error) and `ugly.pipe` (unformatted)."""
    (tmp_path / "bad.pipe").write_text(BAD)
    (tmp_path / "ugly.pipe").write_text(UGLY)
    monkeypatch.chdir(tmp_path)
    return tmp_path


# ------------------------------------------------------------- 1: the reader leaves


def test_a_reader_that_leaves_is_sigpipe_status_not_success(folder: Path) -> None:
    """`pipec check --format json bad.pipe | true` under `set -o pipefail` must fail:
    the status of a process killed by SIGPIPE, and no traceback."""
    read_end, write_end = os.pipe()
    os.close(read_end)  # the reader has left before pipec writes a byte
    try:
        result = _pipec("check", "--format", "json", "bad.pipe", cwd=folder,
                        stdout=write_end, stderr=subprocess.PIPE)
    finally:
        os.close(write_end)
    assert result.returncode == 141
    _clean(result.stderr)
    assert result.stderr == ""


def test_a_reader_that_leaves_part_way_through_a_large_output_is_sigpipe_status(
        tmp_path: Path) -> None:
    """`pipec graph big.pipe --format json | head -c 10`: megabytes of output, and the
    reader leaves after a few bytes. The status is still 141, not 0 with the rest lost."""
    program = tmp_path / "big.pipe"
    subprocess.run([sys.executable, str(Path(__file__).parents[2] / "tools" / "gen_program.py"),
                    "2000", "-o", str(program)], check=True)
    pipec = subprocess.Popen([sys.executable, "-m", "pipec", "graph", str(program),
                              "--format", "json"], stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE)
    assert pipec.stdout is not None and pipec.stderr is not None
    assert len(pipec.stdout.read(10)) == 10
    pipec.stdout.close()  # the reader leaves with most of the output unread
    assert pipec.wait(timeout=120) == 141
    assert pipec.stderr.read() == b""


# ------------------------------------------------------------- 2: --debug


def test_debug_adds_the_traceback_and_keeps_the_status(
        folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "pyproject.toml").write_text('[tool.pipec]\nstrict = "yes"\n')
    (folder / "x.pipe").write_text(PRETTY)
    assert main(["check", "x.pipe"]) == 2
    plain = capsys.readouterr().err
    assert "`strict` must be true or false" in plain and "Traceback" not in plain
    assert main(["--debug", "check", "x.pipe"]) == 2
    assert main(["check", "x.pipe", "--debug"]) == 2
    debug = capsys.readouterr().err
    assert "Traceback" in debug and "`strict` must be true or false" in debug


# ------------------------------------------------------------- 3: reading and writing fail


def _fails_when_read(monkeypatch: pytest.MonkeyPatch, name: str) -> None:
    """`name` opens, then fails with EIO when read, as `/proc/self/mem` or a failing disk
    does (`Path.open` is what `read_bytes` and pipec's readability check go through)."""
    real_open = Path.open

    class Failing(io.BytesIO):
        def read(self, *args: object) -> bytes:
            raise OSError(errno.EIO, os.strerror(errno.EIO))

    def opening(self: Path, *args: object, **kwargs: object):  # type: ignore[no-untyped-def]
        if self.name == name:
            return Failing()
        return real_open(self, *args, **kwargs)

    monkeypatch.setattr(Path, "open", opening)


def test_a_file_that_fails_when_read_does_not_hide_the_others(
        folder: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "mem.pipe").write_text(PRETTY)
    _fails_when_read(monkeypatch, "mem.pipe")
    assert main(["check", "--format", "json", "bad.pipe", "mem.pipe"]) == 2
    out, err = capsys.readouterr()
    _clean(err)
    assert "pipec: cannot read `mem.pipe`: Input/output error" in err
    assert [(d["file"], d["code"]) for d in json.loads(out)] == [("bad.pipe", "P001")]


@pytest.mark.skipif(not Path("/proc/self/mem").exists(), reason="Linux /proc only")
def test_proc_self_mem_is_an_unreadable_file(folder: Path) -> None:
    (folder / "mem.pipe").symlink_to("/proc/self/mem")
    result = _pipec("check", "bad.pipe", "mem.pipe", cwd=folder, capture_output=True)
    assert result.returncode == 2
    _clean(result.stderr)
    assert "cannot read `mem.pipe`: Input/output error" in result.stderr
    assert "bad.pipe:2:3" in result.stdout


def test_a_file_failing_after_the_check_is_named_not_an_internal_error(
        folder: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    """Readable when checked, failing when read a moment later: the file is blamed."""
    (folder / "x.pipe").write_text(PRETTY)

    def failing(self: Path) -> bytes:
        raise OSError(errno.EIO, os.strerror(errno.EIO))

    monkeypatch.setattr(Path, "read_bytes", failing)
    assert main(["graph", "x.pipe"]) == 2
    err = capsys.readouterr().err
    _clean(err)
    assert "cannot access `x.pipe`: Input/output error" in err


class _FullDevice(io.StringIO):
    def write(self, text: str) -> int:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def flush(self) -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_output_device_is_said_plainly(folder: Path, monkeypatch: pytest.MonkeyPatch,
                                              capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setattr(sys, "stdout", _FullDevice())
    assert main(["check", "--format", "json", "bad.pipe"]) == 2
    err = capsys.readouterr().err
    assert err == "pipec: cannot write the output: No space left on device\n"


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full")
def test_dev_full(folder: Path) -> None:
    with open("/dev/full", "w") as full:
        result = _pipec("check", "--format", "json", "bad.pipe", cwd=folder, stdout=full,
                        stderr=subprocess.PIPE)
    assert result.returncode == 2
    assert result.stderr == "pipec: cannot write the output: No space left on device\n"


def test_a_closed_stdout_runs_on_without_output(folder: Path) -> None:
    """`>&-`: the status is what it would be; nothing else is written in its place."""
    command = [sys.executable, "-m", "pipec", "check", "bad.pipe"]
    result = subprocess.run(["sh", "-c", '"$@" >&-', "sh", *command], cwd=folder,
                            capture_output=True, text=True)
    assert result.returncode == 1
    _clean(result.stderr)
    assert result.stderr == ""


def test_a_closed_stderr_does_not_spill_into_stdout(folder: Path) -> None:
    """With no stderr, Python's `print(file=sys.stderr)` would write to stdout."""
    command = [sys.executable, "-m", "pipec", "check", "--format", "json", "bad.pipe",
               "missing.pipe"]
    result = subprocess.run(["sh", "-c", '"$@" 2>&-', "sh", *command], cwd=folder,
                            stdout=subprocess.PIPE, text=True)
    assert result.returncode == 2
    assert [d["code"] for d in json.loads(result.stdout)] == ["P001"]


# ------------------------------------------------------------- 4: names that are not UTF-8


def _at(file: str) -> list[Diagnostic]:
    span = Span(file, 2, 3, 2, 8)
    return [Diagnostic("P001", Severity.ERROR, f"in `{file}`", span, f"see `{file}`")]


NOT_UTF8 = os.fsdecode(b"bad\xffname.pipe")  # a lone surrogate where the byte was


def test_sarif_percent_encodes_the_bytes_of_a_name() -> None:
    log = json.loads(renderer("sarif")(_at(NOT_UTF8), {}))
    [result] = log["runs"][0]["results"]
    uri = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    assert uri.endswith("bad%FFname.pipe")
    assert "\ufffd" in result["message"]["text"]


@pytest.mark.parametrize("output_format", ["json", "sarif", "github"])
def test_every_tool_format_is_valid_utf8(output_format: str) -> None:
    text = renderer(output_format)(_at(NOT_UTF8), {})
    text.encode("utf-8")  # no lone surrogate: it would be a raw byte or a crash


def test_json_shows_an_undecodable_byte_as_the_replacement_character() -> None:
    [entry] = json.loads(renderer("json")(_at(NOT_UTF8), {}))
    assert entry["file"] == "bad\ufffdname.pipe"
    assert "\ufffd" in entry["message"] and "\ufffd" in entry["help"]


def test_github_file_property_shows_control_characters_as_pictures() -> None:
    out = renderer("github")(_at("esc\x1bname.pipe"), {})
    assert "\x1b" not in out
    assert "esc\u241bname.pipe," in out  # file=, relative to the repository root


def test_a_name_that_is_not_utf8_through_the_command_line(
        folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    try:
        (folder / NOT_UTF8).write_text(BAD)
    except (OSError, UnicodeError):
        pytest.skip("this file system refuses names that are not UTF-8")
    (folder / "bad.pipe").unlink()
    (folder / "ugly.pipe").unlink()
    for output_format in ("sarif", "json", "github"):
        assert main(["check", "--format", output_format, "."]) == 1
        out, err = capsys.readouterr()
        _clean(err)
        out.encode("utf-8")
    assert main(["check", "--format", "sarif", "."]) == 1
    assert "bad%FFname.pipe" in capsys.readouterr().out


# ------------------------------------------------------------- 5: fmt goes on


@pytest.mark.parametrize("check", [[], ["--check"]])
def test_fmt_reports_a_missing_argument_and_goes_on(
        folder: Path, check: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fmt", *check, "missing.pipe", "ugly.pipe"]) == 2
    err = capsys.readouterr().err
    assert "cannot read `missing.pipe`" in err
    if check:
        assert "would reformat ugly.pipe" in err
        assert (folder / "ugly.pipe").read_text() == UGLY
    else:
        assert (folder / "ugly.pipe").read_text() == PRETTY


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="no FIFOs")
def test_fmt_reports_a_fifo_and_goes_on(folder: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    os.mkfifo(folder / "fifo.pipe")
    assert main(["fmt", "fifo.pipe", "ugly.pipe"]) == 2
    assert "cannot read `fifo.pipe`" in capsys.readouterr().err
    assert (folder / "ugly.pipe").read_text() == PRETTY


def test_fmt_reports_a_file_that_fails_when_read_and_goes_on(
        folder: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    (folder / "mem.pipe").write_text(UGLY)
    _fails_when_read(monkeypatch, "mem.pipe")
    assert main(["fmt", "mem.pipe", "ugly.pipe"]) == 2
    err = capsys.readouterr().err
    _clean(err)
    assert "cannot read `mem.pipe`: Input/output error" in err
    assert (folder / "ugly.pipe").read_text() == PRETTY


# ------------------------------------------------------------- 6: stdout is the output


def test_graph_diagnostics_go_to_stderr(folder: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "--format", "json", "bad.pipe"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "error[P001]" in err and "bad.pipe:2:3" in err


def test_fmt_diff_keeps_diagnostics_out_of_the_diff(
        folder: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["fmt", "--diff", "bad.pipe", "ugly.pipe"]) == 1
    out, err = capsys.readouterr()
    assert out.startswith("--- ugly.pipe\n+++ ugly.pipe\n")
    assert "P001" not in out and "error[P001]" in err


def test_explain_lists_rules_as_json(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["explain", "--format", "json"]) == 0
    listed = json.loads(capsys.readouterr().out)
    rules = load_all()
    assert [entry["code"] for entry in listed] == list(rules)
    assert all(set(entry) == {"code", "severity", "summary", "phase"} for entry in listed)
    assert main(["explain", "--format", "json", listed[0]["code"]]) == 0
    page = json.loads(capsys.readouterr().out)
    assert {k: page[k] for k in listed[0]} == listed[0]


# ------------------------------------------------------------- 7: empty option values


def test_build_with_an_empty_output_is_a_usage_error(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
        capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "fraud"
    shutil.copytree(EXAMPLES / "fraud", folder)
    monkeypatch.chdir(folder)
    with pytest.raises(SystemExit) as stopped:
        main(["build", "fraud.pipe", "--target", "local", "-o", ""])
    assert stopped.value.code == 2
    assert "-o/--output: must not be empty" in capsys.readouterr().err
    assert not (folder / "build").exists()


@pytest.mark.parametrize("option", ["--select", "--ignore"])
def test_check_with_an_empty_code_list_is_a_usage_error(
        folder: Path, option: str, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        main(["check", option, "", "bad.pipe"])
    assert stopped.value.code == 2
    assert f"{option}: must not be empty" in capsys.readouterr().err


@pytest.mark.parametrize("argv, option", [
    (["runs", "list", "--project", ""], "--project"),
    (["runs", "--project", "", "list"], "--project"),
    (["registry", "list", "--registry", ""], "--registry"),
    (["run", "--project", "", "x.pipe"], "--project"),
])
def test_an_empty_project_or_registry_is_a_usage_error(
        argv: list[str], option: str, capsys: pytest.CaptureFixture[str]) -> None:
    """`--project "$DIR"` with DIR unset must not quietly mean the current folder."""
    with pytest.raises(SystemExit) as stopped:
        main(argv)
    assert stopped.value.code == 2
    assert f"{option}: must not be empty" in capsys.readouterr().err
