"""Suspicion 12: SQLAlchemy error texts, with learner data in their parameters, reach logs.

A database error's text carried the statement's parameters (``[parameters: (..., 'Ana Lopez',
'ana.lopez@example.edu', ...)]``) and, on PostgreSQL, the server's own detail, which quotes the
values of the row (``Key (sub)=(...) already exists``, ``invalid input syntax ...: "<value>"``).
Those texts ended in raised messages, tracebacks and the log lines of the outbox loop and of the
Flask adapter. Every engine the store makes now hides parameters, the store strips values from
the driver's text of data and integrity errors, and log lines about database errors name the
error class and code only.
"""

from __future__ import annotations

import logging
import traceback
from datetime import UTC, datetime, timedelta

import pytest
from flask import Flask
from sqlalchemy import insert
from sqlalchemy.exc import DBAPIError, IntegrityError, SQLAlchemyError

from blendkit import Settings, Store
from blendkit.courses import CourseService, Enrolment
from blendkit.integrations.flask import Blendkit
from blendkit.lti import Launch, LaunchContext, MessageType, ResourceLink, Tenant, UserIdentity
from blendkit.progression import flipped_classroom
from blendkit.sessions import FakeMeetingProvider
from blendkit.store import describe_database_error
from blendkit.store._tables_courses import course_enrolments
from blendkit.xapi import Outbox, StatementFactory

START = datetime(2030, 3, 4, 16, 0, tzinfo=UTC)
ISSUER = "https://lms.example.edu"
TENANT = Tenant(issuer=ISSUER, client_id="client-1", deployment_id="dep-1")
NAME = "Ana Lopez-Quintana"
EMAIL = "ana.lopez.quintana@example.edu"
SUB = "learner-7f3a9c"
SECRETS = (NAME, EMAIL, SUB)


def service(store: Store) -> CourseService:
    return CourseService(
        store,
        outbox=Outbox(store),
        statements=StatementFactory("https://tool.example.edu"),
        clock=lambda: START,
    )


def everything_about(exc: BaseException, caplog: pytest.LogCaptureFixture) -> str:
    """The raised message, the whole traceback (chained causes too) and every captured log."""
    shown = [str(exc), repr(exc), "".join(traceback.format_exception(exc))]
    shown += [record.getMessage() for record in caplog.records]
    shown += [caplog.text]
    return "\n".join(shown)


def assert_no_learner_data(text: str) -> None:
    for secret in SECRETS:
        assert secret not in text, f"learner data {secret!r} leaked:\n{text}"


