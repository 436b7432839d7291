"""Hypothesis profiles: moderate by default, thorough under ``HYPOTHESIS_PROFILE=goscope-ci``.

``scripts/ci-extra`` selects ``goscope-ci``; the README's test command keeps the default one so
the whole suite stays fast.
"""

from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

settings.register_profile(
    "goscope-default",
    max_examples=50,
    stateful_step_count=25,
    deadline=None,  # real Redis round trips on a loaded machine
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile(
    "goscope-ci",
    max_examples=400,
    stateful_step_count=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "goscope-default"))
