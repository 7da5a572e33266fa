"""``python -m scrapsim`` → :func:`scrapsim.cli.main.main`."""

from scrapsim.cli.main import main

raise SystemExit(main())
