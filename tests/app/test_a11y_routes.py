"""No page escapes the accessibility checks: every GET route is audited or excluded by name."""

from __future__ import annotations

from pathlib import Path

from tests.app.a11y_pages import EXCLUDED, get_rules, inventory


def test_every_get_route_is_audited_or_excluded_with_a_reason(tmp_path: Path) -> None:
    from blendkit_examples.flask_app.demo import build_demo

    app, _ = build_demo(tmp_path / "demo", host="127.0.0.1", port=5000)
    audited = {page.rule for page in inventory(app)}
    routes = get_rules(app)
    assert routes, "the demo app has routes"
    missing = sorted(routes - audited - set(EXCLUDED))
    assert missing == [], (
        "routes neither in the audited pages nor in EXCLUDED (tests/app/a11y_pages.py): "
        f"{missing}; add a page for each, or exclude it with the reason it renders no page"
    )
    assert audited & set(EXCLUDED) == set(), "a route is either audited or excluded"
    stale = sorted(set(EXCLUDED) - routes - {"/metrics"})
    assert stale == [], f"excluded routes the app no longer has: {stale}"
