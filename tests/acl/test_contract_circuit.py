"""The circuit contract (tests/contract/test_circuit.py) as a least-privilege ACL user."""

from tests.contract.test_circuit import *  # noqa: F403
