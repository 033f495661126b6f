"""Grade posts through AGS: blendkit (shared token cache) vs pylti1p3 vs the floor, in one run.

A local platform (token endpoint verifying the RS256 client assertion against the tool's JWKS,
and an AGS scores endpoint requiring the Bearer token) runs on 127.0.0.1. Each "request" of a
web application posts one learner's score:

* blendkit: one ``Advantage``-style ``AccessTokens`` for the application, a session per launch;
* pylti1p3: ``AssignmentsGradesService`` on a fresh ``ServiceConnector`` per request, as
  ``MessageLaunch.get_ags()`` builds it (one shared ``requests.Session`` to be fair);
* pylti1p3_one_connector: one connector for every post (its best case: one token);
* floor: a raw httpx POST of the same score with a token obtained beforehand.

Each figure is the median over repetitions of the mean time per post; token requests are
counted on the platform. Measured here, most of pylti1p3's per-request cost is not the HTTP round
trip but PyJWT re-loading the tool's PEM private key for every client assertion
(``load_pem_private_key``, tens of milliseconds for RSA-2048 with cryptography's key checks).

    .venv/bin/python benchmarks/bench_services.py [--posts 40] [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import httpx
import orjson
import requests
from cryptography.hazmat.primitives import serialization
from pylti1p3.assignments_grades import AssignmentsGradesService
from pylti1p3.grade import Grade
from pylti1p3.registration import Registration
from pylti1p3.service_connector import ServiceConnector

from blendkit.http import Fence, OutboundPolicy
from blendkit.lti import (
    AccessTokens,
    AGSScore,
    AssignmentGradeService,
    KeySet,
    LineItem,
    Platform,
    ServiceSession,
)
from blendkit.store import KeyEncryption, Store

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from tests.lti.advantage_platform import SCORE, PlatformState, run_platform

ENCRYPTION = KeyEncryption.generate()  # the tool's keys are encrypted at rest

CLIENT_ID = "bench-client"


def _per_post(run: Callable[[int], None], posts: int) -> float:
    start = time.perf_counter()
    for index in range(posts):
        run(index)
    return (time.perf_counter() - start) / posts


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--posts", type=int, default=40)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()

    store = Store(f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3")
    store.migrate()
    keys = KeySet(store, encryption=ENCRYPTION)
    _, private = keys.signing_key()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    public_pem = (
        private.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )

    gen = run_platform(PlatformState(client_id=CLIENT_ID, tool_jwks=keys.jwks, page_size=50))
    state = next(gen)
    try:
        platform = Platform(
            issuer="https://lms.example.edu",
            client_id=CLIENT_ID,
            auth_login_url=state.base_url + "/auth",
            auth_token_url=state.token_url,
            jwks_url=state.base_url + "/jwks",
        )
        http = httpx.Client()
        # The platform listens on loopback over http: allowed by name ([http] allowed_hosts).
        tokens = AccessTokens(keys, http=http, fence=Fence(OutboundPolicy.allowing(["127.0.0.1"])))
        setup = AssignmentGradeService(
            ServiceSession(platform, tokens),
            lineitems_url=state.base_url + "/lineitems",
            scopes=["https://purl.imsglobal.org/spec/lti-ags/scope/lineitem", SCORE],
        )
        item = setup.create_line_item(LineItem(label="Bench", score_maximum=10))
        assert item.id is not None
        lineitem_url = item.id

        def blendkit_post(index: int) -> None:
            service = AssignmentGradeService(  # a new launch's service, the app's token cache
                ServiceSession(platform, tokens), lineitem_url=lineitem_url, scopes=[SCORE]
            )
            service.post_score(
                AGSScore(
                    user_id=f"u{index}",
                    score_given=7,
                    score_maximum=10,
                    activity_progress="Completed",
                    grading_progress="FullyGraded",
                )
            )

        registration = (
            Registration()
            .set_issuer(platform.issuer)
            .set_client_id(CLIENT_ID)
            .set_auth_token_url(state.token_url)
            .set_tool_private_key(pem)
            .set_tool_public_key(public_pem)
        )
        session = requests.Session()

        def pylti1p3_post(index: int) -> None:
            connector = ServiceConnector(registration, requests_session=session)
            ags = AssignmentsGradesService(connector, {"scope": [SCORE], "lineitem": lineitem_url})
            grade = (
                Grade()
                .set_user_id(f"u{index}")
                .set_score_given(7)
                .set_score_maximum(10)
                .set_activity_progress("Completed")
                .set_grading_progress("FullyGraded")
                .set_timestamp(datetime.now(UTC).isoformat(timespec="milliseconds"))
            )
            ags.put_grade(grade)

        shared_connector = ServiceConnector(registration, requests_session=session)

        def pylti1p3_one_connector_post(index: int) -> None:
            # pylti1p3 reuses a token only within one connector (one launch): the best case.
            ags = AssignmentsGradesService(
                shared_connector, {"scope": [SCORE], "lineitem": lineitem_url}
            )
            grade = (
                Grade()
                .set_user_id(f"u{index}")
                .set_score_given(7)
                .set_score_maximum(10)
                .set_activity_progress("Completed")
                .set_grading_progress("FullyGraded")
                .set_timestamp(datetime.now(UTC).isoformat(timespec="milliseconds"))
            )
            ags.put_grade(grade)

        floor_token = tokens.get(platform, [SCORE]).value

        def floor_post(index: int) -> None:
            response = http.post(
                lineitem_url + "/scores",
                content=orjson.dumps(
                    {
                        "userId": f"u{index}",
                        "scoreGiven": 7,
                        "scoreMaximum": 10,
                        "activityProgress": "Completed",
                        "gradingProgress": "FullyGraded",
                        "timestamp": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    }
                ),
                headers={
                    "Authorization": f"Bearer {floor_token}",
                    "Content-Type": "application/vnd.ims.lis.v1.score+json",
                },
                timeout=10,
            )
            response.raise_for_status()

        impls: dict[str, Callable[[int], None]] = {
            "floor": floor_post,
            "blendkit": blendkit_post,
            "pylti1p3": pylti1p3_post,
            "pylti1p3_one_connector": pylti1p3_one_connector_post,
        }
        for run in impls.values():  # warm up connections, caches and the server's threads
            _per_post(run, 3)
        samples: dict[str, list[float]] = {name: [] for name in impls}
        token_requests = dict.fromkeys(impls, 0)
        for _ in range(args.repeats):  # interleaved, so drift on a shared machine hits all
            for name, run in impls.items():
                before = state.token_requests
                samples[name].append(_per_post(run, args.posts))
                token_requests[name] += state.token_requests - before
        figures = {name: statistics.median(values) for name, values in samples.items()}
        for name in impls:
            print(
                orjson.dumps(
                    {
                        "benchmark": "ags_score_post",
                        "impl": name,
                        "posts": args.posts * args.repeats,
                        "median_us_per_post": round(figures[name] * 1e6, 1),
                        "token_requests": token_requests[name],
                    }
                ).decode()
            )
        print(
            orjson.dumps(
                {
                    "benchmark": "ags_score_post",
                    "ratio_pylti1p3_over_blendkit": round(
                        figures["pylti1p3"] / figures["blendkit"], 2
                    ),
                    "ratio_pylti1p3_one_connector_over_blendkit": round(
                        figures["pylti1p3_one_connector"] / figures["blendkit"], 2
                    ),
                    "ratio_blendkit_over_floor": round(figures["blendkit"] / figures["floor"], 2),
                }
            ).decode()
        )
        http.close()
    finally:
        gen.close()
        store.dispose()


if __name__ == "__main__":
    main()
