"""The evaluation store: every year's imports in one DuckDB file, with provenance.

``oc.store.open(path)`` opens or creates it; ``Store.import_file`` imports a file (idempotent,
pseudonymised, de-duplicated by a declared rule); ``Store.status`` lists what is held by table,
wave and year; ``Store.imports`` gives the provenance of every import. The command line has
``outcomes store import FILE --table T --wave W`` and ``outcomes store status``.
"""

from .database import ImportSummary, Store, StoreError, open
from .tables import DEDUP_RULES, KINDS

__all__ = ["DEDUP_RULES", "KINDS", "ImportSummary", "Store", "StoreError", "open"]
