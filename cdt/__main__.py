from cdt.cli import main

main()
