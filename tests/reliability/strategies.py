"""Hypothesis settings and strategies shared by the fuzz tests of the reliability suite.

Example counts stay modest (the suite shares a small machine). Every run draws new examples;
``database=None`` keeps hypothesis from writing ``.hypothesis/`` into the work tree, so a failure
is reported with its shrunk example and a ``@reproduce_failure`` blob to replay it, rather than
replayed silently from a local file on the next run.
"""

from __future__ import annotations

import json
import os

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st


def fuzz_settings(max_examples: int) -> settings:
    """Local runs draw new examples every time (that is how fuzzing finds things); CI replays a
    fixed set (``derandomize``), so a gate never fails on a draw nobody can reproduce."""
    return settings(
        max_examples=max_examples,
        derandomize=os.environ.get("CI") == "true",
        deadline=None,
        database=None,
        print_blob=True,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
            HealthCheck.filter_too_much,
            HealthCheck.data_too_large,
        ],
    )


# Text a person could type or paste: any code point except surrogates (which no UTF-8 form
# submission can carry), NUL and control characters included.
typed_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=40)
huge_text = st.integers(min_value=1_000, max_value=20_000).map(lambda n: "x" * n)
# A field's value as posted: empty, short ASCII, any text, a huge paste, a number as text.
form_values = st.one_of(
    st.just(""),
    st.text(alphabet="abcXYZ019 -_@.", max_size=12),
    typed_text,
    huge_text,
    st.integers(min_value=-(10**20), max_value=10**20).map(str),
    st.sampled_from(["0", "-1", "on", "true", "1e309", "NaN", "\x00", "<script>", "ü@ü.de"]),
)


def json_values(keys: list[str], scalars: st.SearchStrategy | None = None) -> st.SearchStrategy:
    """JSON documents whose objects mostly use the vendor's own ``keys``, so a parser meets
    its expected fields holding the wrong kinds of values, not only unknown fields."""
    leaf = scalars or st.one_of(
        st.none(),
        st.booleans(),
        st.integers(min_value=-(2**63), max_value=2**63),
        st.floats(allow_nan=False),
        st.text(max_size=20),
        st.sampled_from(["", "0", "1", "true", "abc", "2024-01-01", "-5"]),
    )
    key = st.one_of(st.sampled_from(keys), st.text(max_size=8))
    return st.recursive(
        leaf,
        lambda children: st.one_of(
            st.lists(children, max_size=4),
            st.dictionaries(key, children, max_size=6),
        ),
        max_leaves=12,
    )


def bodies(keys: list[str]) -> st.SearchStrategy[bytes]:
    """A response or request body: JSON in the vendor's vocabulary, or bytes that are not."""
    return st.one_of(
        json_values(keys).map(lambda value: json.dumps(value).encode("utf-8")),
        st.binary(max_size=60),
        st.sampled_from([b"", b"   ", b"null", b"{", b"[]", b"{}", b"<html>oops</html>"]),
    )
