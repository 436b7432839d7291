"""The cache contract (tests/contract/test_cache.py) as a least-privilege ACL user."""

from tests.contract.test_cache import *  # noqa: F403
