"""cdt browse's web server: Datasette over the private copy, on 127.0.0.1 only, in cdt's words.

Datasette (an optional extra, ``cdt[browse]``) is imported only here, late. What cdt adds to it is
small: the copy's metadata (titles and descriptions of the views and canned queries, every raw
table hidden), one plugin object (dates shown dd/mm/yyyy and lists of services as names in
``render_cell``; cdt's SQL functions and Vietnamese collation on every connection; Datasette's own
words in the run's language through a template loader that rewrites them; the home page sent to
the file's page) and cdt's page for the file (``templates/browse/database.html``).
"""

from __future__ import annotations

import importlib.util
import json
import re
import signal
import socket
import sqlite3
import sys
import threading
from datetime import datetime
from pathlib import Path
from typing import Any, Callable

import jinja2

from cdt.core import files
from cdt.core.errors import CdtError, InvalidInput
from cdt.core.i18n import language, t
from cdt.core.text import display_date
from cdt.reports.browse_copy import Copy, compare_vi, make_copy
from cdt.reports.browse_queries import FUNCTIONS, Query, build_queries

HOST = "127.0.0.1"  # never another address: the copy may hold personal data
DEFAULT_PORT = 8001
PLUGIN_NAME = "cdt_browse"
TEMPLATES = Path(__file__).resolve().parent.parent / "templates" / "browse"
REQUIRED = ("datasette", "uvicorn")

# Datasette's settings for an officer's laptop: no download of the file, room for a province's
# queries, facets that finish.
SETTINGS = {
    "allow_download": False,
    "sql_time_limit_ms": 30000,
    "facet_time_limit_ms": 3000,
    "facet_suggest_time_limit_ms": 300,
    "max_returned_rows": 5000,
    "truncate_cells_html": 500,
}

__all__ = ["DEFAULT_PORT", "HOST", "check_installed", "make_copy", "metadata", "serve"]


def check_installed() -> None:
    """Raise a CdtError naming the install command when Datasette (the browse extra) is missing."""
    missing = [name for name in REQUIRED if importlib.util.find_spec(name) is None]
    if missing:
        raise CdtError("browse.not_installed", missing=", ".join(missing))


# -- what Datasette is told -------------------------------------------------------------------------------


def metadata(copy: Copy, queries: list[Query], tables: list[str]) -> dict:
    """Datasette's metadata: titles, descriptions, every raw and helper table hidden, the queries."""
    name = copy.path.stem
    shown: dict[str, dict] = {table: {"hidden": True} for table in tables}
    for view in copy.views:
        entry: dict[str, Any] = {"description": view.description}
        if view.columns:
            entry["columns"] = view.columns
        if view.facets:
            entry["facets"] = view.facets
        shown[view.name] = entry
    title = t("browse.title", unit=copy.unit_name)
    return {
        "title": title,
        "databases": {name: {
            "title": title,
            "description": t("browse.about", file=copy.source.name),
            "tables": shown,
            "queries": {query.name: {"title": query.title, "description": query.description, "sql": query.sql,
                                     "params": query.params, "hide_sql": True} for query in queries},
        }},
    }


def notes(copy: Copy, made_at: datetime) -> list[str]:
    """What the file's page says first: how old the copy is, what it leaves out."""
    said = [t("browse.note.copy", file=copy.source.name, at=made_at.strftime("%d/%m/%Y %H:%M"))]
    if copy.personal:
        said.append(t("browse.note.personal"))
    else:
        said.append(t("browse.note.private"))
        if not copy.names:
            said.append(t("browse.note.no_names"))
    return said


# -- how values and Datasette's words show -------------------------------------------------------------------

