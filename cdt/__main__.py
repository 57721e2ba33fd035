from cdt.cli.app import main

main()
