"""The scripted tour the launcher runs against a live shop (either framework).

``await run_tour(base_url, workers)`` drives the shop over HTTP with connections pinned to each
worker process, prints what happens, and returns a :class:`TourReport` whose ``checks`` say
whether every claim held.
"""

from example_projects.tour.report import Check, TourReport
from example_projects.tour.run import WorkerControl, run_tour

__all__ = ["Check", "TourReport", "WorkerControl", "run_tour"]