_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
_STAMP = re.compile(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([+-]\d{2}:\d{2}|Z)?")


def render_value(value: Any) -> str | None:
    """A cell as an officer reads it, or None to leave it to Datasette: dates dd/mm/yyyy (times
    hh:mm), a JSON list of names as a plain list."""
    if not isinstance(value, str):
        return None
    if _DATE.fullmatch(value):
        return display_date(value)
    if _STAMP.fullmatch(value):
        return f"{display_date(value[:10])} {value[11:16]}"
    if value.startswith("[") and value.endswith("]"):
        try:
            items = json.loads(value)
        except ValueError:
            return None
        if isinstance(items, list) and all(isinstance(item, str) for item in items):
            return ", ".join(items) if items else "–"
    return None


def decimal(value: Any) -> str:
    """2,4 in Vietnamese, 2.4 in English (one decimal)."""
    try:
        text = f"{float(value):.1f}"
    except (TypeError, ValueError):
        return str(value)
    return text.replace(".", ",") if language() == "vi" else text


def number(value: Any) -> str:
    """12.345 in Vietnamese, 12,345 in English."""
    try:
        text = f"{int(value):,}"
    except (TypeError, ValueError):
        return str(value)
    return text.replace(",", ".") if language() == "vi" else text


_LOOKUPS = ("exact", "not", "contains", "endswith", "startswith", "gt", "gte", "lt", "lte", "like", "notlike",
            "glob", "in", "notin", "arraycontains", "arraynotcontains", "date", "isnull", "notnull", "isblank",
            "notblank")
_NO_ARGUMENT = ("isnull", "notnull", "isblank", "notblank")
_WORDS = ("hide", "show", "array", "date", "home")
_PARAMS = ("month", "unit", "service", "months")


def lookup_word(key: str, display: str) -> str:
    """A filter's name in the list of filters."""
    return t(f"browse.lookup.{key}") if key in _LOOKUPS else display


def word(text: Any) -> str:
    """One of Datasette's own words (show/hide, a kind of facet)."""
    return t(f"browse.word.{text}") if text in _WORDS else str(text or "")


def param_label(name: str) -> str:
    """A canned query's form field, named for the officer."""
    return t(f"browse.param.{name}") if name in _PARAMS else name


def describe(filters: Any, sort: Any, sort_desc: Any, english: str) -> str:
    """What a table page shows ("where … sorted by …"), in the run's language."""
    if language() == "en":
        return english or ""
    parts = []
    for column, lookup, value in filters.selections():
        said = lookup_word(lookup, lookup)
        parts.append(f"{column} {said}" if lookup in _NO_ARGUMENT else f"{column} {said} \u201c{value}\u201d")
    said = [t("browse.where", clauses="; ".join(parts))] if parts else []
    if sort or sort_desc:
        said.append(t("browse.sorted_desc" if sort_desc else "browse.sorted", column=sort or sort_desc))
    return t("browse.described", text=", ".join(said)) if said else ""


def phrases() -> list[tuple[str, str]]:
    """Datasette's English in its templates → the run language's words (Jinja left as it is)."""
    w = {key: t(f"browse.ui.{key}") for key in (
        "result", "custom_sql", "more_than", "rows", "params", "run_sql", "edit_sql", "export", "no_results",
        "format_sql", "search", "remove_filter", "column", "sort", "sort_by", "descending", "apply", "view_sql",
        "advanced", "timed_out", "next_page", "advanced_export", "json_shape", "csv_options", "download_file",
        "expand_labels", "stream_rows", "export_csv", "no_rows", "suggested", "powered", "queries_took", "error")}
    return [
        ('Custom SQL query{% if display_rows %} returning {% if truncated %}more than {% endif %}'
         '{{ "{:,}".format(display_rows|length) }} row{% if display_rows|length == 1 %}{% else %}s{% endif %}'
         '{% endif %}',
         f'{{% if canned_query %}}{w["result"]}{{% else %}}{w["custom_sql"]}{{% endif %}}{{% if display_rows %}}: '
         f'{{% if truncated %}}{w["more_than"]} {{% endif %}}{{{{ cdt_number(display_rows|length) }}}} {w["rows"]}'
         '{% endif %}'),
        ("<h3>Query parameters</h3>", f"<h3>{w['params']}</h3>"),
        ('<label for="qp{{ loop.index }}">{{ name }}</label>', '<label for="qp{{ loop.index }}">{{ cdt_param(name) }}</label>'),
        ('value="Run SQL"', f'value="{w["run_sql"]}"'),
        ('class="canned-query-edit-sql">Edit SQL</a>', f'class="canned-query-edit-sql">{w["edit_sql"]}</a>'),
        ('type="button" hidden>Format SQL</button>', f'type="button" hidden>{w["format_sql"]}</button>'),
        ("{{ show_hide_text }}", "{{ cdt_word(show_hide_text) }}"),
        ('<p class="export-links">This data as ', f'<p class="export-links">{w["export"]} '),
        ('<p class="zero-results">0 results</p>', f'<p class="zero-results">{w["no_results"]}</p>'),
        ("{% if is_view %} (view){% endif %}", ""),
        (" row{% if filtered_table_rows_count == 1 %}{% else %}s{% endif %}", f" {w['rows']}"),
        ("{{ human_description_en }}", "{{ cdt_describe(filters, sort, sort_desc, human_description_en) }}"),
        ('<label for="_search">Search:</label>', f'<label for="_search">{w["search"]}</label>'),
        ('<option value="">- remove filter -</option>', f'<option value="">- {w["remove_filter"]} -</option>'),
        ('<option value="">- column -</option>', f'<option value="">- {w["column"]} -</option>'),
        ("{{ display }}", "{{ cdt_lookup(key, display) }}"),
        ('<option value="">Sort...</option>', f'<option value="">{w["sort"]}</option>'),
        (">Sort by {{ column.name }}</option>", f">{w['sort_by']} {{{{ column.name }}}}</option>"),
        ("> descending</label>", f"> {w['descending']}</label>"),
        ('value="Apply"', f'value="{w["apply"]}"'),
        ('<span class="underlined">View and edit SQL</span>', f'<span class="underlined">{w["view_sql"]}</span>'),
        ('(<a href="#export">advanced</a>)', f'(<a href="#export">{w["advanced"]}</a>)'),
        ("These facets timed out:", w["timed_out"]),
        (">Next page</a>", f">{w['next_page']}</a>"),
        ("<h3>Advanced export</h3>", f"<h3>{w['advanced_export']}</h3>"),
        ("<p>JSON shape:", f"<p>{w['json_shape']}"),
        ("CSV options:", w["csv_options"]),
        ('name="_dl"> download file</label>', f'name="_dl"> {w["download_file"]}</label>'),
        ('name="_labels" checked> expand labels</label>', f'name="_labels" checked> {w["expand_labels"]}</label>'),
        ('name="_stream"> stream all rows</label>', f'name="_stream"> {w["stream_rows"]}</label>'),
        ('value="Export CSV"', f'value="{w["export_csv"]}"'),
        ('<p class="zero-results">0 records</p>', f'<p class="zero-results">{w["no_rows"]}</p>'),
        ("Suggested facets: ", f"{w['suggested']}: "),
        ("({{ facet.type }})", "({{ cdt_word(facet.type) }})"),
        ("({{ facet_info.type }})", "({{ cdt_word(facet_info.type) }})"),
        ("Powered by <a", f"{w['powered']} <a"),
        ("Queries took {{ query_ms|round(3) }}ms", f"{w['queries_took']} {{{{ cdt_decimal(query_ms) }}}} ms"),
        ("Error {{ status }}", f"{w['error']} {{{{ status }}}}"),
        ("{{ item.label }}", "{{ cdt_word(item.label) }}"),
        ('"{:,}".format(', "cdt_number("),
    ]


class WordsLoader(jinja2.BaseLoader):
    """Datasette's templates with its English words replaced by the run language's (``phrases``)."""

    def __init__(self, inner: jinja2.BaseLoader, replacements: list[tuple[str, str]]):
        self.inner = inner
        self.replacements = replacements

    def get_source(self, environment: jinja2.Environment, template: str):
        source, filename, uptodate = self.inner.get_source(environment, template)
        for english, said in self.replacements:
            source = source.replace(english, said)
        return source, filename, uptodate

    def list_templates(self) -> list[str]:
        return self.inner.list_templates()


def prepare_connection(conn: sqlite3.Connection) -> None:
    """cdt's SQL functions and the Vietnamese collation, on a connection that reads the copy."""
    for name, (count, function) in FUNCTIONS.items():
        conn.create_function(name, count, function, deterministic=True)
    conn.create_collation("vi", compare_vi)


def _plugin(copy: Copy, made_at: datetime, counts: dict[str, int]):
    """The Datasette plugin of this run (an object whose methods are the hooks)."""
    from datasette import hookimpl
    from datasette.utils.asgi import Response

    name = copy.path.stem
    page = {
        "notes": notes(copy, made_at),
        "personal": copy.personal,
        "views": [{"name": view.name, "description": view.description, "rows": counts.get(view.name, 0)}
                  for view in copy.views],
        "words": {key: t(f"browse.page.{key}") for key in ("queries", "tables", "rows", "sql", "sql_about", "run_sql")},
    }

    class Plugin:
        __name__ = PLUGIN_NAME  # Datasette lists plugins by module name

        @hookimpl
        def prepare_connection(self, conn, database, datasette):
            prepare_connection(conn)

        @hookimpl
        def render_cell(self, value, column, table, database, datasette):
            return render_value(value)

        @hookimpl
        def prepare_jinja2_environment(self, env, datasette):
            env.loader = WordsLoader(env.loader, phrases())
            env.globals.update(cdt_number=number, cdt_decimal=decimal, cdt_param=param_label, cdt_word=word, cdt_lookup=lookup_word,
                               cdt_describe=describe)

        @hookimpl
        def extra_template_vars(self, template, database, table, columns, view_name, request, datasette):
            return {"cdt": page}

        @hookimpl
        def register_routes(self, datasette):
            async def home(request):
                return Response.redirect(datasette.urls.database(name))

            return [(r"^/$", home)]

    return Plugin()


# -- serving -------------------------------------------------------------------------------------------------


def bind(port: int | None) -> socket.socket:
    """A listening socket on 127.0.0.1: the port asked for, else DEFAULT_PORT or, if that is taken, any free one."""
    wanted = DEFAULT_PORT if port is None else port
    for candidate in ([wanted, 0] if port is None else [wanted]):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        if sys.platform == "win32":
            sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_EXCLUSIVEADDRUSE", socket.SO_REUSEADDR), 1)
        else:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((HOST, candidate))
            sock.listen(128)  # connections wait here until the server is up
            return sock
        except OSError:
            sock.close()
    raise InvalidInput("browse.port_busy", port=wanted)


def _counts(copy: Copy) -> tuple[dict[str, int], list[str]]:
    """Rows of each view, and every table of the copy (all hidden from the lists)."""
    conn = sqlite3.connect(copy.path.resolve().as_uri() + "?mode=ro", uri=True)
    try:
        prepare_connection(conn)
        counts = {view.name: conn.execute(view.count_sql).fetchone()[0] for view in copy.views}
        tables = [row[0] for row in conn.execute("SELECT name FROM sqlite_schema WHERE type = 'table'")]
        return counts, tables
    finally:
        conn.close()


def serve(copy: Copy, *, port: int | None = None, on_ready: Callable[[str], None] | None = None) -> None:
    """Serve the copy until Ctrl-C, then remove it. ``on_ready(url)`` runs once the port listens."""
    try:
        _serve(copy, port=port, on_ready=on_ready)
    finally:
        files.remove(copy.job)


def _serve(copy: Copy, *, port: int | None, on_ready: Callable[[str], None] | None) -> None:
    import uvicorn
    from datasette.app import Datasette
    from datasette.plugins import pm

    made_at = datetime.now()
    queries = build_queries(copy)
    counts, tables = _counts(copy)
    sock = bind(port)
    plugin = _plugin(copy, made_at, counts)
    pm.register(plugin, name=PLUGIN_NAME)
    datasette = None
    previous_term = signal.getsignal(signal.SIGTERM)
    try:
        datasette = Datasette(immutables=[str(copy.path)], metadata=metadata(copy, queries, tables),
                              settings=SETTINGS, template_dir=str(TEMPLATES))
        config = uvicorn.Config(datasette.app(), log_level="warning", lifespan="on", access_log=False)
        server = uvicorn.Server(config)
        url = f"http://{HOST}:{sock.getsockname()[1]}/{copy.path.stem}"
        if on_ready is not None:
            on_ready(url)
        # A stop asked for by the system, as Ctrl-C is: the server shuts down, then this ends.
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, _interrupt)
        try:
            server.run(sockets=[sock])
        except KeyboardInterrupt:
            pass
    finally:
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, previous_term)
        pm.unregister(name=PLUGIN_NAME)
        sock.close()
        if datasette is not None:
            for database in datasette.databases.values():
                database.close()
            if datasette.executor is not None:
                datasette.executor.shutdown(wait=True)


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt
