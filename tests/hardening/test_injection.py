"""Hostile strings in every place a user string reaches stay data in every output.

Extends tests/backends/test_backend_hostile.py (contacts, descriptions, a path, a param
value, the image, through Airflow and Argo) to every string field of the language (team
descriptions, SQL queries, param keys, registry paths, runtimes, label definitions,
alerts, commit strings, resources) and to every output: the local script,
lineage.json, the docs pages, `pipec graph` and the diagnostics renderers.

An output keeps its *structure* whatever the strings hold: its skeleton (the Python
AST, or the decoded YAML, with every string blanked) equals the skeleton of the same
program with plain strings; and the strings read back exactly.
"""

from __future__ import annotations

import ast
import functools
import json
import tempfile
from html.parser import HTMLParser
from pathlib import Path

import yaml
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st
from pipec.backends.airflow.docs import lineage_from_doc_md
from pipec.backends.build import BuildResult, build_files

from .hostile import (
    DOT_LINE,
    FIELDS,
    hostile_program,
    leaves,
    q,
    skeleton_data,
    skeleton_py,
    strings_py,
)

ALPHABET = st.one_of(
    st.sampled_from(list("'\"\\\n\t\r{}$`#:-?[]|>&*!%@,;<=/") + [
        "{{", "}}", "${", "{%", "'''", '"""', "</script>", "<script>", "<!--", "-->",
        "]]>", "\x00", "\x1b[2J", "\x7f", "\x85", "\u2028", "\u2029", "\ufeff", "é", "🚀",
        "--- ", "...", "::error::", "%0A", "\\n", "@sha256:", "eval(", "__import__('os')",
        "&amp;", "&#x3c;", "\"; drop table x; --"]),
    st.characters(codec="utf-8", exclude_categories=("Cs",)))
HOSTILE = st.lists(ALPHABET, min_size=1, max_size=10).map("".join)
# An image is one reference, so no blank or `@` before its digest (REPRO002 refuses
# that); quotes, braces, `$`, NUL and every other hostile character stay in.
IMAGES = HOSTILE.map(lambda text: "".join(c for c in text if not c.isspace() and c != "@")) \
    .filter(bool)
VALUES = st.fixed_dictionaries({field: IMAGES if field == "image" else HOSTILE
                                for field in FIELDS})
CRONS = st.sampled_from(["0 3 * * *", "*/15 * * * 1-5", "0 0 1 * *"])
PLAIN = {field: f"plain {field}" for field in FIELDS} | {"param_key": "plain_key",
                                                        "image": "plain-image"}
NASTY = {field: f"</script><script>alert('{field}')</script>\"'{{{{ x }}}}\n--- ${{y}} \x00"
         for field in FIELDS} | {"image": "registry.example.com/ml'\"#${x}{{y}}\x00"}
TARGETS = ("airflow", "argo", "local")


def _builds(folder: Path, values: dict[str, str], cron: str) -> dict[str, BuildResult]:
    path = hostile_program(folder, values, cron)
    return {target: build_files(path, target, folder / "out",
                                airflow_operator="kubernetes" if target == "airflow" else "bash")
            for target in TARGETS}


@functools.cache
def _plain() -> dict[str, BuildResult]:
    with tempfile.TemporaryDirectory() as folder:
        results = _builds(Path(folder), PLAIN, "0 3 * * *")
    assert all(r.ok for r in results.values())
    return results


def _check_lineage(lineage: dict, plain: dict, values: dict[str, str]) -> None:
    """Every field the plain program's lineage carries, this one carries verbatim."""
    carried = [f for f in FIELDS if PLAIN[f] in leaves(plain)]
    assert len(carried) >= 5, carried
    found = leaves(lineage)
    for field in carried:
        assert values[field] in found, field
    assert any(s.startswith(values["image"] + "@sha256:") for s in found)


def _check_airflow(result: BuildResult, values: dict[str, str]) -> None:
    source, plain = (r.files["fraud_detection.py"] for r in (result, _plain()["airflow"]))
    assert skeleton_py(source) == skeleton_py(plain)
    _check_lineage(lineage_from_doc_md(_constant(source, "DOC_MD")),
                   lineage_from_doc_md(_constant(plain, "DOC_MD")), values)
    assert values["stage_description"] in strings_py(source)


def _constant(source: str, name: str) -> object:
    for node in ast.parse(source).body:
        targets = [getattr(target, "id", None) for target in getattr(node, "targets", [])]
        if isinstance(node, ast.Assign) and targets == [name]:
            return ast.literal_eval(node.value)
    raise AssertionError(f"no {name} in the module")


def _check_argo(result: BuildResult, values: dict[str, str]) -> None:
    if not result.ok:  # Argo reads `{{` as a template: refused, with a diagnostic
        assert {d.code for d in result.diagnostics if d.severity.value == "error"} == \
            {"BUILD001"}
        assert any("{{" in value for value in values.values())
        return
    documents = list(yaml.safe_load_all(result.files["fraud_detection.yaml"]))
    plain = list(yaml.safe_load_all(_plain()["argo"].files["fraud_detection.yaml"]))
    user = frozenset([values["param_key"], PLAIN["param_key"]])
    assert skeleton_data(documents, user) == skeleton_data(plain, user)
    lineage = documents[0]["metadata"]["annotations"]["pipec.dev/lineage"]
    _check_lineage(json.loads(lineage), json.loads(
        plain[0]["metadata"]["annotations"]["pipec.dev/lineage"]), values)


def _check_local(result: BuildResult) -> None:
    (script,) = [name for name in result.files if name.endswith(".py")]
    assert skeleton_py(result.files[script]) == skeleton_py(_plain()["local"].files[script])


