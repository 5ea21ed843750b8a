"""A `[tool.pipec]` table pipec cannot use is a usage error (exit 2) naming the file and
the setting: a typo there would otherwise quietly check something else."""

from __future__ import annotations

from pathlib import Path

import pytest
from pipec.cli import main

PROGRAM = 'team ml { contact "#ml"; role ml }\n'


@pytest.mark.parametrize("table, message", [
    ('[tool.pipec.severity]\nGATE005 = "eror"\n',
     '`severity.GATE005`: `eror` is not one of error, warning, note, off; did you mean `error`?'),
    ('[tool.pipec.severity]\nGATE500 = "error"\n', "`severity`: unknown code `GATE500`"),
    ('[tool.pipec.severity]\nP001 = "off"\n', "`severity.P001`: P001 is always an error"),
    ('[tool.pipec]\nselct = ["LEAK"]\n', "unknown setting `selct`; did you mean `select`?"),
    ('[tool.pipec]\nselect = ["LEEK"]\n', "`select`: unknown code `LEEK`; did you mean `LEAK`?"),
    ('[tool.pipec]\nignore = "GATE007"\n', "`ignore` must be a list of strings"),
    ('[tool.pipec]\nstrict = "yes"\n', "`strict` must be true or false"),
    ('[tool.pipec]\nargo_max_bytes = 0\n', "`argo_max_bytes` must be a positive number"),
    ('[tool.pipec\nselect = 1\n', "is not valid TOML"),
    ('[tool.pipec]\nstate_volume = "ML_State"\n', "`state_volume` must name a "
     "PersistentVolumeClaim"),
    ('[tool.pipec]\nstate_volume = 3\n', "`state_volume` must name a PersistentVolumeClaim"),
    ('[tool.pipec]\nservice_account = "ML Stages"\n', "`service_account` must name a "
     "ServiceAccount"),
    ('[tool.pipec]\nsensor_service_account = ["a"]\n', "`sensor_service_account` must name "
     "a ServiceAccount"),
    ('[tool.pipec]\nmax_parallel_stages = 0\n', "`max_parallel_stages` must be a positive "
     "number, not 0"),
    ('[tool.pipec]\nmax_parallel_stages = true\n', "`max_parallel_stages` must be a number"),
])
def test_a_bad_table_is_a_usage_error(tmp_path: Path, capsys, table: str, message: str):
    (tmp_path / "pyproject.toml").write_text(table, encoding="utf-8")
    program = tmp_path / "teams.pipe"
    program.write_text(PROGRAM, encoding="utf-8")
    assert main(["check", str(program)]) == 2
    err = capsys.readouterr().err
    assert message in err and "pyproject.toml" in err and "internal error" not in err


def test_a_good_table_still_applies(tmp_path: Path, capsys):
    (tmp_path / "pyproject.toml").write_text(
        '[tool.pipec]\nselect = ["OWN", "LEAK002"]\nstrict = true\nargo_max_bytes = 5000\n'
        '[tool.pipec.severity]\nGATE005 = "Warn"\n', encoding="utf-8")
    program = tmp_path / "teams.pipe"
    program.write_text(PROGRAM, encoding="utf-8")
    assert main(["check", str(program)]) == 0
