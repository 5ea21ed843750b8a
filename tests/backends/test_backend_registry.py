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


class _Escaping(EchoBackend):
    def emit(self, lowered):
        return {"../escape.txt": "out\n"}


class _Raising(EchoBackend):
    def lower(self, program, options):
        raise RuntimeError("boom in lower")


class _NoEmit:
    name = "noemit"

    def lower(self, program, options): ...


class _Bytes(EchoBackend):
    def emit(self, lowered):
        return {"echo.bin": b"bytes"}


@pytest.mark.parametrize("value, says", [
    (f"{__name__}:_Escaping", "failed while writing its files: ValueError: emit returned the "
                              "path '../escape.txt'"),
    (f"{__name__}:_Raising", "failed while lowering the program: RuntimeError: boom in lower"),
    (f"{__name__}:_NoEmit", "does not implement the pipec backend interface: it has no "
                            "emit, measure"),
    (f"{__name__}:_Bytes", "TypeError: emit returned bytes for 'echo.bin', not text"),
    (f"{__name__}:Missing", "failed while loading it: AttributeError"),
    ("no_such_module_anywhere:Backend", "failed while loading it: ModuleNotFoundError"),
    (f"{__name__}", "failed while loading it: TypeError: the entry point"),
])
def test_a_broken_plugin_is_named_and_nothing_is_written(monkeypatch, programs, tmp_path,
                                                         capsys, value, says):
    """Whatever a plug-in target gets wrong is said as the plug-in's failure (exit 2,
    naming the target and its entry point), not as pipec's internal error; no file is
    written, inside the output folder or outside it."""
    from pipec.cli import main

    point = EntryPoint("toy", value, registry.GROUP)
    monkeypatch.setattr(registry, "entry_points", lambda group: [point])
    output = tmp_path / "out"
    code = main(["build", str(programs["fraud_detection"]), "--target", "toy",
                 "-o", str(output)])
    err = capsys.readouterr().err
    assert code == 2
    assert f"pipec: target `toy` (plug-in `{value}`)" in err and says in err, err
    assert "internal error" not in err
    assert not output.exists() and not (tmp_path / "escape.txt").exists()
