"""The static commands never import or execute what a .pipe file names; imports stay
inside the project root; symlink loops end in diagnostics, not hangs."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
FRAUD = REPO / "examples" / "fraud"

TRACE_MODULE = '''
from pathlib import Path
Path(__file__).with_name("IMPORTED").write_text("trace_me was imported")


class Model:
    def __init__(self, *args, **kwargs):
        Path(__file__).with_name("CALLED").write_text("trace_me.Model was called")
'''


def pipec(*args: str, cwd: Path, env: dict[str, str] | None = None,
          timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "pipec", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=timeout, env=env)


def _traced_project(tmp_path: Path) -> tuple[Path, Path, dict[str, str]]:
    """The reference program with `trace_me` in every string that names code or files."""
    module_dir = tmp_path / "pythonpath"
    module_dir.mkdir()
    (module_dir / "trace_me.py").write_text(TRACE_MODULE, "utf-8")
    project = tmp_path / "project"
    project.mkdir()
    (project / "pyproject.toml").write_text(
        '[tool.pipec]\nallowed_model_modules = ["sklearn", "trace_me"]\n', "utf-8")
    (project / "teams.pipe").write_text((FRAUD / "teams.pipe").read_text("utf-8"), "utf-8")
    text = (FRAUD / "fraud.pipe").read_text("utf-8")
    replacements = {
        '"sklearn.ensemble.HistGradientBoostingClassifier"': '"trace_me.Model"',
        "learning_rate: 0.05 }": 'learning_rate: 0.05, estimator: "trace_me.Model", '
                                 '"trace_me.Model": "trace_me" }',
        '"data/transactions.parquet"': '"trace_me.py"',
        '"registry/"': '"trace_me/"',
        "canary 5% for 1h": 'canary 5% for 1h\n    runtime "trace_me.Model"',
        '"chargeback reported': '"trace_me.Model(); import trace_me; chargeback reported',
    }
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new)
    path = project / "fraud.pipe"
    path.write_text(text, "utf-8")
    env = os.environ | {"PYTHONPATH": os.pathsep.join(
        [str(module_dir), os.environ.get("PYTHONPATH", "")]).rstrip(os.pathsep)}
    return path, module_dir, env


def test_static_commands_never_import_the_model(tmp_path: Path) -> None:
    path, module_dir, env = _traced_project(tmp_path)
    # The trap works: importing the module from this environment leaves the marker.
    probe = subprocess.run([sys.executable, "-c", "import trace_me"], env=env, cwd=tmp_path)
    assert probe.returncode == 0 and (module_dir / "IMPORTED").exists()
    (module_dir / "IMPORTED").unlink()

    project = path.parent
    commands = [
        ["check", str(path)], ["check", str(project), "--format", "json"],
        ["fmt", "--check", str(path)], ["docs", str(path), "-o", str(tmp_path / "site")],
        *[["graph", str(path), "--format", f] for f in ("mermaid", "dot", "json")],
        *[["build", str(path), "--target", t, "-o", str(tmp_path / t)]
          for t in ("airflow", "argo", "local")],
        ["build", str(path), "--target", "airflow", "--airflow-operator", "kubernetes",
         "-o", str(tmp_path / "k8s")],
    ]
    for command in commands:
        done = pipec(*command, cwd=project, env=env)
        assert done.returncode in (0, 1), (command, done.stderr[-2000:])
        assert "Traceback" not in done.stderr
        assert not (module_dir / "IMPORTED").exists(), command
        assert not (module_dir / "CALLED").exists(), command
    # The commands did their work (the trap was not avoided by failing early).
    assert (tmp_path / "argo" / "fraud_detection.yaml").is_file()
    assert (tmp_path / "site" / "index.html").is_file()


def _write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, "utf-8")
    return path


TEAM = 'team t { contact "#t"; role ml }\n'


@pytest.mark.parametrize("marker", ["pyproject.toml", ".git", None])
def test_imports_outside_the_project_root_are_p002(tmp_path: Path, marker: str | None) -> None:
    """The root is the nearest folder with a pyproject.toml or a .git, else the highest
    folder above the file below a shared one (here tmp_path, writable by anyone like
    /tmp); an import inside it is fine, one above it is P002."""
    _write(tmp_path / "outside.pipe", TEAM)
    project = tmp_path / "project"
    if marker == "pyproject.toml":
        _write(project / "pyproject.toml", "")
    elif marker == ".git":
        (project / ".git").mkdir(parents=True)
    else:
        tmp_path.chmod(0o1777)
    _write(project / "shared" / "teams.pipe", TEAM.replace("team t", "team u"))
    main = _write(project / "pipes" / "main.pipe",
                  'import "../../outside.pipe"\nimport "../shared/teams.pipe"\n'
                  'import "std/gates/binary.pipe"\n')
    done = pipec("check", str(main), "--format", "json", cwd=tmp_path)
    found = json.loads(done.stdout)
    outside = [d for d in found if d["code"] == "P002"]
    assert len(outside) == 1, found
    assert "reaches outside the project root" in outside[0]["message"]
    assert outside[0]["line"] == 1
    assert done.returncode == 1


def test_symlinked_import_leaving_the_root_is_p002(tmp_path: Path) -> None:
    _write(tmp_path / "secret" / "teams.pipe", TEAM)
    project = tmp_path / "project"
    _write(project / "pyproject.toml", "")
    (project / "teams.pipe").symlink_to(tmp_path / "secret" / "teams.pipe")
    main = _write(project / "main.pipe", 'import "teams.pipe"\n')
    done = pipec("check", str(main), "--format", "json", cwd=project)
    assert [d["code"] for d in json.loads(done.stdout)] == ["P002"]


def _looped_project(tmp_path: Path) -> Path:
    project = tmp_path / "project"
    _write(project / "pyproject.toml", "")
    (project / "self.pipe").symlink_to("self.pipe")
    (project / "a.pipe").symlink_to("b.pipe")
    (project / "b.pipe").symlink_to("a.pipe")
    (project / "sub").mkdir()
    (project / "sub" / "up").symlink_to("..", target_is_directory=True)
    (project / "sub" / "again").symlink_to(project / "sub", target_is_directory=True)
    _write(project / "teams.pipe", TEAM)
    _write(project / "main.pipe", 'import "self.pipe"\nimport "a.pipe"\n'
                                  'import "sub/up/sub/up/sub/again/up/teams.pipe"\n')
    return project


def test_symlink_loops_do_not_hang(tmp_path: Path) -> None:
    project = _looped_project(tmp_path)
    done = pipec("check", "main.pipe", "--format", "json", cwd=project, timeout=60)
    assert done.returncode == 1, done.stderr
    found = json.loads(done.stdout)
    assert sorted((d["code"], d["line"]) for d in found) == [("P002", 1), ("P002", 2)], found
    for command in (["check", "."], ["check", str(project)], ["fmt", "--check", "."],
                    ["docs", ".", "-o", str(tmp_path / "site")], ["check", "self.pipe"],
                    ["graph", "self.pipe"], ["build", "a.pipe", "--target", "local"]):
        done = pipec(*command, cwd=project, timeout=60)
        assert done.returncode in (0, 1, 2), (command, done.stderr)  # fmt: nothing to do
        assert "Traceback" not in done.stderr and "internal error" not in done.stderr, \
            (command, done.stderr)


def test_symlink_loops_in_process(tmp_path: Path) -> None:
    from pipec.check import compile
    from pipec.config import options_for

    project = _looped_project(tmp_path)
    main = project / "main.pipe"
    program = compile(main, options=options_for(main))
    assert sorted(d.code for d in program.diagnostics if d.severity.value == "error") == \
        ["P002", "P002"]
