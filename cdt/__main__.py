"""`python -m cdt`: the same as the `cdt` command."""

from cdt.cli.app import main

main()
