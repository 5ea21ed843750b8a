"""QA of the Argo target against how Kubernetes tools read it, not only PyYAML."""

from __future__ import annotations

import re

import pytest
import yaml
from pipec.backends.argo.yamldump import dump_all

from .backend_argo import ARGO_KINDS, dag_errors, schema_errors
from .backend_helpers import EXAMPLES, build, variant

# go-yaml v2 (resolve.go), which kubectl, the argo CLI and Argo Events read manifests
# with: the plain scalars it takes for a bool or null, its float syntax, and its ints
# (`strconv.ParseInt(s, 0, 64)` once `_` are removed).
GO_YAML_WORDS = {"y", "Y", "yes", "Yes", "YES", "n", "N", "no", "No", "NO", "true", "True",
                 "TRUE", "false", "False", "FALSE", "on", "On", "ON", "off", "Off", "OFF",
                 "", "~", "null", "Null", "NULL"}
GO_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
GO_YAML_INT = re.compile(r"[-+]?(0[xX][0-9a-fA-F]+|0[oO]?[0-7]+|0[bB][01]+|[0-9]+)")


def go_yaml_reads_a_string(plain: str) -> bool:
    if plain in GO_YAML_WORDS or plain.lower() in {".inf", "+.inf", "-.inf", ".nan"}:
        return False
    if plain[0] not in "+-.0123456789":  # only these are tried as numbers
        return True
    digits = plain.replace("_", "")
    return not (GO_YAML_INT.fullmatch(digits) or GO_YAML_FLOAT.fullmatch(digits))


def strings_go_yaml_misreads(text: str) -> list[str]:
    """Plain scalars PyYAML reads as strings and go-yaml as something else."""
    found = []
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.ScalarEvent) and event.style is None:
            tag = yaml.SafeLoader.resolve(yaml.SafeLoader, yaml.ScalarNode, event.value,
                                          (True, False))
            if tag == "tag:yaml.org,2002:str" and not go_yaml_reads_a_string(event.value):
                found.append(event.value)
    return found


@pytest.mark.parametrize("value", ["y", "n", "Y", "N", "1e3", "1e-05", "1E+20", "1.5e3",
                                   "+.5", "09", "0o17", "0X1F", "0B101", "1_0e3"])
def test_strings_that_go_yaml_would_read_as_bools_or_numbers_are_quoted(value):
    """QA: PyYAML wrote these plain (to YAML 1.1 as PyYAML implements it they are
    strings), and kubectl read them as `true`, `false` or numbers: a label or a name
    `y`, a drift threshold written `1e-05`, a claim named `1e3`."""
    text = dump_all([{"key": value, "flow": [value]}])
    assert strings_go_yaml_misreads(text) == [], text
    assert yaml.safe_load(text) == {"key": value, "flow": [value]}


def test_ordinary_strings_stay_plain():
    text = dump_all([{"a": "300s", "b": "source.events", "c": "0 3 * * *", "d": "yes-no"}])
    assert "'" not in text


@pytest.fixture
def misread_prone(tmp_path):
    """A pipeline named `y`, a team `n`, a claim `1e3` and a drift threshold that Python
    writes `1e-05`: each one would reach Kubernetes as a bool or a number."""
    path = variant(EXAMPLES / "fraud" / "fraud.pipe", tmp_path / "src", "y",
                   "triggered on drift(amount) > 0.00001")
    teams = path.parent / "teams.pipe"
    teams.write_text(teams.read_text("utf-8").replace("team ml_platform", "team n"), "utf-8")
    path.write_text(path.read_text("utf-8").replace("owner ml_platform", "owner n"), "utf-8")
    (path.parent / "pyproject.toml").write_text('[tool.pipec]\nstate_volume = "1e3"\n')
    return path


def test_no_user_string_is_read_as_a_bool_or_number_by_kubernetes(misread_prone, tmp_path):
    text = build(misread_prone, "argo", tmp_path / "out").files["y.yaml"]
    assert strings_go_yaml_misreads(text) == []
    template, sensor = yaml.safe_load_all(text)
    assert template["metadata"]["name"] == "y"
    assert template["metadata"]["labels"]["pipec.dev/pipeline"] == "y"
    assert template["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == "1e3"
    (threshold,) = sensor["spec"]["dependencies"][0]["filters"]["data"][0]["value"]
    assert float(threshold) == 0.00001
    assert schema_errors(template) == [] and dag_errors(template) == []


def test_every_example_reads_the_same_to_go_yaml(programs, tmp_path):
    for name, path in programs.items():
        files = build(path, "argo", tmp_path / name).files
        for file_name, text in files.items():
            if file_name.endswith(".yaml"):
                assert strings_go_yaml_misreads(text) == [], name
                kinds = [d["kind"] for d in yaml.safe_load_all(text)]
                assert set(kinds) <= {*ARGO_KINDS, "Sensor"}, name


def _renamed(folder, name):
    """The reference program as `folder/renamed.pipe`, its pipeline called `name`."""
    folder.mkdir()
    for source in (EXAMPLES / "fraud").glob("*.pipe"):
        (folder / source.name).write_text(source.read_text("utf-8"), "utf-8")
    text = (folder / "fraud.pipe").read_text("utf-8")
    path = folder / "renamed.pipe"
    path.write_text(text.replace("pipeline fraud_detection {", f"pipeline {name} {{"), "utf-8")
    (folder / "fraud.pipe").unlink()
    return path


def test_a_pipeline_name_too_long_for_a_file_name_is_a_diagnostic(tmp_path):
    """QA: the Kubernetes names are cut to fit, but `<pipeline>.yaml` is not: a 251-letter
    pipeline name built with no error and then failed the write (exit 2, no diagnostic)."""
    from pipec.backends.build import build_files

    longest = _renamed(tmp_path / "a", "p" * 250)
    assert f"{'p' * 250}.yaml" in build(longest, "argo", tmp_path / "out-a").files
    result = build_files(_renamed(tmp_path / "b", "p" * 251), "argo", tmp_path / "out-b")
    assert not result.ok and not [n for n in result.files if n.endswith(".yaml")]
    (found,) = [d for d in result.diagnostics if d.code == "BUILD001"]
    assert "256 bytes" in found.message and found.span.line == 3


@pytest.mark.parametrize("target, file_name", [("airflow", "{}.py"), ("local", "run_{}.py")])
def test_every_target_refuses_a_file_name_too_long(tmp_path, target, file_name):
    """Every target's files (`<pipeline>.py`, `run_<pipeline>.py`): refused at build
    (Airflow's own 250-character id limit comes first there), never a failed write."""
    from pipec.backends.build import build_files

    name = "p" * 252
    result = build_files(_renamed(tmp_path / "src", name), target, tmp_path / "out")
    assert not result.ok and file_name.format(name) not in result.files
    assert [d for d in result.diagnostics if d.code == "BUILD001"]
