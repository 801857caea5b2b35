"""Configuration: ini files, ``[tool.limbeck]`` in pyproject.toml, the environment.

:class:`Config` keeps Alembic's API (``get_main_option``, ``get_section``,
``attributes`` ...) so env.py files written for Alembic work unchanged. On
top of it:

* ``${VAR}`` and ``${VAR:-default}`` in any value read from the environment,
  so secrets stay out of files; ``LIMBECK_DATABASE_URL`` overrides
  ``sqlalchemy.url``;
* booleans accept true/false, yes/no, 1/0 and on/off, in ini and TOML alike;
* a key that looks like a misspelt known key is an error, not silently
  ignored.

Nothing here imports SQLAlchemy: commands that need no database stay fast.
"""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Iterator, Mapping
from configparser import ConfigParser
from configparser import Error as ConfigParserError

from limbeck.errors import ConfigError

TYPE_CHECKING = False  # typing is not imported at run time (mypy reads this as usual)
if TYPE_CHECKING:
    from typing import Any, ClassVar, TextIO

#: Keys limbeck itself reads from the main section (or ``[tool.limbeck]``).
KNOWN_KEYS = frozenset(
    {
        "script_location",
        "sqlalchemy.url",
        "prepend_sys_path",
        "path_separator",
        "version_path_separator",
        "version_locations",
        "recursive_version_locations",
        "file_template",
        "truncate_slug_length",
        "timezone",
        "revision_environment",
        "sourceless",
        "output_encoding",
        "post_write_hooks",
        "version_table",
        "version_table_schema",
        "history_table",
        "lock_timeout",
        "databases",
    }
)

_TRUE = frozenset({"true", "yes", "1", "on"})
_FALSE = frozenset({"false", "no", "0", "off", ""})
_ENV_REFERENCE = re.compile(r"\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?::-(?P<default>[^}]*))?\}")
_SEPARATORS = {"os": os.pathsep, ":": ":", ";": ";", "space": " ", "newline": "\n"}

DEFAULT_SECTION = "limbeck"
INI_NAMES = ("limbeck.ini", "alembic.ini")
TOML_TABLES = ("limbeck", "alembic")


def parse_bool(value: object, where: str) -> bool:
    """A boolean from ini text or TOML; anything unclear is an error."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ConfigError(
        f"{where} must be a boolean, not {value!r}",
        hint="write true/false, yes/no, 1/0 or on/off",
    )


def expand_env(value: str, where: str) -> str:
    """Replace ``${VAR}`` / ``${VAR:-default}`` with the environment's values."""

    def replace(match: re.Match[str]) -> str:
        name = match["name"]
        found = os.environ.get(name)
        if found is not None:
            return found
        if match["default"] is not None:
            return match["default"]
        raise ConfigError(
            f"{where} uses ${{{name}}}, but the environment variable {name} is not set",
            hint=f"export {name}=..., or write ${{{name}:-default}}",
        )

    return _ENV_REFERENCE.sub(replace, value) if "${" in value else value


def _load_toml(path: str) -> dict[str, Any]:
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - exercised on 3.10 only
        import tomli as tomllib
    try:
        with open(path, "rb") as handle:
            data: dict[str, Any] = tomllib.load(handle)
            return data
    except OSError as exc:
        raise ConfigError(
            f"cannot read {path}: {exc.strerror}", hint="check the file's permissions"
        ) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"{path} is not valid TOML: {exc}",
            hint="fix the file (tables in [brackets], key = value, strings in quotes)",
        ) from None


def _tool_table(data: Mapping[str, Any]) -> tuple[str, dict[str, Any]] | None:
    tool = data.get("tool")
    if not isinstance(tool, dict):
        return None
    for name in TOML_TABLES:
        table = tool.get(name)
        if isinstance(table, dict):
            return name, table
    return None


