"""Third-party libraries imported late, inside functions, to keep `cdt --help` fast; the import-graph test allows late imports of these only.

A name covers its submodules ("rich" covers "rich.table"). Any other third-party import goes at the
top of its module; standard-library modules may be imported late anywhere.
"""

HEAVY = (
    "datasette",  # cdt browse (the browse extra)
    "jinja2",  # the HTML report
    "markupsafe",  # jinja2's escaping, with the HTML report
    "nacl",  # signing and sealing packs
    "openpyxl",  # clerks' spreadsheets in, the import template out
    "rich",  # the commands' tables and progress bars
    "typer.rich_utils",  # Typer's rich help pages, only when a help page may show
    "uvicorn",  # cdt browse's web server (the browse extra)
    "xlsxwriter",  # the report's xlsx
)
