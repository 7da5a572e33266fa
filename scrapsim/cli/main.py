"""The command line: ``python -m scrapsim SCENARIO.yaml`` runs a scenario and writes a run folder.

Commands: ``run`` (the default when the first argument is not a command; a scenario is a file
or a library name such as ``hebei``), ``schema``, ``report`` (:mod:`scrapsim.cli.report`) and
the lazily loaded ones of :data:`LAZY` (``sweep``, ``validate``, ``calibrate``,
``sensitivity``, ``explore``, ``discover``, ``robust``, ``list``, ``new``, ``check``). A
mistyped command gets a "did you mean".
Start-up imports only argparse: the scenario loader, the model, pandas and matplotlib are
imported inside the command that needs them, so ``--help`` stays fast. Bad input (any
:class:`~scrapsim.scenario.ScenarioError`, a missing or unreadable file, a missing optional
dependency) prints ``scrapsim: error: …`` on stderr and exits with status 2, no traceback.
"""

from __future__ import annotations

import argparse
import signal
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from scrapsim.cli.engine import scenario_path
from scrapsim.cli.summary import format_summary

__all__ = ["build_parser", "format_summary", "main"]

PROG = "scrapsim"
EXIT_BAD_INPUT = 2
LAZY = {
    "sweep": ("scrapsim.cli.sweep", "vary scenario fields over a grid with replications"),
    "validate": ("scrapsim.cli.validate", "check the model against FACTS.md's patterns"),
    "calibrate": ("scrapsim.cli.calibrate", "fit uncertain parameters to observed moments"),
    "sensitivity": ("scrapsim.cli.sensitivity", "global sensitivity of the summary metrics, "
                    "Morris or Sobol'"),
    "explore": ("scrapsim.cli.explore", "run policies across uncertainty scenarios (a study)"),
    "discover": ("scrapsim.cli.discover", "where an outcome happens: PRIM boxes, CART tree"),
    "robust": ("scrapsim.cli.robust", "compare an exploration's policies: regret, dominance"),
    "list": ("scrapsim.cli.listing", "list the scenario library shipped with scrapsim"),
    "new": ("scrapsim.cli.new", "write a commented scenario template NAME.yaml"),
    "check": ("scrapsim.cli.check", "is the scenario's market in balance without enforcement?"),
}
"""Commands whose parser module loads only when the command runs: (module, help line)."""


class _VersionAction(argparse.Action):
    """``--version`` that looks the version up only when asked."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 **kwargs: Any) -> None:
        super().__init__(option_strings, dest, nargs=0, default=argparse.SUPPRESS, **kwargs)

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: Any, option_string: str | None = None) -> None:
        from scrapsim.results.identity import package_version

        parser.exit(message=f"{PROG} {package_version()}\n")


def _override(text: str) -> tuple[str, Any]:
    """argparse type for ``--set dotted.key=value``."""
    from scrapsim.scenario import ScenarioError, parse_override

    try:
        return parse_override(text)
    except ScenarioError as exc:                # the reason, without the <scenario> head
        reason = str(exc).removeprefix("<scenario>: ").removeprefix(f"{exc.path}: ")
        raise argparse.ArgumentTypeError(f"{text!r}: {reason}") from None


def _add_run(sub: Any) -> None:
    p = sub.add_parser("run", help="run one scenario and write a run folder (default command)",
                       description="Run a scenario (and its intensity-0 baseline) and write "
                       "daily.csv, baseline_daily.csv, initial.csv, events.csv, summary.json, "
                       "manifest.json and timeseries.png into results/<scenario>/<run-id>/ or "
                       "--out DIR.")
    p.add_argument("scenario", type=scenario_path, help="scenario YAML file, or a library "
                   "scenario's name ('scrapsim list')")
    p.add_argument("--seed", type=int, help="root seed (default: the scenario's seed)")
    p.add_argument("--set", dest="overrides", action="append", type=_override, default=[],
                   metavar="KEY=VALUE", help="override a field by dotted path, e.g. "
                   "enforcement.intensity=0.5, regions.hebei.traders.count=1e3 or "
                   "campaigns.+={...} to append (repeatable)")
    p.add_argument("--out", type=Path, metavar="DIR",
                   help="write the run folder exactly here (an earlier run of the same scenario "
                        "and seed there, unchanged since, is replaced)")
    p.add_argument("--no-plot", action="store_true", help="skip timeseries.png")
    p.add_argument("--no-baseline", action="store_true",
                   help="skip the intensity-0 twin run (then no summary.json)")
    p.add_argument("--quiet", "-q", action="store_true", help="print nothing on success")
    p.add_argument("--force", action="store_true",
                   help="run even when the memory estimate exceeds what is available")


def _add_report(sub: Any) -> None:
    """Register ``report`` (its parser module imports only argparse)."""
    import scrapsim.cli.report as report_cli

    report_cli.add_parser(sub)


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The argument parser; ``command`` is the subcommand about to run (loads its parser)."""
    parser = argparse.ArgumentParser(
        prog=PROG, description="Simulate China's scrap-aluminium market under environmental "
        "inspections. 'scrapsim SCENARIO.yaml' is short for 'scrapsim run SCENARIO.yaml'.")
    parser.add_argument("--version", action=_VersionAction, help="print the version and exit")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    _add_run(sub)
    schema = sub.add_parser("schema", help="print the JSON Schema of scenario files",
                            description="Print the JSON Schema of scenario files (for "
                            "editors), or with --markdown the field reference "
                            "(docs/SCENARIOS.md).")
    schema.add_argument("--markdown", action="store_true",
                        help="print the field reference as Markdown instead")
    _add_lazy(sub, "sweep", wanted=command == "sweep")
    _add_report(sub)
    for name in [n for n in LAZY if n != "sweep"]:
        _add_lazy(sub, name, wanted=command == name)
    return parser


