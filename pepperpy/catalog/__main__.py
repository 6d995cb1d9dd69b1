"""``python -m pepperpy.catalog`` (``make catalog``): write ``pepperpy/catalog/packed.json`` from the packaged YAML
files, after editing ``catalog/*.yaml`` (a test fails while it is stale)."""

from ._packed import main

raise SystemExit(main())
