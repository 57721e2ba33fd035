"""Clerks' spreadsheets in: safety checks, headers, the import and its template."""