def test_integrity_error_through_the_course_service(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """Enrolling into a course that is gone (a stale Course value): a foreign-key violation."""
    caplog.set_level(logging.DEBUG)
    courses = service(store)
    course = courses.ensure_course(TENANT, "bio-1", title="Biology", path=flipped_classroom(START))
    gone = course.model_copy(update={"id": course.id + 1000})
    with pytest.raises(IntegrityError) as caught:
        courses.enrol(gone, Enrolment(sub=SUB, name=NAME, email=EMAIL))
    assert_no_learner_data(everything_about(caught.value, caplog))
    summary = describe_database_error(caught.value)
    assert summary.startswith("IntegrityError")
    assert ("SQLSTATE 23503" in summary) if store.is_postgres else ("SQLITE_CONSTRAINT" in summary)


def test_unique_violation_detail_is_not_repeated(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL's DETAIL quotes the duplicate key (the learner's sub); SQLite names columns."""
    caplog.set_level(logging.DEBUG)
    courses = service(store)
    course = courses.ensure_course(TENANT, "bio-2", title="Biology", path=flipped_classroom(START))
    courses.enrol(course, Enrolment(sub=SUB, name=NAME, email=EMAIL))
    row = {
        "course_id": course.id, "sub": SUB, "name": NAME, "email": EMAIL, "time_zone": "UTC",
        "enrolled_at": START, "groups": "[]", "roles": "[]",
    }  # fmt: skip
    with pytest.raises(IntegrityError) as caught, store.transaction() as connection:
        connection.execute(insert(course_enrolments).values(**row))
    assert_no_learner_data(everything_about(caught.value, caplog))
    if store.is_postgres:
        summary = describe_database_error(caught.value)
        assert "SQLSTATE 23505" in summary
        assert "uq_course_enrolments_course_sub" in summary


def test_data_error_on_postgres(store: Store, caplog: pytest.LogCaptureFixture) -> None:
    """A NUL character in a launch's name: PostgreSQL refuses the text (SQLite stores it)."""
    if not store.is_postgres:
        pytest.skip("SQLite stores NUL characters; the DataError exists on PostgreSQL only")
    caplog.set_level(logging.DEBUG)
    courses = service(store)
    course = courses.ensure_course(TENANT, "bio-3", title="Biology", path=flipped_classroom(START))
    with pytest.raises(DBAPIError) as caught:
        courses.enrol(course, Enrolment(sub=SUB, name=NAME + "\x00", email=EMAIL))
    assert_no_learner_data(everything_about(caught.value, caplog))
    assert describe_database_error(caught.value).startswith("DataError")


def test_echoed_statements_hide_their_parameters(
    tmp_path: object, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    store = Store(f"sqlite:///{tmp_path}/echo.sqlite3", echo=True)
    store.migrate()
    courses = service(store)
    course = courses.ensure_course(TENANT, "bio-4", title="Biology", path=flipped_classroom(START))
    courses.enrol(course, Enrolment(sub=SUB, name=NAME, email=EMAIL))
    assert "INSERT INTO course_enrolments" in caplog.text
    assert_no_learner_data(caplog.text)
    store.dispose()


def test_outbox_loop_logs_the_error_class_not_its_text(
    store: Store, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    courses = service(store)
    course = courses.ensure_course(TENANT, "bio-5", title="Biology", path=flipped_classroom(START))
    gone = course.model_copy(update={"id": course.id + 1000})
    try:
        courses.enrol(gone, Enrolment(sub=SUB, name=NAME, email=EMAIL))
    except SQLAlchemyError as exc:
        real = exc
    outbox = Outbox(store, sleep=lambda _seconds: None)
    calls = iter([real])

    def failing(**_: object) -> object:
        raise next(calls)

    monkeypatch.setattr(outbox, "deliver_once", failing)
    stops = iter([False, True])
    caplog.set_level(logging.DEBUG)
    report = outbox.run(lambda: next(stops), poll_seconds=0.01)
    logged = "\n".join(r.getMessage() for r in caplog.records)
    assert "IntegrityError" in logged
    assert "INSERT" not in logged
    assert "[SQL" not in logged
    assert_no_learner_data(logged + "\n".join(report.errors))


def test_flask_route_hitting_a_database_error(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    """The first page of a launch enrols the learner; PostgreSQL refuses a NUL in the name."""
    if not store.is_postgres:
        pytest.skip("SQLite stores NUL characters; the DataError exists on PostgreSQL only")
    from blendkit_examples.flask_app import create_app

    settings = Settings(
        database={"url": store.url.render_as_string(hide_password=False)},
        tool={"base_url": "http://tool.test", "secret_key": "test-secret"},
    )
    app: Flask = create_app(
        settings,
        store=store,
        provider=FakeMeetingProvider(max_webhook_age=timedelta(days=30)),
        TESTING=False,
    )
    launch = Launch(
        message_type=MessageType.RESOURCE_LINK,
        version="1.3.0",
        issuer=ISSUER,
        client_id="client-1",
        deployment_id="dep-1",
        user=UserIdentity(sub=SUB, name=NAME + "\x00", email=EMAIL),
        roles=("http://purl.imsglobal.org/vocab/lis/v2/membership#Learner",),
        context=LaunchContext(id="bio-6", title="Biology"),
        resource_link=ResourceLink(id="rl-1"),
        target_link_uri="http://tool.test/lti/launch",
    )
    with app.app_context():
        launch_id = Blendkit.state().launches.save(launch)
    caplog.set_level(logging.DEBUG)
    page = app.test_client().get("/course", query_string={"launch": launch_id})
    assert page.status_code == 500
    body = page.get_data(as_text=True)
    assert "store.database" in body
    assert_no_learner_data(body + caplog.text)
    assert "DataError" in caplog.text
