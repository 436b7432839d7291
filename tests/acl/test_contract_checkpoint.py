"""The checkpoint contract (tests/contract/test_checkpoint.py) as a least-privilege ACL user."""

from tests.contract.test_checkpoint import *  # noqa: F403
