"""The idempotency contract (tests/contract/test_idempotency.py) as a least-privilege ACL user."""

from tests.contract.test_idempotency import *  # noqa: F403
