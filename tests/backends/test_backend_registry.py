"""The registry finds built-in and plug-in backends."""

from __future__ import annotations

from importlib.metadata import EntryPoint

import pytest
from pipec.backends import Backend, available, get_backend, registry


def test_builtins_implement_the_interface():
    assert {"airflow", "argo", "local"} <= set(available())
    for name in ("airflow", "argo", "local"):
        backend = get_backend(name)
        assert isinstance(backend, Backend) and backend.name == name


def test_unknown_target():
    with pytest.raises(KeyError):
        get_backend("nope")


class EchoBackend:
    """A third-party target in one module."""

    name = "echo"

    def lower(self, program, options):
        from pipec.backends.base import Lowered, pipeline_span

        return Lowered(program.name, pipeline_span(program))

    def emit(self, lowered):
        return {"echo.txt": lowered.model + "\n"}

    def measure(self, lowered, files, options):
        return []


def test_entry_point_plugins(monkeypatch, programs, tmp_path):
    point = EntryPoint("echo", f"{__name__}:EchoBackend", registry.GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [point])
    assert "echo" in available()
    from pipec.backends.build import build_files

    result = build_files(programs["fraud_detection"], "echo", tmp_path)
    assert result.files["echo.txt"] == "fraud_detection\n"
