"""Statement models: the xAPI 1.0.3 rules, the 2.0.0 differences, one clear error per problem."""

from __future__ import annotations

import copy
import pickle
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from blendkit.errors import StatementInvalid
from blendkit.xapi import Group, Statement, parse_statement

BASE: dict[str, Any] = {
    "id": "3f2504e0-4f89-41d3-9a0c-0305e82c3301",
    "actor": {"account": {"homePage": "https://canvas.example.edu", "name": "u1"}},
    "verb": {"id": "http://adlnet.gov/expapi/verbs/passed", "display": {"en-US": "passed"}},
    "object": {"id": "https://tool.example/quiz/1"},
    "timestamp": "2026-01-01T10:00:00Z",
}


def with_(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(BASE)
    data.update(changes)
    return data


def test_valid_statement_round_trips_through_json() -> None:
    statement = parse_statement(BASE)
    assert parse_statement(statement.to_json()) == statement
    assert orjson.loads(statement.to_json())["object"] == {"id": "https://tool.example/quiz/1"}


@pytest.mark.parametrize(
    ("actor", "field"),
    [
        ({"mbox": "ann@example.org"}, "actor.mbox"),
        ({"mbox": "mailto:a@b.c", "openid": "https://id.example/a"}, "exactly one"),
        ({"name": "nobody"}, "exactly one"),
        ({"mbox_sha1sum": "xyz"}, "actor.mbox_sha1sum"),
        ({"account": {"homePage": "not an iri", "name": "u"}}, "actor.account.homePage"),
        ({"objectType": "Group"}, "must list its member"),
    ],
)
def test_invalid_actor_names_the_field(actor: dict[str, Any], field: str) -> None:
    with pytest.raises(StatementInvalid) as info:
        parse_statement(with_(actor=actor))
    assert field in info.value.message
    assert info.value.code == "xapi.statement_invalid"


def test_group_actor_with_members_is_accepted() -> None:
    group = {"objectType": "Group", "member": [{"mbox": "mailto:a@example.org"}]}
    assert isinstance(parse_statement(with_(actor=group)).actor, Group)


@pytest.mark.parametrize(
    ("score", "message"),
    [
        ({"scaled": 1.5}, "result.score.scaled"),
        ({"raw": 11, "min": 0, "max": 10}, "must not exceed"),
        ({"raw": -1, "min": 0, "max": 10}, "must not be below"),
        ({"min": 5, "max": 5}, "less than"),
    ],
)
def test_score_rules(score: dict[str, Any], message: str) -> None:
    with pytest.raises(StatementInvalid, match=message):
        parse_statement(with_(result={"score": score}))


@pytest.mark.parametrize(
    "obj",
    [
        {"objectType": "StatementRef", "id": "3f2504e0-4f89-41d3-9a0c-0305e82c3302"},
        {"objectType": "Agent", "mbox": "mailto:b@example.org"},
        {"objectType": "Group", "member": [{"mbox": "mailto:b@example.org"}]},
        {
            "objectType": "SubStatement",
            "actor": {"mbox": "mailto:b@example.org"},
            "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
            "object": {"id": "https://tool.example/page"},
        },
    ],
)
def test_every_object_kind_is_accepted(obj: dict[str, Any]) -> None:
    assert parse_statement(with_(object=obj)).object.objectType == obj["objectType"]


def test_substatement_cannot_nest_and_cannot_carry_an_id() -> None:
    inner = {
        "objectType": "SubStatement",
        "actor": {"mbox": "mailto:b@example.org"},
        "verb": {"id": "http://adlnet.gov/expapi/verbs/experienced"},
        "object": {"id": "https://tool.example/page"},
    }
    nested = {**inner, "object": inner}
    with pytest.raises(StatementInvalid, match=r"statement.object.object"):
        parse_statement(with_(object=nested))
    with pytest.raises(StatementInvalid, match=r"statement.object.id"):
        parse_statement(with_(object={**inner, "id": BASE["id"]}))


def test_voiding_needs_a_statement_ref() -> None:
    with pytest.raises(StatementInvalid, match="StatementRef"):
        parse_statement(with_(verb={"id": "http://adlnet.gov/expapi/verbs/voided"}))


def test_revision_and_platform_only_for_activities() -> None:
    agent_object = {"objectType": "Agent", "mbox": "mailto:b@example.org"}
    with pytest.raises(StatementInvalid, match="revision"):
        parse_statement(with_(object=agent_object, context={"platform": "x"}))
    assert parse_statement(with_(context={"platform": "x"})).context is not None


def test_context_activities_single_object_becomes_a_list() -> None:
    data = with_(context={"contextActivities": {"parent": {"id": "https://tool.example/c"}}})
    parent = parse_statement(data).context.contextActivities.parent  # type: ignore[union-attr]
    assert [a.id for a in parent or []] == ["https://tool.example/c"]


def test_context_agents_exist_only_in_2_0_0() -> None:
    data = with_(
        context={"contextAgents": [{"objectType": "contextAgent", "agent": BASE["actor"]}]}
    )
    with pytest.raises(StatementInvalid, match=r"2\.0\.0"):
        parse_statement(data, version="1.0.3")
    assert parse_statement(data, version="2.0.0").context is not None


def test_timestamp_offset_is_required_in_2_0_0_and_assumed_utc_in_1_0_3() -> None:
    with pytest.raises(StatementInvalid, match=r"statement\.timestamp: xAPI 2\.0\.0"):
        parse_statement(with_(timestamp="2026-01-01T10:00:00"), version="2.0.0")
    bare = parse_statement(with_(timestamp="2026-01-01T10:00:00"))
    assert bare.timestamp == parse_statement(BASE).timestamp
    assert orjson.loads(bare.to_json())["timestamp"] == "2026-01-01T10:00:00Z"


def test_unknown_member_is_refused() -> None:
    with pytest.raises(StatementInvalid, match=r"statement.colour"):
        parse_statement(with_(colour="blue"))


def test_not_json_and_not_an_object() -> None:
    with pytest.raises(StatementInvalid, match="not valid JSON"):
        parse_statement(b"{nope")
    with pytest.raises(StatementInvalid, match="expected a JSON object"):
        parse_statement(b"[1]")


durations = st.builds(
    lambda h, m, s: "PT" + (f"{h}H" if h else "") + (f"{m}M" if m else "") + f"{s}S",
    st.integers(0, 99),
    st.integers(0, 59),
    st.integers(0, 59),
)


@settings(max_examples=150, deadline=None)
@given(duration=durations, raw=st.integers(-1000, 1000), span=st.integers(1, 1000))
def test_valid_results_always_parse_and_round_trip(duration: str, raw: int, span: int) -> None:
    score = {"raw": raw, "min": raw - span, "max": raw + span}
    statement = parse_statement(with_(result={"duration": duration, "score": score}))
    again = Statement.model_validate_json(statement.to_json())
    assert again == statement
    assert statement.to_json() == orjson.dumps(statement.to_dict())
    assert again.result is not None
    assert again.result.duration == duration


@settings(max_examples=150, deadline=None)
@given(text=st.text(max_size=12))
def test_durations_are_either_iso8601_or_refused_by_name(text: str) -> None:
    problem = ""
    try:
        parse_statement(with_(result={"duration": text}))
    except StatementInvalid as exc:
        problem = exc.message
    assert "statement.result.duration" in problem or text.startswith("P")


def test_a_copy_serialises_its_own_changes() -> None:
    statement = parse_statement(BASE)
    statement.to_json()  # caches the original's bytes
    copy_ = statement.model_copy(update={"version": "1.0.3"})
    assert orjson.loads(copy_.to_json())["version"] == "1.0.3"
    assert "version" not in orjson.loads(statement.to_json())


def test_serialised_statements_still_pickle_and_deep_copy() -> None:
    statement = parse_statement(with_(result={"score": {"raw": 1}}, context={"platform": "p"}))
    body = statement.to_json()  # caches the bytes of the statement and its shared parts
    for again in (pickle.loads(pickle.dumps(statement)), copy.deepcopy(statement)):
        assert again == statement
        assert again.to_json() == body


def test_nested_parts_keep_their_order_and_reuse_cached_bytes() -> None:
    statement = parse_statement(
        with_(
            object={
                "objectType": "SubStatement",
                "actor": {"mbox": "mailto:b@example.org"},
                "verb": {"id": "http://adlnet.gov/expapi/verbs/answered"},
                "object": {"id": "https://tool.example/q/2"},
                "timestamp": "2026-01-01T12:00:00.5+02:00",
            },
            result={"score": {"max": 9, "min": 1, "raw": 2}, "success": True},
        )
    )
    statement.actor.to_json()  # a shared part serialised before the statement
    body = statement.to_json()
    assert body == orjson.dumps(statement.to_dict())
    assert b'"score":{"raw":2,"min":1,"max":9}' in body
    assert b'"timestamp":"2026-01-01T12:00:00.500000+02:00"' in body
    unchecked = Statement.model_construct(**{**BASE, "result": None})
    assert orjson.loads(unchecked.to_json())["actor"] == BASE["actor"]


def test_attachment_metadata_rules() -> None:
    attachment = {
        "usageType": "http://adlnet.gov/expapi/attachments/signature",
        "display": {"en-US": "signature"},
        "contentType": "application/octet-stream",
        "length": 4,
        "sha2": "a" * 64,
    }
    assert parse_statement(with_(attachments=[attachment])).attachments is not None
    with pytest.raises(StatementInvalid, match=r"statement\.attachments\.0\.sha2"):
        parse_statement(with_(attachments=[{**attachment, "sha2": "short"}]))
    with pytest.raises(StatementInvalid, match=r"statement\.attachments\.0\.length"):
        parse_statement(with_(attachments=[{**attachment, "length": -1}]))


def test_a_value_whose_private_slot_is_an_empty_dict_still_serialises() -> None:
    # pydantic before 2.14 gives nested values validated from a dict an empty private dict
    # instead of None; the JSON cache must treat both as "not computed yet".
    statement = parse_statement(BASE)
    expected = parse_statement(BASE).to_json()
    for value in (statement, statement.actor, statement.verb, statement.object):
        object.__setattr__(value, "__pydantic_private__", {})
    assert statement.to_json() == expected