def _module(name: str) -> Any:
    """Import a command module through the import statement's machinery (so that
    ``python -X importtime`` lists it, as the start-up tests rely on)."""
    return __import__(name, fromlist=["main"])


def _add_lazy(sub: Any, name: str, wanted: bool) -> None:
    """Register a command of :data:`LAZY`: its full parser (importing its module, which
    imports only argparse) when it is the command to run, else a one-line entry for --help."""
    module, text = LAZY[name]
    if wanted:
        _module(module).add_parser(sub)
    else:
        sub.add_parser(name, help=f"{text} (see 'scrapsim {name} --help')", add_help=False)


def _with_default_command(argv: list[str], commands: set[str]) -> list[str]:
    """Insert ``run`` unless the first argument is a command or a top-level option; a first
    argument that is neither a file nor a library scenario but close to a command's name
    is refused with a "did you mean" (exit 2)."""
    if not argv or argv[0] in commands or argv[0] in ("-h", "--help", "--version"):
        return argv
    first = argv[0]
    if not first.startswith("-") and not Path(first).exists() and "/" not in first \
            and not first.endswith((".yaml", ".yml")):
        import difflib

        hint = difflib.get_close_matches(first, sorted(commands), n=1, cutoff=0.7)
        if hint and _not_in_library(first):
            print(f"{PROG}: error: unknown command {first!r} (did you mean {hint[0]!r}?); "
                  f"commands: {', '.join(sorted(commands))}", file=sys.stderr)
            raise SystemExit(EXIT_BAD_INPUT)
    return ["run", *argv]


def _command_parser(parser: argparse.ArgumentParser, command: str) -> argparse.ArgumentParser:
    """The parser of ``command`` (``parser`` itself when there is none)."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction) and command in action.choices:
            return action.choices[command]
    return parser


def _option_hint(parser: argparse.ArgumentParser, extra: list[str]) -> str:
    """`` (did you mean '--no-plot'?)`` for the first unknown option close to one of the
    command's (``--no-plto``); empty when none is."""
    import difflib

    known = [o for action in parser._actions for o in action.option_strings]
    for arg in extra:
        close = difflib.get_close_matches(arg.split("=")[0], known, n=1) \
            if arg.startswith("--") else []
        if close:
            return f" (did you mean {close[0]!r}?)"
    return ""


def _not_in_library(name: str) -> bool:
    from scrapsim.scenario.library import find_scenario

    return find_scenario(name) is None


def _commands() -> set[str]:
    return {"run", "schema", "report", *LAZY}


def main(argv: list[str] | None = None) -> int:
    """Entry point; returns the exit status (0 ok, 2 bad input)."""
    argv = list(sys.argv[1:] if argv is None else argv)
    argv = _with_default_command(argv, _commands())
    parser = build_parser(argv[0] if argv else None)
    if not argv:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    args, extra = parser.parse_known_args(argv)
    if extra:   # said with the command's usage, not the top level's
        command = _command_parser(parser, args.command)
        command.error(f"unrecognized arguments: {' '.join(extra)}{_option_hint(command, extra)}")
    helper = None
    try:
        with _terminate_as_interrupt():    # before the fork: no moment where SIGTERM kills
            with _signals_held():           # the command and leaves its helper waiting, and
                helper = _figure_helper(args)   # none between the fork and this assignment
            return _main(args, argv, helper)
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return _pipe_closed()
    finally:
        if helper is not None:
            helper.close()


