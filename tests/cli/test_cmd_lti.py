"""``blendkit platform`` and ``blendkit keys`` through click's runner on a real SQLite store."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from blendkit.cli import cli

ISS = "https://moodle.example.edu"
ADD = [
    "platform",
    "add",
    "--issuer",
    ISS,
    "--client-id",
    "abc",
    "--deployment-id",
    "1",
    "--deployment-id",
    "2",
    "--auth-login-url",
    ISS + "/mod/lti/auth.php",
    "--auth-token-url",
    ISS + "/mod/lti/token.php",
    "--jwks-url",
    ISS + "/mod/lti/certs.php",
    "--name",
    "Moodle",
]


@pytest.fixture
def runner() -> CliRunner:
    return CliRunner()


def test_platform_add_list_remove(runner: CliRunner) -> None:
    added = runner.invoke(cli, ADD)
    assert added.exit_code == 0, added.output
    listed = runner.invoke(cli, ["platform", "list", "--json"])
    assert listed.exit_code == 0
    (record,) = json.loads(listed.output)
    assert record["issuer"] == ISS
    assert record["client_id"] == "abc"
    assert record["deployment_ids"] == ["1", "2"]
    assert record["name"] == "Moodle"
    table = runner.invoke(cli, ["platform", "list"])
    assert "deployments: 1, 2" in table.output
    more = runner.invoke(
        cli,
        [
            "platform",
            "add-deployment",
            "--issuer",
            ISS,
            "--client-id",
            "abc",
            "--deployment-id",
            "3",
        ],
    )
    assert more.exit_code == 0
    assert "1, 2, 3" in more.output
    removed = runner.invoke(cli, ["platform", "remove", "--issuer", ISS, "--client-id", "abc"])
    assert removed.exit_code == 0
    assert json.loads(runner.invoke(cli, ["platform", "list", "--json"]).output) == []


def test_service_hosts_are_pinned_listed_changed_and_checked(runner: CliRunner) -> None:
    added = runner.invoke(cli, [*ADD, "--service-host", "Moodle.Example.edu."])
    assert added.exit_code == 0, added.output
    (record,) = json.loads(runner.invoke(cli, ["platform", "list", "--json"]).output)
    assert record["service_hosts"] == ["moodle.example.edu"]
    where = ["--issuer", ISS, "--client-id", "abc"]
    pinned = runner.invoke(
        cli, ["platform", "set-service-hosts", *where, "*.instructure.com", "lms.example.edu"]
    )
    assert pinned.exit_code == 0, pinned.output
    assert "*.instructure.com lms.example.edu" in runner.invoke(cli, ["platform", "list"]).output
    cleared = runner.invoke(cli, ["platform", "set-service-hosts", *where])
    assert "any public https host" in cleared.output
    for bad in ("http://lms.example.edu", "10.0.0.0/8", "lms example"):
        refused = runner.invoke(cli, ["platform", "set-service-hosts", *where, bad])
        assert refused.exit_code == 2, bad
    other = ["--issuer", ISS, "--client-id", "nope"]
    assert runner.invoke(cli, ["platform", "set-service-hosts", *other]).exit_code == 2


def test_duplicate_registration_exits_2(runner: CliRunner) -> None:
    assert runner.invoke(cli, ADD).exit_code == 0
    again = runner.invoke(cli, ADD)
    assert again.exit_code == 2
    assert "store.already_exists" in again.output


@pytest.mark.parametrize(
    ("option", "value"),
    [
        ("--jwks-url", "http://moodle.example.edu/certs"),
        ("--auth-login-url", "moodle.example.edu/auth"),
        ("--auth-token-url", "ftp://moodle.example.edu/token"),
        ("--issuer", "not a url"),
    ],
)
def test_bad_urls_exit_2_naming_the_option(runner: CliRunner, option: str, value: str) -> None:
    args = list(ADD)
    args[args.index(option) + 1] = value
    result = runner.invoke(cli, args)
    assert result.exit_code == 2
    assert option in result.output
    assert "https://" in result.output


def test_loopback_http_is_allowed_for_local_platforms(runner: CliRunner) -> None:
    args = [a.replace("https://moodle.example.edu", "http://127.0.0.1:8000") for a in ADD]
    assert runner.invoke(cli, args).exit_code == 0


def test_unknown_platform_operations_exit_2(runner: CliRunner) -> None:
    result = runner.invoke(cli, ["platform", "remove", "--issuer", ISS, "--client-id", "zzz"])
    assert result.exit_code == 2
    assert "store.not_found" in result.output
    result = runner.invoke(
        cli,
        ["platform", "add-deployment", "--issuer", ISS, "--client-id", "z", "--deployment-id", "1"],
    )
    assert result.exit_code == 2


def test_missing_required_option_exits_2(runner: CliRunner) -> None:
    assert runner.invoke(cli, ["platform", "add", "--issuer", ISS]).exit_code == 2


def test_keys_rotate_and_retire_cycle(runner: CliRunner) -> None:
    first = json.loads(runner.invoke(cli, ["keys", "jwks"]).output)
    (old,) = first["keys"]
    assert old["alg"] == "RS256"
    assert "d" not in old
    rotated = runner.invoke(cli, ["keys", "rotate"])
    assert rotated.exit_code == 0
    both = json.loads(runner.invoke(cli, ["keys", "jwks"]).output)
    assert len(both["keys"]) == 2
    listing = runner.invoke(cli, ["keys", "list"]).output
    assert "signing" in listing
    assert "published" in listing
    refused = runner.invoke(cli, ["keys", "retire", "--kid", both["keys"][0]["kid"]])
    assert refused.exit_code == 2
    assert "lti.key_in_use" in refused.output
    retired = runner.invoke(cli, ["keys", "retire"])
    assert retired.exit_code == 0
    assert old["kid"] in retired.output
    (remaining,) = json.loads(runner.invoke(cli, ["keys", "jwks"]).output)["keys"]
    assert remaining["kid"] != old["kid"]
    records = json.loads(runner.invoke(cli, ["keys", "list", "--json"]).output)
    assert {r["kid"]: r["active"] for r in records} == {old["kid"]: False, remaining["kid"]: True}
    assert "PRIVATE" not in runner.invoke(cli, ["keys", "list"]).output


@pytest.mark.parametrize(
    "command",
    [
        ["platform"],
        ["platform", "add"],
        ["platform", "list"],
        ["platform", "remove"],
        ["platform", "add-deployment"],
        ["platform", "set-service-hosts"],
        ["keys"],
        ["keys", "list"],
        ["keys", "rotate"],
        ["keys", "retire"],
        ["keys", "jwks"],
    ],
)
def test_every_command_has_help(runner: CliRunner, command: list[str]) -> None:
    result = runner.invoke(cli, [*command, "--help"])
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_platform_invite_prints_a_link_and_lists_it_without_the_token(
    runner: CliRunner, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BLENDKIT_TOOL_BASE_URL", "https://tool.example.edu")
    minted = runner.invoke(
        cli, ["platform", "invite", "--expires", "2h", "--note", "Moodle prod", "--by", "alice"]
    )
    assert minted.exit_code == 0, minted.output
    link = minted.output.splitlines()[0]
    assert link.startswith("https://tool.example.edu/lti/register?invite=")
    token = link.rsplit("=", 1)[1]
    assert "registration_enabled" in minted.output, "a switched-off tool says so"
    listed = runner.invoke(cli, ["platform", "invites"])
    assert "by alice" in listed.output
    assert "Moodle prod" in listed.output
    assert token not in listed.output
    (record,) = json.loads(runner.invoke(cli, ["platform", "invites", "--json"]).output)
    assert record["created_by"] == "alice"
    assert token not in json.dumps(record)
    revoked = runner.invoke(cli, ["platform", "revoke-invite", str(record["id"])])
    assert revoked.exit_code == 0
    assert "no active invite" in runner.invoke(cli, ["platform", "invites"]).output


def test_platform_invite_refuses_bad_lifetimes_and_unknown_ids(runner: CliRunner) -> None:
    for lifetime in ("forever", "0m", "8d"):
        result = runner.invoke(cli, ["platform", "invite", "--expires", lifetime])
        assert result.exit_code == 2
        assert "lti.registration_invite_lifetime" in result.output
    unknown = runner.invoke(cli, ["platform", "revoke-invite", "42"])
    assert unknown.exit_code == 2
    assert "store.not_found" in unknown.output


def test_platform_list_says_how_a_registration_was_made(runner: CliRunner) -> None:
    assert runner.invoke(cli, ADD).exit_code == 0
    assert "by hand" in runner.invoke(cli, ["platform", "list"]).output
