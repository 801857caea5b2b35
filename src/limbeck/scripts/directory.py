"""The script directory: env.py, the template and the revision files.

:class:`ScriptDirectory` keeps Alembic's API names (``from_config``,
``get_heads``, ``walk_revisions`` ...). Its revision graph is built from
the static index (:mod:`limbeck.scripts.index`); revision modules are only
imported when their code must run (:attr:`Script.module`).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator, Sequence
from functools import cached_property

from limbeck.errors import ConfigError, RevisionError, ScriptError
from limbeck.graph import (
    Revision,
    RevisionGraph,
    TargetResolver,
    revisions_between,
)
from limbeck.scripts.index import (
    Header,
    RevisionIndex,
    list_revision_files,
    load_module,
)

TYPE_CHECKING = False  # typing is not imported at run time (mypy reads this as usual)
if TYPE_CHECKING:
    from typing import Any

    from limbeck.config import Config
    from limbeck.scripts.codecache import CodeCache

DEFAULT_FILE_TEMPLATE = "%(rev)s_%(slug)s"


class Script:
    """One revision file, as Alembic's ``Script`` presents it."""

    def __init__(self, header: Header, directory: ScriptDirectory) -> None:
        self._header = header
        self._directory = directory

    # Alembic's attribute names -------------------------------------------------------
    @property
    def revision(self) -> str:
        return self._header.revision

    @property
    def down_revision(self) -> str | tuple[str, ...] | None:
        return self._header.down_revision_value

    @property
    def _versioned_down_revisions(self) -> tuple[str, ...]:
        return self._header.down_revisions

    @property
    def dependencies(self) -> str | tuple[str, ...] | None:
        deps = self._header.dependencies
        return None if not deps else deps[0] if len(deps) == 1 else deps

    @property
    def branch_labels(self) -> set[str]:
        return set(self._directory.graph.labels(self.revision))

    @property
    def path(self) -> str:
        return self._header.path

    @property
    def doc(self) -> str:
        return self.as_revision().doc

    @property
    def longdoc(self) -> str:
        return self._header.docstring.strip()

    @property
    def nextrev(self) -> frozenset[str]:
        return frozenset(self._directory.graph.children(self.revision))

    @property
    def is_head(self) -> bool:
        return not self._directory.graph.children(self.revision)

    @property
    def is_base(self) -> bool:
        return not self._header.down_revisions

    @property
    def is_branch_point(self) -> bool:
        return self._directory.graph.is_branch_point(self.revision)

    @property
    def is_merge_point(self) -> bool:
        return self._directory.graph.is_merge_point(self.revision)

    @cached_property
    def module(self) -> Any:
        """The imported revision module (imports on first use)."""
        return self._directory.load_revision_module(self.path)

    def as_revision(self) -> Revision:
        return self._header.to_revision()

    def __repr__(self) -> str:
        return f"Script({self.revision!r}, {self.path!r})"


