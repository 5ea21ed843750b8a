"""The grammar covers every construct; values decode to what language.md says."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from conftest import EXAMPLES, REPO, example_files
from pipec import nodes as n
from pipec.parser import parse_text

ALL = REPO / "tests" / "fixtures" / "syntax" / "all_constructs.pipe"


def parse_file(path: Path) -> n.Module:
    result = parse_text(path.read_text("utf-8"), str(path))
    assert result.diagnostics == [], result.diagnostics
    assert result.module is not None
    return result.module


@pytest.mark.parametrize("path", example_files() + sorted((REPO / "stdlib").rglob("*.pipe")),
                         ids=lambda p: p.name)
def test_examples_and_stdlib_parse(path: Path) -> None:
    parse_file(path)


def test_reference_program_is_verbatim_from_the_spec() -> None:
    spec = (REPO.parent / "shared" / "design" / "language.md")
    if not spec.exists():
        pytest.skip("the shared specification is not beside the checkout")
    text = spec.read_text("utf-8")
    program = text.split("## The reference program\n```\n", 1)[1].split("```", 1)[0]
    assert (EXAMPLES / "fraud" / "fraud.pipe").read_text("utf-8") == program


def stage(module: n.Module, kind: str, name: str | None = None) -> n.Block:
    pipeline = module.pipeline
    assert pipeline is not None
    return next(b for b in pipeline.all(n.Block)
                if b.kind == kind and (name is None or b.name.name == name))


def test_every_construct() -> None:
    module = parse_file(ALL)
    assert [i.path.value for i in module.imports] == ["teams.pipe", "std/gates/binary.pipe"]
    assert {b.kind for b in module.items if isinstance(b, n.Block)} == {
        "team", "checks", "gates", "pipeline"}
    pipeline = module.pipeline
    assert pipeline is not None
    assert pipeline.first(n.OnFailure) == n.OnFailure(policy="alert", message=n.Str(
        text='"page #oncall"', value="page #oncall"))
    assert pipeline.setting("timeout").value.seconds == 5400
    retrain = pipeline.first(n.Retrain)
    assert (retrain.mode, retrain.column.name, retrain.op, retrain.threshold.py) == (
        "drift", "amount", ">", 0.2)
    events = stage(module, "source", "events")
    assert events.setting("lag").value.seconds == 0.25
    columns = {c.name.name: c for c in events.first(n.Schema).columns}
    assert columns["id"].pii and columns["outcome"].after_event
    assert columns["amount"].constraint.value.py == -0.01
    assert columns["share"].constraint.range.py == [0.0, 1.0]
    assert events.first(n.SourceFrom).format == "sql"


def test_values_decode() -> None:
    module = parse_file(ALL)
    split = stage(module, "split")
    assert isinstance(split, n.Split) and split.by == "random"
    assert split.setting("test").value.py == 0.2 and split.setting("valid").value.py == 0.1
    train = stage(module, "train")
    params = train.setting("params").value.py
    assert params == {"C": 1.0, "class weight": "balanced", "layers": [64, 32],
                      "nested": {"a": True, "b": "null_word"}}
    refs = [r.text for r in train.first(n.TrainFeatures).refs]
    assert refs == ["amount", "kind", "history_view.*", "history_view.total_7d"]
    evaluate = stage(module, "evaluate")
    gates = {g.kind: g for g in evaluate.all(n.Gate)}
    assert gates["size"].value.bytes == 2 * 2**30
    assert gates["latency"].value.seconds == 0.005
    assert gates["compare_champion"].value.py == -0.01
    assert evaluate.setting("threshold").value.py == 0.4
    view = stage(module, "features")
    assert isinstance(view, n.Features) and view.version.value == 3
    backfill = view.first(n.Backfill)
    assert backfill.validated and backfill.range.low.value == dt.date(2026, 1, 1)


def test_snapshot_relative_dates() -> None:
    module = parse_file(EXAMPLES / "fraud" / "fraud.pipe")
    split = stage(module, "split")
    before = split.first(n.TrainBefore).date
    assert isinstance(before, n.SnapshotRelative) and before.minus.seconds == 100 * 86400
    assert split.first(n.TestFrom).start.py == {"snapshot_minus_s": 68 * 86400}


def test_keywords_are_contextual() -> None:
    text = '''team risk { contact "#r"; role risk }
team model { contact "#m"; role ml }
pipeline time {
  owner model
  source data {
    from csv "d.csv"
    schema { time: timestamp, risk: float }
  }
}
'''
    result = parse_text(text, "k.pipe")
    assert result.diagnostics == []
    pipeline = result.module.pipeline
    assert pipeline.name.name == "time"
    assert pipeline.setting("owner").value.name == "model"


def test_semicolons_and_newlines_are_the_same() -> None:
    one = parse_text('team a { contact "x"; role ml }\n', "a")
    two = parse_text('team a {\n  contact "x"\n  role ml\n}\n', "b")
    assert one.module.items == two.module.items


def test_spans_are_one_based_code_points() -> None:
    text = 'team é { contact "ü"; role ml }\n'
    result = parse_text('team e { contact "üü"; role ml }\n', "u")
    contact = result.module.items[0].setting("contact")
    assert (contact.span.line, contact.span.col) == (1, 10)
    assert contact.value.span.end_col == 10 + len('contact "üü"')
    assert "é" in text


@pytest.mark.parametrize("newline", ["\r", "\r\n"])
def test_cr_and_crlf_line_ends_parse_like_lf(newline: str, tmp_path: Path, capsys) -> None:
    """A lone CR (classic Mac OS) ended no line: a comment on the first line swallowed
    the whole file, and the reference program checked clean whatever it held."""
    from pipec.check import compile
    from pipec.cli import main

    text = (EXAMPLES / "fraud" / "fraud.pipe").read_text()
    broken = text.replace("owner ml_fraud", "owner nobody", 1)
    for folder, ends in (("moved", newline), ("lf", "\n")):
        (tmp_path / folder).mkdir()
        for name in ("fraud.pipe", "teams.pipe"):
            source = broken if name == "fraud.pipe" else (EXAMPLES / "fraud" / name).read_text()
            (tmp_path / folder / name).write_bytes(source.replace("\n", ends).encode())
    moved = compile(tmp_path / "moved" / "fraud.pipe")
    expected = compile(tmp_path / "lf" / "fraud.pipe")
    assert [(d.code, d.span.line, d.span.col) for d in moved.diagnostics] == \
        [(d.code, d.span.line, d.span.col) for d in expected.diagnostics]
    assert [d.code for d in moved.diagnostics] == ["OWN002"]
    (tmp_path / "bad.pipe").write_bytes(b"pipeline p {\r  owner \xff\r}\r")
    assert main(["check", str(tmp_path / "bad.pipe")]) == 1
    assert "2 |   owner" in capsys.readouterr().out


@pytest.mark.parametrize("text", ["", "  \n", " "])
def test_the_api_takes_an_empty_program_as_text(text: str) -> None:
    """`pipec.compile("")` read the current folder as a file (IsADirectoryError)."""
    import pipec

    program = pipec.compile(text)
    assert program.ok and program.diagnostics == []


def test_the_api_reports_a_lone_surrogate_as_p001() -> None:
    """A str no file could hold: P001 (not UTF-8), not a UnicodeEncodeError."""
    import pipec

    program = pipec.compile('pipeline x { description "\ud800" }')
    assert [d.code for d in program.diagnostics] == ["P001"]
