"""The monthly report: figures, the report as data, trends, and its documents (xlsx, HTML, SVG)."""