class ScriptDirectory:
    """A migration environment on disk.

    ``dir`` holds env.py and script.py.mako; ``version_locations`` the
    revision files (``<dir>/versions`` unless configured).
    """

    def __init__(
        self,
        dir: str,
        *,
        version_locations: Sequence[str] | None = None,
        file_template: str = DEFAULT_FILE_TEMPLATE,
        truncate_slug_length: int = 40,
        recursive_version_locations: bool = False,
        sourceless: bool = False,
        output_encoding: str = "utf-8",
        timezone: str | None = None,
        hooks: Sequence[dict[str, str]] = (),
        config: Config | None = None,
    ) -> None:
        self.dir = os.path.abspath(dir)
        if not os.path.isdir(self.dir):
            raise ScriptError(
                f"script directory {dir} does not exist",
                hint="run `limbeck init` to create it, or fix script_location in the config",
            )
        self.version_locations = [
            os.path.abspath(location)
            for location in (version_locations or [os.path.join(self.dir, "versions")])
        ]
        self.file_template = file_template
        self.truncate_slug_length = truncate_slug_length
        self.recursive_version_locations = recursive_version_locations
        self.sourceless = sourceless
        self.output_encoding = output_encoding
        self.timezone = timezone
        self.hooks = list(hooks)
        self.config = config
        self._graph: RevisionGraph | None = None
        self._scripts: dict[str, Script] = {}
        # Header values by revision id; a Script is made when first asked for.
        self._header_values: dict[str, tuple[Any, ...]] | None = {}
        # After a warm load: the index and listing, and what is read from the
        # cache only on demand (header values, Revision details).
        self._saved: tuple[RevisionIndex, list[tuple[str, int, int]]] | None = None
        self._more: tuple[dict[str, tuple[Any, ...]], dict[str, tuple[Any, ...]]] | None = None
        self.imported_headers: list[str] = []
        self._code_cache: CodeCache | None = None

    @classmethod
    def from_config(cls, config: Config) -> ScriptDirectory:
        """Build the directory that ``config`` describes."""
        config.check_keys()  # first: a misspelt script_location is named as such
        location = config.get_option("script_location")
        if not location:
            section = config.config_ini_section
            parser = config.file_config
            if config.config_file_name and not parser.has_section(section):
                sections = ", ".join(f"[{name}]" for name in parser.sections()) or "none"
                raise ConfigError(
                    f"{config.config_file_name} has no [{section}] section "
                    f"(its sections: {sections})",
                    hint=f"add [{section}] with script_location, or pick a section with -n NAME",
                )
            raise ConfigError(
                f"no script_location in {config.config_file_name or config.toml_file_name}",
                hint="add script_location = %(here)s/migrations (or run `limbeck init`)",
            )
        location = _resolve_location(str(location), config.here)
        versions = config.get_version_locations_list()
        return cls(
            location,
            version_locations=[_resolve_location(v, config.here) for v in versions]
            if versions
            else None,
            file_template=str(config.get_option("file_template", DEFAULT_FILE_TEMPLATE)),
            truncate_slug_length=config.get_int_option("truncate_slug_length", 40),
            recursive_version_locations=config.get_bool_option("recursive_version_locations"),
            sourceless=config.get_bool_option("sourceless"),
            output_encoding=str(config.get_option("output_encoding", "utf-8")),
            timezone=config.get_option("timezone") or None,
            hooks=config.get_hooks_list(),
            config=config,
        )

    # -- locations -------------------------------------------------------------------

    @property
    def versions(self) -> str:
        return self.version_locations[0]

    @property
    def env_py_location(self) -> str:
        return os.path.join(self.dir, "env.py")

    @property
    def template_path(self) -> str:
        return os.path.join(self.dir, "script.py.mako")

    # -- revision modules ----------------------------------------------------------------

    def load_revision_module(self, path: str) -> Any:
        """Import the revision file at ``path`` to run its code, through the
        directory's code cache (compiled-only files through importlib)."""
        if not path.endswith(".py"):
            return load_module(path)
        return self._codes().load_module(path)

    def compile_revisions(self, keys: Iterable[str]) -> None:
        """Compile the files of revisions ``keys`` (through the code cache)
        without running them: a file that does not compile raises
        :class:`ScriptError` before any migration runs."""
        graph = self.graph
        for key in keys:
            path = graph.get(key).path if key in graph else None
            if path is not None and path.endswith(".py"):
                self._codes().code(path)

    def _codes(self) -> CodeCache:
        if self._code_cache is None:
            from limbeck.scripts.codecache import CodeCache

            self._code_cache = CodeCache(os.path.join(self.dir, "__pycache__"))
        return self._code_cache

    def save_caches(self) -> None:
        """Write what this run added to the code cache (call after a run)."""
        if self._code_cache is not None:
            self._code_cache.save()

    # -- the graph -----------------------------------------------------------------------

    def _load(self) -> RevisionGraph:
        files = list_revision_files(
            self.version_locations,
            recursive=self.recursive_version_locations,
            sourceless=self.sourceless,
        )
        index = RevisionIndex(os.path.join(self.dir, "__pycache__"))
        self._scripts = {}
        self._saved = None
        self._more = None
        saved = index.derived(files)
        if saved is not None:
            # The same files as when the cache was written: the graph was
            # validated then and is restored as it was. Header values and
            # Revision details are read from the cache when first needed.
            with contextlib.suppress(Exception):
                state, imported = saved
                graph = RevisionGraph.from_state(state, lambda: self._saved_more()[1])
                self._header_values = None
                self._saved = (index, files)
                self.imported_headers = list(imported)
                return graph
        headers = index.headers(files, store=False)
        self.imported_headers = index.imported
        self._header_values = index.header_values()
        try:
            if len(self._header_values) != len(headers):
                seen: dict[str, str] = {}
                for header in headers:
                    if header.revision in seen:
                        raise RevisionError(
                            f"duplicate revision id {header.revision!r} in {header.path} "
                            f"and {seen[header.revision]}",
                            hint="give one of the files a new id (its `revision` variable)",
                        )
                    seen[header.revision] = header.path
            graph = RevisionGraph(header.to_revision() for header in headers)
        except BaseException:
            index.store()  # keep the headers read so far; the graph is not valid
            raise
        state, details = graph.export_state()
        index.store((state, tuple(self.imported_headers)), (self._header_values, details))
        return graph

    def _script(self, key: str) -> Script:
        script = self._scripts.get(key)
        if script is None:
            if self._header_values is None:
                self._header_values = self._saved_more()[0]
            script = self._scripts[key] = Script(Header(*self._header_values[key]), self)
        return script

    def _saved_more(self) -> tuple[dict[str, tuple[Any, ...]], dict[str, tuple[Any, ...]]]:
        """Header values and Revision details from the cache (warm path)."""
        if self._more is None:
            assert self._saved is not None
            index, files = self._saved
            more = index.derived_more()
            if not (
                isinstance(more, tuple)
                and len(more) == 2
                and isinstance(more[0], dict)
                and isinstance(more[1], dict)
            ):
                # That part of the cache is unreadable: read the files again.
                headers = index.headers(files)
                graph = RevisionGraph(header.to_revision() for header in headers)
                more = (index.header_values(), graph.export_state()[1])
            self._more = more
        return self._more

    @property
    def graph(self) -> RevisionGraph:
        """The validated revision graph (built once, from the index)."""
        if self._graph is None:
            self._graph = self._load()
        return self._graph

    # Alembic calls the same object the revision map.
    revision_map = graph

    def invalidate(self) -> None:
        self._graph = None
        self._scripts = {}
        self._header_values = {}
        self._saved = None
        self._more = None

    def resolver(self, current: Any = None) -> TargetResolver:
        return TargetResolver(self.graph, current)

    # -- Alembic's query API ----------------------------------------------------------------

    def get_revision(self, id_: str) -> Script:
        key = self.resolver().resolve_one(id_)
        return self._script(key)

    def get_revisions(self, id_: str | Sequence[str] | None) -> tuple[Script, ...]:
        if id_ is None:
            return ()
        targets = [id_] if isinstance(id_, str) else list(id_)
        found: list[Script] = []
        resolver = self.resolver()
        for target in targets:
            found.extend(self._script(key) for key in resolver.resolve(target))
        return tuple(found)

    def script(self, key: str) -> Script:
        self.graph  # noqa: B018 - loads the scripts
        return self._script(key)

    def get_heads(self, consider_depends_on: bool = False) -> list[str]:
        graph = self.graph
        return list(graph.effective_heads if consider_depends_on else graph.heads)

    def get_current_head(self) -> str | None:
        heads = self.graph.heads
        if not heads:
            return None
        return self.resolver().single_head()

    def get_bases(self) -> list[str]:
        return list(self.graph.bases)

    def get_base(self) -> str | None:
        bases = self.graph.bases
        if len(bases) > 1:
            raise RevisionError(
                f"there are {len(bases)} bases ({', '.join(bases)})",
                hint="use get_bases() or a branch label",
            )
        return bases[0] if bases else None

    def as_revision_number(self, id_: str) -> str | tuple[str, ...] | None:
        found = self.resolver().resolve(id_)
        if not found:
            return None
        return found[0] if len(found) == 1 else found

    def walk_revisions(self, base: str = "base", head: str = "heads") -> Iterator[Script]:
        """Scripts from ``head`` down to ``base``, newest first."""
        resolver = self.resolver()
        lower = None if base == "base" else resolver.resolve(base)
        upper = resolver.resolve(head)
        for key in revisions_between(self.graph, lower, upper):
            yield self._script(key)

    def iterate_revisions(self, upper: str, lower: str) -> Iterator[Script]:
        return self.walk_revisions(base=lower, head=upper)

    def __iter__(self) -> Iterator[Script]:
        graph = self.graph
        return (self._script(key) for key in graph.order)


def _resolve_location(location: str, here: str) -> str:
    if ":" in location and not os.path.isabs(location) and not _is_drive(location):
        package, _, resource = location.partition(":")
        import importlib.util

        spec = importlib.util.find_spec(package)
        if spec is None or not spec.submodule_search_locations:
            raise ConfigError(
                f"script_location {location!r} names package {package!r}, which cannot be found",
                hint="use a path, or make the package importable",
            )
        return os.path.join(next(iter(spec.submodule_search_locations)), resource)
    path = os.path.expanduser(location)
    if os.path.isabs(path):
        return path
    # Alembic reads relative locations from the working directory; keep that,
    # but fall back to the config file's directory so `-c sub/limbeck.ini`
    # works from anywhere.
    if os.path.exists(path):
        return os.path.abspath(path)
    return os.path.join(here, path)


def _is_drive(location: str) -> bool:
    return len(location) > 1 and location[1] == ":" and location[0].isalpha()
