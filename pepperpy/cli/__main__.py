"""``python -m pepperpy.cli``: the ``pepperpy`` command."""

from . import main

raise SystemExit(main())
