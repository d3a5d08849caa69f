"""``python -m cnnkit`` runs the command line."""

from cnnkit.cli import main

raise SystemExit(main())
