"""The cache contract (tests/contract/test_cache.py) on Redis Cluster."""

from tests.cluster.conftest import require_cluster

require_cluster()

from tests.contract.test_cache import *  # noqa: E402, F403
