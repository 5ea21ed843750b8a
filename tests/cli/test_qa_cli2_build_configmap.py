"""`pipec build` with `[tool.pipec] manifest_configmap`: the pods of the build mount the
manifest from that ConfigMap, so the build prints the command that makes it from the
manifest just written (its real path, quoted for a shell). Before, it printed only
`wrote FILES to DIR`, and the generated files can name the manifest only relative to
their own folder."""

from __future__ import annotations

import shlex
import shutil
from pathlib import Path

import pytest
from pipec.cli import main

FRAUD = Path(__file__).parents[2] / "examples" / "fraud"


def _project(folder: Path, settings: str) -> Path:
    folder.mkdir(parents=True)
    for name in ("fraud.pipe", "teams.pipe"):
        shutil.copy(FRAUD / name, folder / name)
    (folder / "pyproject.toml").write_text(f"[tool.pipec]\n{settings}", "utf-8")
    return folder / "fraud.pipe"


def _build(capsys: pytest.CaptureFixture[str], path: Path, output: Path,
           *options: str) -> list[str]:
    """The build's stderr lines from `wrote ...` on (its other lines, as the `wrote`
    line, are on stderr; the diagnostics are on stdout)."""
    assert main(["build", str(path), "-o", str(output), *options]) == 0
    lines = capsys.readouterr().err.splitlines()
    return lines[next(i for i, line in enumerate(lines) if line.startswith("wrote ")):]


@pytest.mark.parametrize("options", [["--target", "argo"],
                                     ["--target", "airflow", "--airflow-operator",
                                      "kubernetes"]])
def test_build_prints_the_configmap_command_with_the_written_manifest(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], options: list[str]) -> None:
    """The command names the manifest where it was written, quoted: a folder with a
    space in its name is one word of the command."""
    path = _project(tmp_path / "src", 'manifest_configmap = "ml-manifest"\n')
    output = tmp_path / "out dir" / "build"
    wrote, why, command = _build(capsys, path, output, *options)
    assert wrote.endswith(f"to `{output}`")
    assert "ConfigMap `ml-manifest`" in why and "kubectl delete configmap ml-manifest" in why
    assert command.startswith("  ")
    words = shlex.split(command)
    assert words == ["kubectl", "create", "configmap", "ml-manifest",
                     f"--from-file=lineage.json={output / 'lineage.json'}"]
    assert (output / "lineage.json").is_file()


@pytest.mark.parametrize(("settings", "options"), [
    ("", ["--target", "argo"]),  # no ConfigMap named
    ('manifest_configmap = "ml-manifest"\n', ["--target", "airflow"]),  # BashOperator
    ('manifest_configmap = "ml-manifest"\n', ["--target", "local"]),
])
def test_no_configmap_command_when_no_pod_mounts_one(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], settings: str,
        options: list[str]) -> None:
    """Unset, or a target whose stages start no pod: only `wrote FILES to DIR`."""
    path = _project(tmp_path / "src", settings)
    lines = _build(capsys, path, tmp_path / "out", *options)
    assert len(lines) == 1 and lines[0].startswith("wrote "), lines
