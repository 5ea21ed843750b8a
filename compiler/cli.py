"""`pipec` command line. Each command lives in `pipec.commands.<name>` with
`configure(parser)` and `run(args) -> int`; heavy libraries are imported inside `run`
so that `pipec check` starts fast."""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import sys
from collections.abc import Callable, Sequence

from pipec import __version__
from pipec.streams import OutputError, discard_stdout, flush_or_discard, standard_streams

# command -> (module, one-line help, aliases)
COMMANDS = {
    "check": ("check", "parse, type-check and run every rule", ["lint"]),
    "fmt": ("fmt", "rewrite files in the canonical layout", []),
    "graph": ("graph", "print the checked DAG as mermaid, dot or json", []),
    "explain": ("explain", "show a rule's documentation", []),
    "build": ("build", "compile to an orchestrator: airflow, argo or local", []),
    "run": ("run", "run the pipeline on this machine (the local runner)", []),
    "stage": ("stage", "run one stage from a lineage manifest (used by generated code)", []),
    "test": ("test_cmd", "property-test the file's split rules", []),
    "docs": ("docs", "write ownership and lineage documentation", []),
    "runs": ("runs", "list, show and diff run records", []),
    "registry": ("registry", "the local model registry", []),
    "lineage": ("lineage", "answer the reproducibility questions for a model version", []),
    "data": ("data", "materialise bundled example data", []),
}
# Options whose empty value would silently stand for their default (`-o ''` for
# build/<target>, `--select ''` for every rule), the mark of an unset variable in a script
# (`-o "$OUT"`): an explicit empty value is a usage error.
NOT_EMPTY = {"output", "select", "ignore", "project", "registry"}
SIGPIPE_STATUS = 128 + 13  # what a shell reports for a process killed by SIGPIPE


