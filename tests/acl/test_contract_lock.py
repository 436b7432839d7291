"""The lock contract (tests/contract/test_lock.py) as a least-privilege ACL user."""

from tests.contract.test_lock import *  # noqa: F403
