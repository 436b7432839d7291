"""The lock contract (tests/contract/test_lock.py) on Redis Cluster."""

from tests.cluster.conftest import require_cluster

require_cluster()

from tests.contract.test_lock import *  # noqa: E402, F403
