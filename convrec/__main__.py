"""`python -m convrec` runs the command line."""

from convrec.cli import main

raise SystemExit(main())