class Config:
    """One limbeck configuration: an ini section and/or a pyproject table.

    Mirrors Alembic's ``Config``: ``file_`` is the ini file, ``toml_file``
    a pyproject.toml, ``ini_section`` the section to read (``limbeck``, or
    ``alembic`` when only that exists, or when there is no ini file and the
    Config was made as ``alembic.config.Config``), ``attributes`` a dict for
    passing live objects (a Connection) into env.py, ``cmd_opts`` the
    parsed command-line options.
    """

    #: True for the class reached as ``alembic.config.Config`` (see
    #: :mod:`limbeck.compat.alembic.config`): without a file it reads the
    #: ``[alembic]`` section and keeps Alembic's version table.
    _made_through_alembic: ClassVar[bool] = False

    def __init__(
        self,
        file_: str | os.PathLike[str] | None = None,
        toml_file: str | os.PathLike[str] | None = None,
        ini_section: str | None = None,
        output_buffer: TextIO | None = None,
        stdout: TextIO | None = None,
        cmd_opts: Any = None,
        config_args: Mapping[str, Any] | None = None,
        attributes: dict[str, Any] | None = None,
    ) -> None:
        self.config_file_name = str(file_) if file_ is not None else None
        self.toml_file_name = str(toml_file) if toml_file is not None else None
        self._requested_section = ini_section
        self.output_buffer = output_buffer
        self.stdout = stdout if stdout is not None else sys.stdout
        self.cmd_opts = cmd_opts
        self.config_args = dict(config_args or {})
        self.attributes: dict[str, Any] = attributes if attributes is not None else {}
        self._file_config: ConfigParser | None = None
        self._toml: tuple[str, dict[str, Any]] | None = None
        self._toml_loaded = False
        self._section: str | None = None

    # -- discovery ---------------------------------------------------------------

    @classmethod
    def discover(
        cls,
        paths: list[str] | None = None,
        ini_section: str | None = None,
        cwd: str | None = None,
        **kwargs: Any,
    ) -> Config:
        """Find the configuration the way the CLI does.

        ``paths`` are ``-c`` values (an ini file and/or a pyproject.toml);
        otherwise ``$LIMBECK_CONFIG``, ``$ALEMBIC_CONFIG``, then
        ``limbeck.ini``, ``alembic.ini`` and ``pyproject.toml`` in ``cwd``.
        """
        # os.path rather than pathlib: this runs on every command's start-up.
        base = os.path.abspath(cwd) if cwd else os.getcwd()
        ini: str | None = None
        toml: str | None = None
        candidates = list(paths or [])
        if not candidates:
            for variable in ("LIMBECK_CONFIG", "ALEMBIC_CONFIG"):
                if os.environ.get(variable):
                    candidates = [os.environ[variable]]
                    break
        for raw in candidates:
            path = os.path.normpath(os.path.join(base, raw))
            if not os.path.isfile(path):
                raise ConfigError(
                    f"config file {raw} does not exist",
                    hint="check the -c option (or $LIMBECK_CONFIG)",
                )
            if path.endswith(".toml"):
                toml = path
            else:
                ini = path
        if not candidates:
            found = (os.path.join(base, name) for name in INI_NAMES)
            ini = next((path for path in found if os.path.isfile(path)), None)
        if toml is None and (ini is None or os.path.dirname(ini) == base):
            project = os.path.join(base, "pyproject.toml")
            if os.path.isfile(project) and _tool_table(_load_toml(project)) is not None:
                toml = project
        if ini is None and toml is None:
            raise ConfigError(
                f"no limbeck.ini, alembic.ini or [tool.limbeck] in pyproject.toml in {base}",
                hint="run `limbeck init migrations` to start, or point -c at your config",
            )
        return cls(file_=ini, toml_file=toml, ini_section=ini_section, **kwargs)

    # -- raw sources ---------------------------------------------------------------

    @property
    def here(self) -> str:
        source = self.config_file_name or self.toml_file_name
        return os.path.dirname(os.path.abspath(source)) if source else os.path.abspath(".")

    @property
    def file_config(self) -> ConfigParser:
        """The ini file as a ConfigParser (``%(here)s`` interpolated)."""
        if self._file_config is None:
            parser = ConfigParser({"here": self.here, **self.config_args})
            if self.config_file_name:
                try:
                    with open(self.config_file_name, encoding="utf-8") as handle:
                        parser.read_file(handle)
                except OSError as exc:
                    raise ConfigError(
                        f"cannot read {self.config_file_name}: {exc.strerror}",
                        hint="check the file's permissions",
                    ) from None
                except (ConfigParserError, UnicodeDecodeError) as exc:
                    first = str(exc).splitlines()[0]
                    raise ConfigError(
                        f"{self.config_file_name} is not a valid ini file: {first}",
                        hint="fix the file: [section] headers, key = value lines, UTF-8 text, "
                        "each key once per section",
                    ) from None
            self._file_config = parser
        return self._file_config

    @property
    def toml_config(self) -> dict[str, Any]:
        """``[tool.limbeck]`` (or ``[tool.alembic]``) of the pyproject file."""
        table = self._toml_table()
        return table[1] if table else {}

    def _toml_table(self) -> tuple[str, dict[str, Any]] | None:
        """The pyproject table's name (``limbeck`` or ``alembic``) and keys."""
        if not self._toml_loaded:
            self._toml_loaded = True
            if self.toml_file_name:
                self._toml = _tool_table(_load_toml(self.toml_file_name))
        return self._toml

    # Alembic's name for the same table.
    toml_alembic_config = toml_config

    @property
    def config_ini_section(self) -> str:
        """The ini section holding the main options."""
        if self._section is None:
            requested = self._requested_section
            parser = self.file_config
            if requested is not None:
                if self.config_file_name and not parser.has_section(requested):
                    raise ConfigError(
                        f"{self.config_file_name} has no section [{requested}]",
                        hint="check the -n option; sections there: "
                        + (", ".join(parser.sections()) or "none"),
                    )
                self._section = requested
            elif parser.has_section("alembic") and not parser.has_section(DEFAULT_SECTION):
                self._section = "alembic"
            elif not self.config_file_name and self._made_through_alembic:
                self._section = "alembic"  # Alembic's Config() default
            else:
                self._section = DEFAULT_SECTION
        return self._section

    @property
    def is_alembic_config(self) -> bool:
        """Whether this project is configured the Alembic way, so that it
        keeps Alembic's ``alembic_version`` table (and logger names).

        True for an ini file named ``alembic.ini`` (whichever section ``-n``
        selects), for any ini file whose selected section is ``[alembic]``
        or that has an ``[alembic]`` section and no ``[limbeck]`` one, for
        ``[tool.alembic]`` in pyproject.toml without an ini file, and, with
        no file at all, for a Config made as ``alembic.config.Config`` (or
        given ``ini_section="alembic"``). False otherwise: ``limbeck.ini``,
        ``[tool.limbeck]``, or ``limbeck.config.Config()`` with no file.
        """
        if self.config_file_name:
            if os.path.basename(self.config_file_name) == "alembic.ini":
                return True
            if self.config_ini_section == "alembic":
                return True
            parser = self.file_config
            return parser.has_section("alembic") and not parser.has_section(DEFAULT_SECTION)
        table = self._toml_table()
        if table is not None:
            return table[0] == "alembic"
        return self._made_through_alembic or self.config_ini_section == "alembic"

    # -- reading -------------------------------------------------------------------

    def _where(self, key: str, section: str | None = None) -> str:
        source = os.path.basename(self.config_file_name or self.toml_file_name or "config")
        return f"{source} [{section or self.config_ini_section}] {key}"

    def get_section(
        self, name: str, default: dict[str, str] | None = None
    ) -> dict[str, str] | None:
        """All keys of an ini section (environment references expanded)."""
        parser = self.file_config
        if not parser.has_section(name):
            override = os.environ.get("LIMBECK_DATABASE_URL")
            if name == self.config_ini_section and override:
                return {**(default or {}), "sqlalchemy.url": override}
            return default
        values = {
            key: expand_env(value, self._where(key, name)) for key, value in parser.items(name)
        }
        if name == self.config_ini_section and os.environ.get("LIMBECK_DATABASE_URL"):
            values["sqlalchemy.url"] = os.environ["LIMBECK_DATABASE_URL"]
        return values

    def get_section_option(self, section: str, name: str, default: str | None = None) -> str | None:
        parser = self.file_config
        if not parser.has_section(section):
            raise ConfigError(
                f"no section [{section}] in {self.config_file_name or 'the configuration'}"
            )
        if section == self.config_ini_section and name == "sqlalchemy.url":
            override = os.environ.get("LIMBECK_DATABASE_URL")
            if override:
                return override
        if not parser.has_option(section, name):
            return default
        try:
            value = parser.get(section, name)
        except ConfigParserError as exc:
            raise ConfigError(
                f"{self._where(name, section)}: {str(exc).splitlines()[0]}",
                hint="%(name)s takes another key of the section (or here); write a literal % as %%",
            ) from None
        return expand_env(value, self._where(name, section))

    def get_main_option(self, name: str, default: str | None = None) -> str | None:
        """A key of the main ini section."""
        if not self.file_config.has_section(self.config_ini_section):
            if name == "sqlalchemy.url" and os.environ.get("LIMBECK_DATABASE_URL"):
                return os.environ["LIMBECK_DATABASE_URL"]
            return default
        return self.get_section_option(self.config_ini_section, name, default)

    def set_main_option(self, name: str, value: str) -> None:
        """Set a main option (``%`` must be written ``%%``, as in the ini)."""
        self.set_section_option(self.config_ini_section, name, value)

    def remove_main_option(self, name: str) -> None:
        self.file_config.remove_option(self.config_ini_section, name)

    def set_section_option(self, section: str, name: str, value: str) -> None:
        parser = self.file_config
        if not parser.has_section(section):
            parser.add_section(section)
        parser.set(section, name, value)

    def get_option(self, name: str, default: Any = None) -> Any:
        """A source-code option: the ini's main section first, then TOML."""
        value = self.get_main_option(name)
        if value is not None:
            return value
        if name in self.toml_config:
            return self._toml_value(name, self.toml_config[name])
        return default

    get_alembic_option = get_option

    def _toml_value(self, name: str, value: Any) -> Any:
        where = f"{os.path.basename(self.toml_file_name or 'pyproject.toml')} {name}"
        if isinstance(value, str):
            return expand_env(value.replace("%(here)s", self.here), where)
        if isinstance(value, list):
            return [self._toml_value(name, item) for item in value]
        return value

    def get_bool_option(self, name: str, default: bool = False) -> bool:
        value = self.get_option(name)
        if value is None:
            return default
        return parse_bool(value, self._where(name))

    get_alembic_boolean_option = get_bool_option

    def get_int_option(self, name: str, default: int) -> int:
        value = self.get_option(name)
        if value is None or value == "":
            return default
        try:
            return int(value)
        except (TypeError, ValueError):
            raise ConfigError(
                f"{self._where(name)} must be a whole number, not {value!r}"
            ) from None

    # -- lists -----------------------------------------------------------------

    def _split(self, name: str, raw: Any) -> list[str]:
        if isinstance(raw, list):
            return [str(item) for item in raw if str(item)]
        text = str(raw)
        separator_name = self.get_option("path_separator")
        if separator_name is None and name == "version_locations":
            separator_name = self.get_option("version_path_separator")
        if separator_name is None:
            # Files written before path_separator existed: commas or spaces.
            return [part for part in re.split(r"[,\s]+", text) if part]
        separator = _SEPARATORS.get(str(separator_name).strip())
        if separator is None:
            raise ConfigError(
                f"{self._where('path_separator')} is {separator_name!r}",
                hint="use one of: " + ", ".join(_SEPARATORS),
            )
        return [part.strip() for part in text.split(separator) if part.strip()]

    def get_version_locations_list(self) -> list[str] | None:
        raw = self.get_option("version_locations")
        return None if raw is None else self._split("version_locations", raw)

    def get_prepend_sys_paths_list(self) -> list[str]:
        raw = self.get_option("prepend_sys_path")
        return [] if raw is None else self._split("prepend_sys_path", raw)

    def get_hooks_list(self) -> list[dict[str, str]]:
        """Post-write hooks in order, each a dict with at least ``_hook_name``
        and ``type``."""
        hooks: list[dict[str, str]] = []
        section = self.get_section("post_write_hooks")
        if section:
            names = [n for n in re.split(r"[,\s]+", section.get("hooks", "")) if n]
            for hook in names:
                options = {
                    key[len(hook) + 1 :]: value
                    for key, value in section.items()
                    if key.startswith(hook + ".")
                }
                options["_hook_name"] = hook
                hooks.append(options)
        for table in self.toml_config.get("post_write_hooks", []) or []:
            if not isinstance(table, dict) or "name" not in table:
                raise ConfigError(
                    "each [[tool.limbeck.post_write_hooks]] needs a name",
                    hint='add name = "..." to the table',
                )
            options = {k: str(self._toml_value(k, v)) for k, v in table.items() if k != "name"}
            options["_hook_name"] = str(table["name"])
            hooks.append(options)
        return hooks

    # -- checks ----------------------------------------------------------------------

    def check_keys(self) -> None:
        """Reject keys that look like misspellings of known ones."""
        found: list[tuple[str, str]] = []
        if self.config_file_name and self.file_config.has_section(self.config_ini_section):
            defaults = set(self.file_config.defaults())
            for key in self.file_config.options(self.config_ini_section):
                if key not in defaults:
                    found.append((key, self._where(key)))
        for key in self.toml_config:
            table = self._toml[0] if self._toml else "limbeck"
            where = f"{os.path.basename(self.toml_file_name or '')} [tool.{table}] {key}"
            if key not in KNOWN_KEYS:
                import difflib  # imported only when needed: it is slow to import

                close = difflib.get_close_matches(key, sorted(KNOWN_KEYS), n=1, cutoff=0.6)
                raise ConfigError(
                    f"unknown key {where}",
                    hint=f"did you mean {close[0]}?" if close else "see docs/configuration.md",
                )
        for key, where in found:
            if key in KNOWN_KEYS:
                continue
            import difflib

            close = difflib.get_close_matches(key, sorted(KNOWN_KEYS), n=1, cutoff=0.85)
            if close:
                raise ConfigError(f"unknown key {where}", hint=f"did you mean {close[0]}?")

    # -- output ----------------------------------------------------------------------

    @property
    def messaging_opts(self) -> dict[str, Any]:
        quiet = bool(getattr(self.cmd_opts, "quiet", False))
        return {"quiet": quiet}

    def print_stdout(self, text: str, *args: Any) -> None:
        """Print a line for the user unless ``-q`` was given."""
        if self.messaging_opts["quiet"]:
            return
        self.stdout.write((text % args if args else text) + "\n")

    def get_template_directory(self) -> str:
        """Where ``init`` templates live (override to ship your own)."""
        return os.path.join(os.path.dirname(os.path.abspath(__file__)), "templates")

    def iter_main_items(self) -> Iterator[tuple[str, str]]:
        section = self.get_section(self.config_ini_section) or {}
        yield from section.items()
