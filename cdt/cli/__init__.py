"""The command line: the Typer app, its help and Click's words; the commands live in cdt/commands/."""