@settings(max_examples=20, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(VALUES, CRONS)
@example(NASTY, "0 3 * * *")
def test_hostile_strings_in_every_field_are_data(values: dict[str, str], cron: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        results = _builds(Path(folder), values, cron)
    assume(results["local"].ok)  # the checker may refuse a value (a credential look-alike)
    assert results["airflow"].ok
    _check_lineage(*(json.loads(r["local"].files["lineage.json"]) for r in (results, _plain())),
                   values)
    _check_airflow(results["airflow"], values)
    _check_argo(results["argo"], values)
    _check_local(results["local"])


# ------------------------------------------------------------------ docs and graph
class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: set[str] = set()
        self.handlers: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.add(tag)
        self.handlers += [name for name, _ in attrs if name.lower().startswith("on")]


def _tags(html: str) -> tuple[set[str], list[str]]:
    parser = _Tags()
    parser.feed(html)
    return parser.tags, parser.handlers


def _site(path: Path) -> dict[str, str]:
    import pipec
    from pipec.docsite import build_docs_manifest, site_files

    program = pipec.compile(path)
    return {name: data.decode("utf-8")
            for name, data in site_files(build_docs_manifest([program])).items()}


@functools.cache
def _plain_site_and_graph() -> tuple[dict[str, str], dict[str, str]]:
    with tempfile.TemporaryDirectory() as folder:
        path = hostile_program(Path(folder), PLAIN)
        return _site(path), _graphs(path)


def _graphs(path: Path) -> dict[str, str]:
    import pipec
    from pipec.graph_export import RENDERERS

    program = pipec.compile(path)
    return {name: render(program) for name, render in RENDERERS.items()}


@settings(max_examples=10, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(VALUES)
@example(NASTY)
def test_hostile_strings_in_docs_and_graph(values: dict[str, str]) -> None:
    import pipec

    with tempfile.TemporaryDirectory() as folder:
        path = hostile_program(Path(folder), values)
        assume(pipec.compile(path).ok)
        site, graphs = _site(path), _graphs(path)
    plain_site, plain_graphs = _plain_site_and_graph()
    html = site["index.html"]
    tags, handlers = _tags(html)
    assert tags == _tags(plain_site["index.html"])[0] and handlers == []
    assert html.lower().count("<script") == plain_site["index.html"].lower().count("<script")
    manifest = json.loads(site["manifest.json"])
    for field in ("contact", "description", "path", "definition"):
        assert values[field] in leaves(manifest), field
    # graph: json round-trips, dot is one well-formed statement a line, mermaid keeps its lines
    graph = json.loads(graphs["json"])
    for field in ("path", "sql", "param", "param_key", "registry", "runtime", "definition"):
        assert values[field] in leaves(graph), field
    user = frozenset([values["param_key"], PLAIN["param_key"]])
    assert skeleton_data(graph, user) == skeleton_data(json.loads(plain_graphs["json"]), user)
    assert all(DOT_LINE.fullmatch(line) for line in graphs["dot"].splitlines())
    assert len(graphs["mermaid"].splitlines()) == len(plain_graphs["mermaid"].splitlines())


# ------------------------------------------------------------- diagnostics output
def _unescape_github(text: str) -> str:
    return text.replace("%0A", "\n").replace("%0D", "\r").replace("%25", "%")


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(HOSTILE, st.sampled_from(["main.pipe", "a,b:c%d.pipe", "new\nline.pipe", "é 🚀.pipe"]))
@example("::error file=x::pwned\n%0A\r\n</script>\"", "main.pipe")
def test_hostile_text_in_diagnostics_output(text: str, name: str) -> None:
    """An import path is echoed in its P002 message: json and sarif stay valid JSON with
    the text intact, github stays one annotation line per diagnostic."""
    from pipec.check import compile
    from pipec.render import renderer
    from pipec.render.github import visible

    assume("\x00" not in name)
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / name
        path.write_text(f"import {q(text + '.pipe')}\n", "utf-8")
        program = compile(path)
    diagnostics = program.diagnostics
    assert diagnostics and all(d.code == "P002" for d in diagnostics)
    sources = {f.display: f.text for f in program.files}
    as_json = json.loads(renderer("json")(diagnostics, sources))
    assert [d["message"] for d in as_json] == [d.message for d in diagnostics]
    assert text in as_json[0]["message"]
    sarif = json.loads(renderer("sarif")(diagnostics, sources))
    assert text in sarif["runs"][0]["results"][0]["message"]["text"]
    github = renderer("github")(diagnostics, sources)
    lines = github.split("\n")
    assert lines[-1] == "" and len(lines) == len(diagnostics) + 1
    command, _, message = lines[0].partition("::")[2].partition("::")
    assert command.startswith("error file=")
    # Control characters are shown as their pictures, as in the text format.
    assert _unescape_github(message).startswith(visible(diagnostics[0].message))


@settings(max_examples=25, deadline=None, database=None,
          suppress_health_check=list(HealthCheck))
@given(HOSTILE)
@example("\x1b]0;pwned\x07\x1b[2J\r\x9b31m")
@example("admin\u202e\u2066 // \u2069\u2066")
def test_text_diagnostics_carry_no_control_characters(text: str) -> None:
    """A terminal shows `pipec check` output: no escape sequence from a file reaches it,
    neither in a message (the P002 import path) nor in the quoted source line."""
    import re

    from pipec.check import compile
    from pipec.render.text import render_plain

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "main.pipe"
        path.write_text(f"import {q(text + '.pipe')}  # {text.replace(chr(10), ' ')}\n",
                        "utf-8")
        program = compile(path)
    rendered = render_plain(program.diagnostics, {f.display: f.text for f in program.files})
    assert not re.search(r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u202a-\u202e"
                         r"\u2066-\u2069]", rendered), repr(rendered)
