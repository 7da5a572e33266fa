"""``python -m scrapsim`` → :func:`scrapsim.cli.main`."""

from scrapsim.cli import main

raise SystemExit(main())
