"""``python -m oneprice``: the command line."""

from oneprice.cli.main import main

main()
