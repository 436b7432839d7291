"""The circuit contract (tests/contract/test_circuit.py) on Redis Cluster."""

from tests.cluster.conftest import require_cluster

require_cluster()

from tests.contract.test_circuit import *  # noqa: E402, F403
