"""The idempotency contract (tests/contract/test_idempotency.py) on Redis Cluster."""

from tests.cluster.conftest import require_cluster

require_cluster()

from tests.contract.test_idempotency import *  # noqa: E402, F403