def _pipe_closed() -> int:
    """The reader of our output went away (``scrapsim list | head -1``): stop quietly, as a
    tool killed by SIGPIPE would (status 141), with stdout pointed at /dev/null so the
    interpreter's last flush does not complain."""
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    return 141


@contextmanager
def _signals_held() -> Iterator[None]:
    """SIGINT and SIGTERM blocked for the block, and handled just after it (as if they had come
    then). Only where the helper forks: with other threads running a blocked signal would go
    to them, and then :meth:`FigureProcess.start` does not fork anyway."""
    if not hasattr(signal, "pthread_sigmask"):
        yield
        return
    before = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT, signal.SIGTERM})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, before)


def _figure_helper(args: argparse.Namespace) -> Any:
    """A run that draws its figure starts the figure's helper process first, before anything
    heavier is imported, so matplotlib imports on the other core meanwhile
    (:mod:`scrapsim.cli.figure`)."""
    if args.command != "run" or args.no_plot:
        return None
    from scrapsim.cli.figure import FigureProcess

    return FigureProcess.start()


def _main(args: argparse.Namespace, argv: list[str], helper: Any) -> int:
    from scrapsim.errors import MissingExtraError, ScenarioError

    try:
        return _dispatch(args, argv, helper)
    except BrokenPipeError:
        raise
    except (ScenarioError, MissingExtraError, OSError) as exc:
        print(f"{PROG}: error: {_located(exc, getattr(args, 'scenario', None))}",
              file=sys.stderr)
        return EXIT_BAD_INPUT


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """SIGTERM (``kill PID``) handled like Ctrl-C while a command runs: the command stores
    what finished, stops its worker processes and exits 130, instead of dying and leaving
    workers behind."""
    def interrupt(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:              # not the main thread (an embedding application): leave it
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _located(exc: BaseException, file: Path | None) -> str:
    """The message, naming the scenario file where a check made after loading could not."""
    from scrapsim.results.folders import os_problem

    text = os_problem(exc)
    if file is not None and getattr(exc, "file", "") is None and text.startswith("<scenario>"):
        return str(file) + text.removeprefix("<scenario>")
    return text


def _dispatch(args: argparse.Namespace, argv: list[str], helper: Any = None) -> int:
    if args.command == "report":
        import scrapsim.cli.report as report_cli

        return report_cli.main(args)
    if args.command == "schema":
        return _schema(args.markdown)
    if args.command in LAZY:
        return int(_module(LAZY[args.command][0]).main(args))
    return _run(args, argv, helper)


def _schema(markdown: bool = False) -> int:
    import json

    if markdown:
        from scrapsim.scenario.authoring import field_reference

        print(field_reference())
        return 0
    from scrapsim.scenario import scenario_schema

    print(json.dumps(scenario_schema(), indent=2, ensure_ascii=False))
    return 0


def _run(args: argparse.Namespace, argv: list[str], helper: Any = None) -> int:
    """Load, check the output place, run, write, report; ``helper`` (a
    :class:`~scrapsim.cli.figure.FigureProcess`) draws the figure when there is one."""
    from scrapsim.results import run_folder as io
    from scrapsim.scenario import load_scenario

    overrides = dict(args.overrides)
    if args.seed is not None:
        overrides["seed"] = args.seed
    from scrapsim.scenario.library import shadowed

    scenario = load_scenario(args.scenario, overrides)
    for warning in [*filter(None, [shadowed(args.scenario)]), *scenario.run_warnings()]:
        print(f"{PROG}: warning: {warning}", file=sys.stderr)
    if args.out is None:
        io.run_dir(scenario)
    else:
        io.check_out_dir(args.out, scenario)
    from scrapsim.errors import ScenarioError
    from scrapsim.experiments.bounds import check_run
    from scrapsim.scenario import _blame_overrides
    from scrapsim.scenario.library import resolve

    try:
        check_run(scenario, str(resolve(args.scenario)), force=args.force)
    except ScenarioError as exc:                # a bound an override broke names the override
        raise _blame_overrides(exc, overrides) from None
    from scrapsim.model.simulation import run

    result = run(scenario, baseline=not args.no_baseline)
    folder = io.write_run(result, args.out, plot=not args.no_plot, command=[PROG, *argv],
                          draw=None if helper is None else helper.draw)
    if not args.quiet:
        print(format_summary(result, folder))
    return 0
