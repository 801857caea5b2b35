"""The ``limbeck`` command line.

Kept light: only argparse and limbeck's error types load before a command
is chosen, so ``limbeck --help`` and the commands that need no database
start fast. Exit codes: 0 ok, 1 a migration or check failed, 2 bad usage,
configuration or input.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from limbeck import __version__, _startup
from limbeck.errors import LimbeckError

TYPE_CHECKING = False  # typing is not imported at run time (mypy reads this as usual)
if TYPE_CHECKING:
    from typing import Any, NoReturn

_JSON_HELP = "print machine-readable JSON"

#: Every command name and alias build_parser() defines. A name missing here
#: only costs speed (the full parser is built), never correctness.
_COMMAND_NAMES = frozenset(
    {
        "init",
        "list-templates",
        "list_templates",
        "revision",
        "merge",
        "heads",
        "branches",
        "history",
        "show",
        "edit",
        "upgrade",
        "downgrade",
        "stamp",
        "current",
        "check",
        "ensure-version",
        "ensure_version",
    }
)
_LONG_WITH_VALUE = ("--config", "--name")
_LONG_FLAGS = ("--quiet", "--traceback", "--raiseerr")
_LONG_OPTIONS = (*_LONG_WITH_VALUE, *_LONG_FLAGS, "--help", "--version")


class _Retry(Exception):
    """Parsing with only one command's parser failed: parse again with all."""


class _OneCommandParser(argparse.ArgumentParser):
    """Raises instead of printing an error, so that the full parser can
    report it (see :func:`parse_arguments`)."""

    def error(self, message: str) -> NoReturn:
        raise _Retry(message)


class _SkippedParser(argparse.ArgumentParser):
    """Stands for the parser of a command that is not being run: arguments
    added to it are dropped, and nothing is built."""

    def __init__(self) -> None:  # no super().__init__(): that is the point
        pass

    def add_argument(self, *args: Any, **kwargs: Any) -> Any:
        return None


