from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

from hypothesis import settings

# Hypothesis' per-example deadline is a timed assertion: on a shared or loaded machine it fails
# correct code. Speed is measured in benchmarks/, never in tests.
settings.register_profile("outcomes", deadline=None)
settings.load_profile("outcomes")
