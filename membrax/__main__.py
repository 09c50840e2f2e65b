"""`python -m membrax` is the `membrax` command."""

from ._cli import main

raise SystemExit(main())
