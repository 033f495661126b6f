"""URL rules: registration endpoints must be https (or loopback http); launch targets must stay
under the tool's base URL."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blendkit.errors import RegistrationError
from blendkit.lti import check_endpoint_url
from blendkit.lti._validator import target_belongs_to

BASE = "https://tool.example.org/blend"
segments = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.~", min_size=1, max_size=12)


@settings(max_examples=200)
@given(path=st.lists(segments, max_size=4), query=st.text(alphabet="abc=&", max_size=10))
def test_paths_under_the_base_belong(path: list[str], query: str) -> None:
    url = BASE + "".join("/" + p for p in path) + ("?" + query if query else "")
    assert target_belongs_to(url, BASE)


@settings(max_examples=200)
@given(
    host=st.sampled_from(
        [
            "tool.example.org.evil.example",
            "evil.example",
            "tool.example.org:8443",
            "eviltool.example.org",
        ]
    ),
    path=st.lists(segments, max_size=3),
)
def test_other_hosts_never_belong(host: str, path: list[str]) -> None:
    url = f"https://{host}/blend" + "".join("/" + p for p in path)
    assert not target_belongs_to(url, BASE)


@pytest.mark.parametrize(
    "url",
    [
        "http://tool.example.org/blend/x",  # scheme downgrade
        "https://tool.example.org/blender",  # prefix of a path segment is not "under"
        "https://tool.example.org/",
        "https://user@evil.example/blend",
        "//tool.example.org/blend",
        "/blend/x",
    ],
)
def test_look_alikes_do_not_belong(url: str) -> None:
    assert not target_belongs_to(url, BASE)


def test_base_itself_and_host_case_belong() -> None:
    assert target_belongs_to("https://TOOL.example.org/blend", BASE)
    assert target_belongs_to(BASE, BASE)
    assert target_belongs_to("https://tool.example.org/anything", "https://tool.example.org/")


@pytest.mark.parametrize(
    "url",
    [
        "https://moodle.example.edu/mod/lti/auth.php",
        "http://localhost:8000/auth",
        "http://127.0.0.1/auth",
        "http://[::1]:9000/auth",
    ],
)
def test_endpoint_urls_accepted(url: str) -> None:
    assert check_endpoint_url(url, "--jwks-url") == url


@pytest.mark.parametrize(
    "url",
    [
        "http://moodle.example.edu/auth",
        "http://localhost.evil.example/auth",
        "https:///path-only",
        "moodle.example.edu/auth",
        "javascript:alert(1)",
        "",
    ],
)
def test_endpoint_urls_refused_naming_the_option(url: str) -> None:
    with pytest.raises(RegistrationError) as info:
        check_endpoint_url(url, "--jwks-url")
    assert "--jwks-url" in info.value.message
