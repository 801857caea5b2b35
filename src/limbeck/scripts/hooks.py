"""Post-write hooks: formatters and linters run on each new revision file.

Types: ``console_scripts`` (an installed entry point, run with this
interpreter), ``exec`` (an executable on PATH), ``module`` (``python -m``).
Options: ``options`` (``REVISION_SCRIPT_FILENAME`` is replaced by the file;
appended when absent) and ``cwd``. More types can be registered with
:func:`register`.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable, Mapping

from limbeck.errors import ConfigError, ScriptError

HookRunner = Callable[[str, Mapping[str, str]], None]
_registry: dict[str, HookRunner] = {}

TOKEN = "REVISION_SCRIPT_FILENAME"


def register(name: str) -> Callable[[HookRunner], HookRunner]:
    """Register a hook type: ``@register("mytype") def run(path, options)``."""

    def decorate(fn: HookRunner) -> HookRunner:
        _registry[name] = fn
        return fn

    return decorate


def _arguments(path: str, options: Mapping[str, str]) -> list[str]:
    raw = options.get("options", "")
    if TOKEN not in raw:
        raw = f"{raw} {TOKEN}".strip()
    return [path if part == TOKEN else part for part in shlex.split(raw)]


def _run(name: str, command: list[str], options: Mapping[str, str]) -> None:
    try:
        completed = subprocess.run(
            command, cwd=options.get("cwd") or None, capture_output=True, text=True, check=False
        )
    except OSError as exc:
        raise ScriptError(f"post-write hook {name!r} could not start: {exc}") from None
    if completed.returncode != 0:
        output = (completed.stderr or completed.stdout).strip().splitlines()
        detail = output[-1] if output else f"exit code {completed.returncode}"
        raise ScriptError(
            f"post-write hook {name!r} failed: {detail}",
            hint="the revision file was written; fix the hook or the file",
        )


def _require(options: Mapping[str, str], key: str) -> str:
    value = options.get(key)
    if not value:
        name = options.get("_hook_name", "?")
        raise ConfigError(
            f"post-write hook {name!r} needs {key}",
            hint=f"add {name}.{key} = ... to [post_write_hooks]",
        )
    return value


def _console_scripts_command(path: str, options: Mapping[str, str]) -> list[str]:
    from importlib.metadata import entry_points

    name = _require(options, "entrypoint")
    matches = [ep for ep in entry_points(group="console_scripts") if ep.name == name]
    if not matches:
        raise ConfigError(
            f"post-write hook {options.get('_hook_name')!r}: "
            f"no console script {name!r} is installed",
            hint=f"install the package that provides {name}",
        )
    module, _, attr = matches[0].value.partition(":")
    code = f"import sys; from {module} import {attr.split('.')[0]} as f; sys.exit(f())"
    if "." in attr:
        code = f"import sys, {module} as m; sys.exit(m.{attr}())"
    return [sys.executable, "-c", code, *_arguments(path, options)]


def _exec_command(path: str, options: Mapping[str, str]) -> list[str]:
    executable = _require(options, "executable")
    found = shutil.which(executable) or (executable if os.path.isfile(executable) else None)
    if found is None:
        raise ConfigError(
            f"post-write hook {options.get('_hook_name')!r}: executable {executable!r} not found",
            hint="install it or give its full path",
        )
    return [found, *_arguments(path, options)]


def _module_command(path: str, options: Mapping[str, str]) -> list[str]:
    module = _require(options, "module")
    return [sys.executable, "-m", module, *_arguments(path, options)]


#: The built-in types, as commands; their configuration can be checked up front.
_COMMANDS: dict[str, Callable[[str, Mapping[str, str]], list[str]]] = {
    "console_scripts": _console_scripts_command,
    "exec": _exec_command,
    "module": _module_command,
}


def _runner(build: Callable[[str, Mapping[str, str]], list[str]]) -> HookRunner:
    def run(path: str, options: Mapping[str, str]) -> None:
        _run(options["_hook_name"], build(path, options), options)

    return run


_BUILT_IN = {name: register(name)(_runner(build)) for name, build in _COMMANDS.items()}


def check_hooks(hooks: list[dict[str, str]]) -> None:
    """Fail before a revision file is written when a hook cannot run at all
    (unknown type, missing option, program not installed)."""
    for options in hooks:
        kind = options.get("type")
        runner = _registry.get(kind or "")
        if runner is None:
            raise ConfigError(
                f"post-write hook {options.get('_hook_name')!r} has unknown type {kind!r}",
                hint="types: " + ", ".join(sorted(_registry)),
            )
        if kind is not None and runner is _BUILT_IN.get(kind):
            _COMMANDS[kind](TOKEN, options)


def run_hooks(path: str, hooks: list[dict[str, str]]) -> None:
    """Run every configured hook on ``path``, in order."""
    for options in hooks:
        kind = options.get("type")
        runner = _registry.get(kind or "")
        if runner is None:
            raise ConfigError(
                f"post-write hook {options.get('_hook_name')!r} has unknown type {kind!r}",
                hint="types: " + ", ".join(sorted(_registry)),
            )
        runner(path, options)
