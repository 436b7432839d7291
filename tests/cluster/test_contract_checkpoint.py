"""The checkpoint contract (tests/contract/test_checkpoint.py) on Redis Cluster."""

from tests.cluster.conftest import require_cluster

require_cluster()

from tests.contract.test_checkpoint import *  # noqa: E402, F403
