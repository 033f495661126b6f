"""courses_0002: courses made before deployment tenancy are assigned by the documented rule, keep
their xAPI activity key and every row hanging off them, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import func, select, text

from blendkit import AlreadyExists, CourseInputInvalid, CourseUnassigned, NotFound, Store
from blendkit.courses import CourseAssignments, CourseService, Enrolment
from blendkit.lti import Tenant
from blendkit.progression import flipped_classroom
from blendkit.store._migrate import _MIGRATIONS
from blendkit.store._tables_courses import (
    course_courses,
    course_enrolments,
    course_evidence,
    course_grades,
    course_join_links,
    course_sessions,
)
from blendkit.xapi import Outbox, StatementFactory

NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
MOODLE = "https://moodle.example.edu"
CANVAS = "https://canvas.instructure.com"
PATH = '{"id": "p", "title": "P", "modules": []}'


def _alembic(store: Store, *targets: str, down: str | None = None) -> None:
    config = Config()
    config.set_main_option("script_location", str(_MIGRATIONS))
    with store.engine.begin() as connection:
        config.attributes["connection"] = connection
        if down is not None:
            command.downgrade(config, down)
        for target in targets:
            command.upgrade(config, target)


def _insert(store: Store, sql: str, **values: object) -> None:
    with store.engine.begin() as connection:
        connection.execute(text(sql), values)


def old_revision_store(store: Store) -> None:
    """The schema as it was before courses_0002, holding courses of every kind the rule meets."""
    _alembic(store, "core_0003", "courses_0001")
    platform = (
        "INSERT INTO lti_platforms (issuer, client_id, name, auth_login_url, auth_token_url,"
        " jwks_url, created_at) VALUES (:issuer, :client_id, '', 'https://x/a',"
        " 'https://x/t', 'https://x/j', :at)"
    )
    _insert(store, platform, issuer=MOODLE, client_id="m1", at=NOW)
    _insert(store, platform, issuer=CANVAS, client_id="k", at=NOW)
    deployment = "INSERT INTO lti_deployments (platform_id, deployment_id) VALUES (:p, :d)"
    _insert(store, deployment, p=1, d="d1")
    _insert(store, deployment, p=2, d="101:a")
    _insert(store, deployment, p=2, d="202:b")
    launch = (
        "INSERT INTO lti_launches (id, issuer, client_id, deployment_id, sub, context_id, data,"
        " created_at, expires_at) VALUES (:id, :issuer, 'k', :dep, 'u', :ctx, '{}', :at, :at)"
    )
    _insert(store, launch, id="l1", issuer=CANVAS, dep="101:a", ctx="ctx-a", at=NOW)
    _insert(store, launch, id="l2", issuer=CANVAS, dep="101:a", ctx="ctx-a", at=NOW)
    _insert(store, launch, id="l3", issuer=CANVAS, dep="101:a", ctx="ctx-shared", at=NOW)
    _insert(store, launch, id="l4", issuer=CANVAS, dep="202:b", ctx="ctx-shared", at=NOW)
    course = (
        "INSERT INTO course_courses (issuer, client_id, context_id, title, path, ags,"
        " created_at, updated_at) VALUES (:issuer, :client, :ctx, :title, :path, NULL,"
        " :at, :at)"
    )
    rows = [  # ids 1 to 5, in this order
        (MOODLE, "m1", "c1"),  # its registration has one deployment: rule 1
        (CANVAS, "k", "ctx-a"),  # launches only from 101:a: rule 2
        (CANVAS, "k", "ctx-shared"),  # launches from two deployments: unassigned
        (CANVAS, None, "ctx-none"),  # nothing tells: unassigned
        (MOODLE, None, "c-seeded"),  # made without a client id; one deployment: rule 1
    ]
    for issuer, client, ctx in rows:
        _insert(
            store,
            course,
            issuer=issuer,
            client=client,
            ctx=ctx,
            title=ctx,
            path=PATH,
            at=NOW,
        )
    for course_id in (2, 3):
        _insert(
            store,
            "INSERT INTO course_enrolments (course_id, sub, name, time_zone, enrolled_at, groups,"
            " roles) VALUES (:c, 'ana', 'Ana', 'UTC', :at, '[]', '[\"learner\"]')",
            c=course_id,
            at=NOW,
        )
        _insert(
            store,
            "INSERT INTO course_evidence (course_id, sub, kind, item, piece, recorded_at)"
            " VALUES (:c, 'ana', 'view', 'intro', '{}', :at)",
            c=course_id,
            at=NOW,
        )
        _insert(
            store,
            "INSERT INTO course_sessions (id, course_id, item, title, start_utc, time_zone,"
            " duration_minutes, provider, provider_meeting_id, join_url, attendance_imported,"
            " created_at) VALUES (:s, :c, NULL, 'Week 1', :at, 'UTC', 60, 'fake', :s,"
            " 'https://meet.example/j', :no, :at)",
            s=f"s{course_id}",
            c=course_id,
            at=NOW,
            no=False,
        )
        _insert(
            store,
            "INSERT INTO course_join_links (session_id, sub, url, created_at)"
            " VALUES (:s, 'ana', 'https://meet.example/ana', :at)",
            s=f"s{course_id}",
            at=NOW,
        )
        _insert(
            store,
            "INSERT INTO course_grades (course_id, sub, item, label, score_given, score_maximum,"
            " scored_at, status, attempts, next_attempt_at) VALUES (:c, 'ana', 'quiz', 'Quiz',"
            " 80, 100, :at, 'pending', 0, :at)",
            c=course_id,
            at=NOW,
        )


def _counts(store: Store) -> dict[str, int]:
    tables = (course_enrolments, course_evidence, course_sessions, course_join_links, course_grades)
    with store.session() as s:
        return {
            t.name: int(s.execute(select(func.count()).select_from(t)).scalar_one()) for t in tables
        }


def _service(store: Store) -> CourseService:
    return CourseService(
        store, outbox=Outbox(store), statements=StatementFactory("https://tool.example.edu")
    )


@pytest.fixture
def legacy(tmp_path, request: pytest.FixtureRequest) -> Store:  # type: ignore[no-untyped-def]
    """An empty store (SQLite, or PostgreSQL when configured) brought to the old revision."""
    store: Store = request.getfixturevalue("_empty_" + request.param)
    old_revision_store(store)
    return store


@pytest.fixture
def _empty_sqlite(tmp_path):  # type: ignore[no-untyped-def]
    store = Store(f"sqlite:///{tmp_path / 'legacy.sqlite3'}")
    yield store
    store.dispose()


@pytest.fixture
def _empty_postgres(postgres_url: str):  # type: ignore[no-untyped-def]
    store = Store(postgres_url)
    yield store
    store.dispose()


BACKENDS = pytest.mark.parametrize("legacy", ["sqlite", "postgres"], indirect=True)


@BACKENDS
def test_existing_courses_are_assigned_by_the_rule_and_keep_their_rows(legacy: Store) -> None:
    before = _counts(legacy)
    legacy.migrate()
    assert _counts(legacy) == before, "no enrolment, evidence, session, link or grade was lost"
    with legacy.session() as s:
        rows = {r.id: r for r in s.execute(select(course_courses)).all()}
    assigned = {i: (r.client_id, r.deployment_id) for i, r in rows.items()}
    assert assigned == {
        1: ("m1", "d1"),
        2: ("k", "101:a"),
        3: ("k", None),
        4: (None, None),
        5: ("m1", "d1"),
    }
    assert rows[1].activity_key == "moodle.example.edu:c1"
    assert rows[2].activity_key == "canvas.instructure.com:ctx-a", "LRS history continues"


@BACKENDS
def test_after_the_upgrade_each_deployment_reaches_only_its_own_course(legacy: Store) -> None:
    legacy.migrate()
    courses = _service(legacy)
    a = Tenant(issuer=CANVAS, client_id="k", deployment_id="101:a")
    b = Tenant(issuer=CANVAS, client_id="k", deployment_id="202:b")
    path = flipped_classroom(NOW)

    kept, ana = courses.ensure_course_and_enrol(
        a, "ctx-a", Enrolment(sub="ana"), title="A", path=path
    )
    assert kept.id == 2
    assert courses.course_key(kept) == "canvas.instructure.com:ctx-a"
    assert ana.enrolled_at == NOW, "the enrolment from before the upgrade"
    theirs = courses.ensure_course(b, "ctx-a", title="B", path=path)
    assert theirs.id not in {1, 2, 3, 4, 5}
    assert courses.course_key(theirs) == f"canvas.instructure.com:{b.key}:ctx-a"
    assert courses.enrolments(theirs) == []

    with pytest.raises(CourseUnassigned) as waiting:
        courses.ensure_course(a, "ctx-shared", title="S", path=path)
    assert waiting.value.code == "courses.unassigned"
    assert "assign-deployment 3" in waiting.value.message

    assignments = CourseAssignments(legacy)
    assert [c.id for c in assignments.unassigned()] == [3, 4]
    assert [str(t) for t in assignments.launched_from(assignments.unassigned()[0])] == [
        str(a),
        str(b),
    ]
    with pytest.raises(NotFound, match="not registered"):
        assignments.assign(3, Tenant(issuer=CANVAS, client_id="k", deployment_id="303:c"))
    with pytest.raises(CourseInputInvalid) as wrong:
        assignments.assign(3, Tenant(issuer=MOODLE, client_id="m1", deployment_id="d1"))
    assert wrong.value.code == "courses.wrong_registration"
    assigned = assignments.assign(3, b)
    assert assigned.tenant == b
    assert courses.ensure_course(b, "ctx-shared", title="S", path=path).id == 3
    assert [p.sub for p in courses.enrolments(assigned)] == ["ana"]
    with pytest.raises(AlreadyExists) as again:
        assignments.assign(3, a)
    assert again.value.code == "courses.already_assigned"
    # Course 3 is B's now: A's next launch into that context starts A's own course.
    assert courses.ensure_course(a, "ctx-shared", title="S", path=path).id not in (3, 4)
    # Course 4 (no client id, no launches) goes to A; a row of A for its context would block it.
    with legacy.session() as s:
        s.execute(
            course_courses.insert().values(
                issuer=CANVAS, client_id="k", deployment_id="202:b", context_id="ctx-none",
                activity_key="x", title="T", path=PATH, created_at=NOW, updated_at=NOW,
            )
        )  # fmt: skip
    with pytest.raises(AlreadyExists) as taken:
        assignments.assign(4, b)
    assert taken.value.code == "courses.deployment_taken"
    assert assignments.assign(4, a).tenant == a
    assert assignments.unassigned() == []


@BACKENDS
def test_downgrade_and_upgrade_again_keep_the_courses(legacy: Store) -> None:
    legacy.migrate()
    before = _counts(legacy)
    _alembic(legacy, down="courses_0001")
    with legacy.session() as s:
        columns = s.execute(text("SELECT * FROM course_courses")).keys()
    assert "deployment_id" not in columns
    assert _counts(legacy) == before
    legacy.migrate()
    assert _counts(legacy) == before