def _add_common_target(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--sql", action="store_true", help="print the SQL instead of running it")
    parser.add_argument("--tag", help="an arbitrary tag env.py can read (get_tag_argument)")


def _seconds(text: str) -> float:
    """A number of seconds, zero or more (argparse type of --lock-timeout)."""
    import argparse
    import math

    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds") from None
    if not math.isfinite(value) or value < 0:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number of seconds >= 0")
    return value


def build_parser(
    only: str | None = None, parser_class: type[argparse.ArgumentParser] = argparse.ArgumentParser
) -> argparse.ArgumentParser:
    """The command-line parser; with ``only``, that command is the only one
    defined (which is much faster to build)."""
    parser = parser_class(
        prog="limbeck",
        description="Schema migrations for SQLAlchemy (runs Alembic projects unchanged).",
    )
    parser.add_argument("--version", action="version", version=f"limbeck {__version__}")
    parser.add_argument(
        "-c",
        "--config",
        action="append",
        metavar="FILE",
        help="config file (limbeck.ini / alembic.ini; may be given again for a pyproject.toml)",
    )
    parser.add_argument(
        "-n", "--name", metavar="SECTION", help="ini section to read (default: limbeck or alembic)"
    )
    parser.add_argument(
        "-x",
        action="append",
        metavar="KEY=VALUE",
        help="extra argument for env.py (context.get_x_argument)",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="print only errors")
    parser.add_argument(
        "--traceback",
        "--raiseerr",
        dest="traceback",
        action="store_true",
        help="show the full Python traceback on errors",
    )
    commands = parser.add_subparsers(dest="command", metavar="<command>")

    def command(name: str, help_text: str, *aliases: str) -> argparse.ArgumentParser:
        if only is not None and only != name and only not in aliases:
            return _SkippedParser()
        return commands.add_parser(
            name, help=help_text, description=help_text, aliases=list(aliases)
        )

    p = command("init", "create a migration environment")
    p.add_argument("directory")
    p.add_argument("-t", "--template", default="generic", help="template name (list-templates)")
    p.add_argument("--package", action="store_true", help="write __init__.py files too")

    command("list-templates", "list the templates init can use", "list_templates")

    p = command("revision", "create a new revision file")
    p.add_argument("-m", "--message")
    p.add_argument("--autogenerate", action="store_true", help="compare models and database")
    p.add_argument("--sql", action="store_true", help="run env.py in offline mode")
    p.add_argument("--head", default="head", help="where the revision goes (default: head)")
    p.add_argument("--splice", action="store_true", help="allow a --head that is not a head")
    p.add_argument("--branch-label", help="a branch label for the new revision")
    p.add_argument("--version-path", help="directory for the new file")
    p.add_argument("--rev-id", help="the new revision's id (default: random)")
    p.add_argument("--depends-on", action="append", help="a revision this one depends on")
    p.add_argument(
        "--rename", action="append", metavar="OLD:NEW", help="confirm a rename for autogenerate"
    )

    p = command("merge", "create a revision that joins branches")
    p.add_argument("revisions", nargs="+", help="revisions to merge, or `heads`")
    p.add_argument("-m", "--message")
    p.add_argument("--branch-label")
    p.add_argument("--rev-id")
    p.add_argument("--splice", action="store_true", help="allow revisions that are not heads")

    p = command("heads", "show the head revisions")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument(
        "--resolve-dependencies", action="store_true", help="count depends_on as parents"
    )
    p.add_argument("--json", action="store_true", help=_JSON_HELP)

    p = command("branches", "show branch points")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument("--json", action="store_true", help=_JSON_HELP)

    p = command("history", "list revisions, newest first")
    p.add_argument("-r", "--rev-range", metavar="[START]:[END]")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument(
        "-i", "--indicate-current", action="store_true", help="mark the database's revisions"
    )
    p.add_argument("--applied", action="store_true", help="show the database's ledger instead")
    p.add_argument("--json", action="store_true", help=_JSON_HELP)

    p = command("show", "show one revision in full")
    p.add_argument("rev")
    p.add_argument("--json", action="store_true", help=_JSON_HELP)

    p = command("edit", "open a revision file in $EDITOR")
    p.add_argument("rev")

    p = command("upgrade", "upgrade the database")
    p.add_argument(
        "revision", help="target: head, heads, +1, an id, label@head, start:end with --sql"
    )
    _add_common_target(p)
    p.add_argument(
        "--lock-timeout", type=_seconds, metavar="SECONDS", help="wait this long for the lock"
    )
    p.add_argument(
        "--accept-changed", action="store_true", help="accept revisions whose code changed"
    )

    p = command("downgrade", "downgrade the database")
    p.add_argument("revision", help="target: -1, base, an id, label@base, from:to with --sql")
    _add_common_target(p)
    p.add_argument("--lock-timeout", type=_seconds, metavar="SECONDS")

    p = command("stamp", "record revisions without running them")
    p.add_argument("revisions", nargs="+")
    _add_common_target(p)
    p.add_argument("--purge", action="store_true", help="empty the version table first")

    p = command("current", "show the database's revisions")
    p.add_argument("-v", "--verbose", action="store_true")
    p.add_argument(
        "--check-heads", action="store_true", help="exit 1 unless the database is at the heads"
    )
    p.add_argument("--json", action="store_true", help=_JSON_HELP)

    p = command("check", "exit 1 when the models and the database differ")
    p.add_argument(
        "--offline", action="store_true", help="compare with the migration history, no database"
    )
    p.add_argument("--json", action="store_true", help=_JSON_HELP)

    p = command("ensure-version", "create the version table if missing", "ensure_version")
    p.add_argument("--sql", action="store_true")

    return parser


def _make_config(options: argparse.Namespace, need_config: bool) -> Any:
    from limbeck.config import Config

    if not need_config:
        paths = options.config or []
        ini = next((p for p in paths if not p.endswith(".toml")), None)
        return Config(file_=ini, ini_section=options.name, cmd_opts=options)
    return Config.discover(options.config, ini_section=options.name, cmd_opts=options)


#: Per command, the option names Alembic's ``cmd_opts.cmd`` lists: those
#: passed positionally, then those passed by keyword (Alembic 1.20's lists).
_ALEMBIC_CMD_ARGS: dict[str, tuple[list[str], list[str]]] = {
    "init": (["directory"], ["template", "package"]),
    "list-templates": ([], []),
    "revision": (
        [],
        [
            "message",
            "autogenerate",
            "sql",
            "head",
            "splice",
            "branch_label",
            "version_path",
            "rev_id",
            "depends_on",
            "process_revision_directives",
        ],
    ),
    "merge": (["revisions"], ["message", "branch_label", "rev_id", "splice"]),
    "heads": ([], ["verbose", "resolve_dependencies"]),
    "branches": ([], ["verbose"]),
    "history": ([], ["rev_range", "verbose", "indicate_current"]),
    "show": (["rev"], []),
    "edit": (["rev"], []),
    "upgrade": (["revision"], ["sql", "tag"]),
    "downgrade": (["revision"], ["sql", "tag"]),
    "stamp": (["revisions"], ["sql", "tag", "purge"]),
    "current": ([], ["check_heads", "verbose"]),
    "check": ([], []),
    "ensure-version": ([], ["sql"]),
}


def _describe_command(options: argparse.Namespace, name: str, config: Any) -> None:
    """Give the parsed options the two attributes Alembic's have, for env.py
    code that reads ``config.cmd_opts``: ``cmd``, a tuple ``(function,
    positional option names, keyword option names)`` as in Alembic, with the
    ``limbeck.command`` function (limbeck-only options such as ``json`` are
    not listed); and ``name``, the ini section in use (as given with ``-n``,
    else the one chosen; ``limbeck`` when no configuration is read)."""
    from limbeck import command

    positional, keywords = _ALEMBIC_CMD_ARGS[name]
    options.cmd = (getattr(command, name.replace("-", "_")), list(positional), list(keywords))
    if options.name is None:
        options.name = config.config_ini_section if config is not None else "limbeck"


def run(options: argparse.Namespace) -> None:
    from limbeck import command

    name = options.command.replace("_", "-")
    need_config = name not in ("init", "list-templates")
    config = _make_config(options, need_config=need_config)
    _describe_command(options, name, config if need_config else None)
    if name == "init":
        command.init(config, options.directory, template=options.template, package=options.package)
    elif name == "list-templates":
        command.list_templates(config)
    elif name == "revision":
        command.revision(
            config,
            message=options.message,
            autogenerate=options.autogenerate,
            sql=options.sql,
            head=options.head,
            splice=options.splice,
            branch_label=options.branch_label,
            version_path=options.version_path,
            rev_id=options.rev_id,
            depends_on=options.depends_on,
            rename=options.rename,
        )
    elif name == "merge":
        command.merge(
            config,
            options.revisions,
            message=options.message,
            branch_label=options.branch_label,
            rev_id=options.rev_id,
            splice=options.splice,
        )
    elif name == "heads":
        command.heads(config, options.verbose, options.resolve_dependencies, as_json=options.json)
    elif name == "branches":
        command.branches(config, options.verbose, as_json=options.json)
    elif name == "history":
        command.history(
            config,
            options.rev_range,
            options.verbose,
            options.indicate_current,
            as_json=options.json,
            applied=options.applied,
        )
    elif name == "show":
        command.show(config, options.rev, as_json=options.json)
    elif name == "edit":
        command.edit(config, options.rev)
    elif name == "upgrade":
        command.upgrade(
            config,
            options.revision,
            sql=options.sql,
            tag=options.tag,
            accept_changed=options.accept_changed,
            lock_timeout=options.lock_timeout,
        )
    elif name == "downgrade":
        command.downgrade(
            config,
            options.revision,
            sql=options.sql,
            tag=options.tag,
            lock_timeout=options.lock_timeout,
        )
    elif name == "stamp":
        command.stamp(
            config, options.revisions, sql=options.sql, tag=options.tag, purge=options.purge
        )
    elif name == "current":
        command.current(
            config, check_heads=options.check_heads, verbose=options.verbose, as_json=options.json
        )
    elif name == "check":
        command.check(config, offline=options.offline, as_json=options.json)
    elif name == "ensure-version":
        command.ensure_version(config, sql=options.sql)
    else:  # pragma: no cover - argparse only accepts the names above
        raise LimbeckError(f"unknown command {options.command!r}")


def _command_named(arguments: Sequence[str]) -> str | None:
    """The command ``arguments`` run, when that is plain from a quick look
    at the global options before it; otherwise None."""
    takes_value = False
    for token in arguments:
        if takes_value:
            takes_value = False
        elif token.startswith("--"):
            name, equals, _ = token.partition("=")
            matches = [option for option in _LONG_OPTIONS if option.startswith(name)]
            option = name if name in _LONG_OPTIONS else matches[0] if len(matches) == 1 else None
            if option is None or option in ("--help", "--version"):
                return None
            takes_value = option in _LONG_WITH_VALUE and not equals
        elif token.startswith("-") and len(token) > 1:
            for index, letter in enumerate(token[1:], start=2):
                if letter == "q":
                    continue
                if letter in "cnx":
                    takes_value = index == len(token)
                    break
                return None  # -h, or something the full parser should see
        else:
            return token if token in _COMMAND_NAMES else None
    return None


def parse_arguments(arguments: Sequence[str]) -> argparse.Namespace:
    """Parse the command line. Building every command's parser is slow, so
    when the command is plain only its parser is built; should that parser
    object to anything, the full parser parses again (and reports it)."""
    only = _command_named(arguments)
    if only is not None:
        parser = build_parser(only, _OneCommandParser)
        try:
            options = parser.parse_args(arguments)
        except _Retry:
            pass
        else:
            if options.command == only:
                return options
    return build_parser().parse_args(arguments)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit code."""
    # A command line run is one short process: no cyclic garbage collection
    # while it starts up (see limbeck._startup).
    _startup.begin()
    try:
        return _main(argv)
    finally:
        _startup.end()


def _main(argv: Sequence[str] | None) -> int:
    arguments = list(sys.argv[1:] if argv is None else argv)
    options = parse_arguments(arguments)
    if options.command is None:
        build_parser().print_help()
        return 2
    try:
        run(options)
    except LimbeckError as exc:
        if options.traceback:
            raise
        _print_error(exc.message, exc.hint)
        return exc.exit_code
    except KeyboardInterrupt:
        _print_error(
            "interrupted",
            "a migration in progress was rolled back where the database allows it; "
            "`limbeck current` shows where the database is",
        )
        return 130
    except BrokenPipeError:
        # The reader went away (`limbeck history | head`): stop quietly.
        _silence_stdout()
        return 0
    except Exception as exc:
        if options.traceback:
            raise
        _print_error(
            f"unexpected {type(exc).__name__}: {exc}",
            "rerun with --traceback for the full trace",
        )
        return 2
    return 0


def _silence_stdout() -> None:
    import os

    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def _print_error(message: str, hint: str | None) -> None:
    stream = sys.stderr
    stream.write(f"error: {message}\n")
    if hint:
        stream.write(f"hint: {hint}\n")
    stream.flush()


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
