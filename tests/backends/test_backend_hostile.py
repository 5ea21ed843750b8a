"""Hostile strings in every user-controlled string end up as data in every target."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import yaml
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from pipec.backends.airflow.docs import lineage_from_doc_md
from pipec.backends.build import build_files

from .backend_helpers import airflow_stages, module_constants
from .backend_helpers import hostile_program as _program

ALPHABET = st.one_of(
    st.sampled_from(list("'\"\\\n\t{}$`#:-?[]|>&*!%@,") + ["{{", "}}", "${", "'''", '"""',
                                                          "\u2028", "é", "ß", "🚀", "--- "]),
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")))
HOSTILE = st.lists(ALPHABET, min_size=1, max_size=12).map("".join)
CRONS = st.sampled_from(["0 3 * * *", "*/15 * * * 1-5", "0 0 1 * *", "30 2 * * 0"])


def _check_lineage(lineage: dict, values: dict[str, str]) -> None:
    assert lineage["description"] == values["description"]
    assert lineage["teams"]["risk"]["contact"] == values["contact"]
    assert lineage["sources"]["transactions"]["path"] == values["path"]
    assert lineage["models"]["train.fraud_gbm"]["params"]["note"] == values["param"]
    assert lineage["image"].startswith(values["image"] + "@sha256:")


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.fixed_dictionaries({k: HOSTILE for k in
                              ("contact", "description", "path", "param", "stage", "image")}),
       CRONS)
def test_hostile_strings_are_data(values, cron):
    with tempfile.TemporaryDirectory() as folder:
        path = _program(Path(folder), values, cron)
        results = {t: build_files(path, t, Path(folder) / "out", airflow_operator="kubernetes")
                   for t in ("airflow", "argo", "local")}
    assume(results["local"].ok)  # the checker may refuse a value (a credential look-alike)
    airflow = module_constants(results["airflow"].files["fraud_detection.py"])
    _check_lineage(lineage_from_doc_md(airflow["DOC_MD"]), values)
    assert airflow_stages(airflow)["train__fraud_gbm"]["doc_md"] == values["stage"]
    assert airflow["IMAGE"].startswith(values["image"] + "@sha256:")
    assert airflow["SCHEDULE"] == cron
    if "{{" in values["image"]:  # Argo would read it as a template expression
        assert [d.code for d in results["argo"].diagnostics if d.code == "BUILD001"]
        return
    (document,) = yaml.safe_load_all(results["argo"].files["fraud_detection.yaml"])
    annotations = document["metadata"]["annotations"]
    _check_lineage(json.loads(annotations["pipec.dev/lineage"]), values)
    assert document["spec"]["schedules"] == [cron]
    image = document["spec"]["workflowSpec"]["templates"][-1]["container"]["image"]
    assert image.startswith(values["image"] + "@sha256:")
