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


@register("console_scripts")
def _console_scripts(path: str, options: Mapping[str, str]) -> None:
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
    _run(options["_hook_name"], [sys.executable, "-c", code, *_arguments(path, options)], options)


@register("exec")
def _exec(path: str, options: Mapping[str, str]) -> None:
    executable = _require(options, "executable")
    found = shutil.which(executable) or (executable if os.path.isfile(executable) else None)
    if found is None:
        raise ConfigError(
            f"post-write hook {options.get('_hook_name')!r}: executable {executable!r} not found",
            hint="install it or give its full path",
        )
    _run(options["_hook_name"], [found, *_arguments(path, options)], options)


@register("module")
def _module(path: str, options: Mapping[str, str]) -> None:
    module = _require(options, "module")
    _run(options["_hook_name"], [sys.executable, "-m", module, *_arguments(path, options)], options)


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