def _available() -> dict[str, tuple[str, str, list[str]]]:
    """Commands whose module exists in this installation."""
    found = {}
    for name, (module, help_text, aliases) in COMMANDS.items():
        if importlib.util.find_spec(f"pipec.commands.{module}") is not None:
            found[name] = (module, help_text, aliases)
    return found


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The parser; only the invoked command's options are configured (importing every
    command module to describe options nobody asked for slows every start-up)."""
    parser = argparse.ArgumentParser(prog="pipec", description="pipec: a compiler for ML "
                                     "training pipelines")
    parser.add_argument("--version", action="version", version=f"pipec {__version__}")
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    invoked = _invoked_command(argv)
    for name, (module, help_text, aliases) in _available().items():
        command = sub.add_parser(name, help=help_text, aliases=aliases, description=help_text)
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help="show tracebacks")
        command.set_defaults(_module=module)
        if invoked is None or invoked == name or invoked in aliases:
            importlib.import_module(f"pipec.commands.{module}").configure(command)
            _share_options_with_actions(command)
            _refuse_empty(command)
            _debug_after_actions(command)
    return parser


def _share_options_with_actions(command: argparse.ArgumentParser) -> None:
    """`pipec runs --project DIR list` and `pipec runs list --project DIR` alike.

    When a command and its actions (`runs list`, `registry show`) both take an option,
    argparse copies every value of the action's namespace over the command's, defaults
    included, so the action's default silently replaced a value given before the action
    word. Without a default of their own, the actions keep the command's value unless
    the option is given again after the action word (the later one wins)."""
    shared = {a.dest for a in command._actions if a.option_strings}
    for group in command._actions:
        if not isinstance(group, argparse._SubParsersAction):
            continue
        for action_parser in {id(p): p for p in group.choices.values()}.values():
            for option in action_parser._actions:
                if option.option_strings and option.dest in shared:
                    option.default = argparse.SUPPRESS


def _refuse_empty(command: argparse.ArgumentParser) -> None:
    """NOT_EMPTY options of the command and of its actions (`runs list --project`)."""
    for action in command._actions:
        if isinstance(action, argparse._SubParsersAction):
            for action_parser in {id(p): p for p in action.choices.values()}.values():
                _refuse_empty(action_parser)
        elif action.dest in NOT_EMPTY and action.option_strings:
            action.type = _not_empty(action.type)


def _not_empty(convert: Callable[[str], object] | None) -> Callable[[str], object]:
    def checked(value: str) -> object:
        if value == "":
            raise argparse.ArgumentTypeError("must not be empty; leave the option out for "
                                             "its default")
        return value if convert is None else convert(value)
    return checked


def _debug_after_actions(command: argparse.ArgumentParser) -> None:
    """`pipec stage run ... --debug` as well as `pipec --debug stage run ...`: every
    action word (`stage run`, `runs show`) takes `--debug` too."""
    for group in command._actions:
        if isinstance(group, argparse._SubParsersAction):
            for action_parser in {id(p): p for p in group.choices.values()}.values():
                if "--debug" not in action_parser._option_string_actions:
                    action_parser.add_argument("--debug", action="store_true",
                                               default=argparse.SUPPRESS,
                                               help="show tracebacks")


def _invoked_command(argv: Sequence[str] | None) -> str | None:
    """The first word that is not an option, or None (then every command is set up)."""
    words = list(sys.argv[1:] if argv is None else argv)
    return next((w for w in words if not w.startswith("-")), None)


def _option_before_command(parser: argparse.ArgumentParser,
                           argv: Sequence[str] | None) -> str | None:
    """`pipec --format json runs`: a command's option before the command. argparse took
    its value for the command and said `invalid choice: 'json'`, naming neither the
    option nor where it goes."""
    words = list(sys.argv[1:] if argv is None else argv)
    commands = {word for name, (_, _, aliases) in COMMANDS.items() for word in [name, *aliases]}
    command = next((w for w in words if w in commands), None)
    for word in words[:words.index(command)] if command is not None else []:
        name = word.split("=", 1)[0]
        if word.startswith("-") and not any(option.startswith(name)
                                            for option in parser._option_string_actions):
            return (f"`{name}` goes after the command, as in `pipec {command} {word} ...` "
                    "(before it, pipec takes only --debug and --version)")
    return None


def main(argv: Sequence[str] | None = None) -> int:
    with standard_streams():
        try:
            return _main(argv)
        except BrokenPipeError:
            # `pipec ... | head`: the reader left. Nothing to report, but no success
            # either: the status of a process killed by SIGPIPE, as `set -o pipefail`
            # expects, whatever the command would have returned.
            discard_stdout()
            return SIGPIPE_STATUS
        except SystemExit:  # argparse: --help, --version, a usage error
            flush_or_discard()
            raise


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser(argv)
    if (misplaced := _option_before_command(parser, argv)) is not None:
        parser.error(misplaced)
    args = parser.parse_args(argv)
    if getattr(args, "_module", None) is None:
        parser.print_help()
        return 2
    command = importlib.import_module(f"pipec.commands.{args._module}")
    try:
        status = command.run(args)
        sys.stdout.flush()  # here, not at exit, where a failure would be Python's status 120
        return status
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        raise
    except Exception as exc:  # the last line of defence: never a traceback by default
        if args.debug:  # the traceback as well; the status stays what it would be
            import traceback

            traceback.print_exc()
        if isinstance(exc, OutputError):
            discard_stdout()  # what is still buffered would fail again at exit
        print(_failure(exc), file=sys.stderr)
        return 2


def _why(exc: OSError) -> str:
    """The OS's reason, or, for a folder pipec creates where a symlink to nothing (`.pipec`
    linked to a disk not mounted) or a file is, that: mkdir's "File exists" hides it."""
    import os
    from pathlib import Path

    path = Path(str(exc.filename))
    if isinstance(exc, FileExistsError) and path.is_symlink() and not path.exists():
        return f"it is a symlink to `{os.readlink(path)}`, which does not exist"
    if isinstance(exc, FileExistsError) and path.exists() and not path.is_dir():
        # mkdir on a file (`pipec data flights --out notes.txt`): "File exists" reads as
        # if the folder were there already.
        return "it is a file, not a folder"
    return str(exc.strerror or exc)


def _failure(exc: Exception) -> str:
    from pipec.config import ConfigError

    if isinstance(exc, ConfigError):
        return f"pipec: {exc}"
    if isinstance(exc, OutputError):
        return f"pipec: cannot write the output: {exc.strerror or exc}"
    if isinstance(exc, OSError) and exc.filename is not None:
        # The environment (a permission, a full disk) rather than a bug in pipec.
        return f"pipec: cannot access `{exc.filename}`: {_why(exc)}"
    return (f"pipec: internal error: {type(exc).__name__}: {exc}\n"
            "rerun with --debug for the traceback")
