"""Strategies for hostile names: glob metacharacters, braces, newlines, percent signs, unicode."""

from __future__ import annotations

from hypothesis import strategies as st

_AWKWARD = list("ab:*?[]\\\n %-é日🙂")
PREFIXES = st.text(alphabet=st.sampled_from(_AWKWARD), max_size=6)
"""Prefixes may be empty and may hold anything but braces (reserved for the hash tag)."""
KEYS = st.text(alphabet=st.sampled_from([*_AWKWARD, "{", "}"]), min_size=1, max_size=6)
"""Keys may hold braces too: ``}`` and ``%`` are percent-encoded inside the hash tag."""
JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(2**53), 2**53)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=4), inner, max_size=3)
    ),
    max_leaves=6,
)


def encoded(key: str) -> str:
    """The key inside the hash tag, restated here independently of ``goscope_redis.keys``."""
    return key.replace("%", "%25").replace("}", "%7D")
