"""The example tool behind one Canvas Cloud registration with two deployments (two schools).

Canvas Cloud signs every school's launches with one issuer, and an inherited developer key gives
every school the same client id: only the deployment id tells the schools apart. Launches here
are real: an OIDC login through ``/lti/login``, then an id_token signed by the platform's key and
posted to ``/lti/launch``, validated by the tool against the registration in the store.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlsplit

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from blendkit import Settings, Store
from blendkit.integrations.flask import Blendkit
from blendkit.lti import StorePlatformRegistry, Tool
from blendkit.store._tables_courses import course_courses
from blendkit.store._tables_xapi import xapi_outbox
from tests.lti.launch_kit import (
    CLIENT_ID,
    ISSUER,
    JWKS_URL,
    LTI,
    MEMBERSHIP,
    PLATFORM_KEY,
    CountingFetcher,
    canvas_claims,
    canvas_platform,
    jwks_document,
    sign,
)

BASE = "https://tool.example.org"
CONTEXT = "4dde05e8ca1973bcca9bffc13e1548820eee93a3"
SCHOOL_A = "101:school-a"
SCHOOL_B = "202:school-b"
LEARNER = MEMBERSHIP + "Learner"
INSTRUCTOR = MEMBERSHIP + "Instructor"
AGS = "https://purl.imsglobal.org/spec/lti-ags/claim/endpoint"


def lineitems(deployment: str) -> str:
    """Each school's gradebook lives on its own Canvas domain."""
    school = deployment.split(":", 1)[1]
    return f"https://{school}.instructure.example/api/lti/courses/7/line_items"


@dataclass
class CanvasCloud:
    app: Flask
    client: FlaskClient
    store: Store

    def launch(
        self,
        deployment: str,
        sub: str,
        *,
        role: str = LEARNER,
        context: str = CONTEXT,
        ags_url: str | None = None,
        client_id: str = CLIENT_ID,
    ) -> str:
        """A full LTI launch; returns the launch id the tool's pages carry."""
        answer = self.client.get(
            "/lti/login",
            query_string={
                "iss": ISSUER,
                "login_hint": sub,
                "client_id": client_id,
                "target_link_uri": f"{BASE}/lti/launch",
            },
        )
        assert answer.status_code == 302, answer.get_data(as_text=True)
        query = parse_qs(urlsplit(answer.headers["Location"]).query)
        claims = canvas_claims(
            query["nonce"][0],
            time.time(),
            sub=sub,
            aud=client_id,
            azp=client_id,
            name=sub.title(),
            email=f"{sub}@{deployment.split(':', 1)[1]}.example",
            **{
                LTI + "deployment_id": deployment,
                LTI + "roles": [role],
                LTI + "custom": {},
                LTI + "context": {"id": context, "label": "BIO", "title": f"Biology {deployment}"},
                AGS: {
                    "scope": ["https://purl.imsglobal.org/spec/lti-ags/scope/score"],
                    "lineitems": ags_url or lineitems(deployment),
                },
            },
        )
        launched = self.client.post(
            "/lti/launch", data={"id_token": sign(claims), "state": query["state"][0]}
        )
        assert launched.status_code == 302, launched.get_data(as_text=True)
        found = parse_qs(urlsplit(launched.headers["Location"]).query)["launch"]
        return found[0]

    def csrf(self, launch_id: str) -> str:
        import re

        page = self.client.get("/course", query_string={"launch": launch_id})
        found = re.search(r'name="csrf" value="([0-9a-f]+)"', page.get_data(as_text=True))
        assert found, page.get_data(as_text=True)[:500]
        return found.group(1)

    def get(self, path: str, launch_id: str) -> Any:
        return self.client.get(path, query_string={"launch": launch_id})

    def post(self, path: str, launch_id: str, data: dict[str, str] | None = None) -> Any:
        body = {"launch": launch_id, "csrf": self.csrf(launch_id), **(data or {})}
        return self.client.post(path, data=body)

    def courses(self) -> list[Any]:
        with self.store.session() as s:
            return list(s.execute(select(course_courses).order_by(course_courses.c.id)).all())

    def course_parents(self) -> set[str]:
        """The course activity ids (contextActivities.parent) of every queued statement."""
        with self.store.session() as s:
            payloads = s.execute(select(xapi_outbox.c.payload)).scalars().all()
        parents = set()
        for payload in payloads:
            context = json.loads(payload).get("context") or {}
            for parent in (context.get("contextActivities") or {}).get("parent") or ():
                parents.add(parent["id"])
        return parents


def canvas_cloud(store: Store, *deployments: str, other_client: str | None = None) -> CanvasCloud:
    """The example tool on ``store`` with one registration holding ``deployments`` (and, with
    ``other_client``, a second registration of the same issuer with the same deployments)."""
    from blendkit_examples.flask_app import create_app

    settings = Settings(
        database={"url": store.url.render_as_string(hide_password=False)},
        tool={"base_url": BASE, "secret_key": "tenant-test-secret"},
        lti={"registry_cache_seconds": 0},
    )
    StorePlatformRegistry(store).add(canvas_platform(deployment_ids=deployments))
    if other_client is not None:
        StorePlatformRegistry(store).add(
            canvas_platform(client_id=other_client, deployment_ids=deployments)
        )
    app = create_app(settings, store=store, migrate=True, TESTING=True)
    state = Blendkit.state(app)
    # The platform's key set is served from memory: the launch path is the real one.
    state.tool = Tool.from_store(
        store,
        settings,
        jwks_fetcher=CountingFetcher({JWKS_URL: jwks_document((PLATFORM_KEY, "p1"))}),
    )
    return CanvasCloud(app=app, client=app.test_client(), store=store)
