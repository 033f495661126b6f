"""``blendkit courses``: list courses, show the unassigned ones with the deployments their
launches came from, and assign one to its deployment."""

from __future__ import annotations

from click.testing import CliRunner

from blendkit import Store, load_settings
from blendkit.cli import cli
from tests.store.test_courses_tenancy_migration import old_revision_store


def test_unassigned_courses_are_listed_and_assigned_from_the_command_line() -> None:
    store = Store.from_settings(load_settings())  # the isolated per-test SQLite database
    old_revision_store(store)
    runner = CliRunner()

    listed = runner.invoke(cli, ["courses", "list", "--unassigned"])
    assert listed.exit_code == 0, listed.output
    assert "3\thttps://canvas.instructure.com\tclient k\tdeployment UNASSIGNED" in listed.output
    assert "launched from (client/deployment): k/101:a, k/202:b" in listed.output
    assert "launched from (client/deployment): none stored" in listed.output
    assert "2 course(s)" in listed.output

    unknown = runner.invoke(
        cli, ["courses", "assign-deployment", "3", "--client-id", "k", "--deployment-id", "9:z"]
    )
    assert unknown.exit_code == 2
    assert "not registered" in unknown.output
    assigned = runner.invoke(
        cli, ["courses", "assign-deployment", "3", "--client-id", "k", "--deployment-id", "202:b"]
    )
    assert assigned.exit_code == 0, assigned.output
    assert "course 3 (ctx-shared) now belongs to" in assigned.output
    again = runner.invoke(
        cli, ["courses", "assign-deployment", "3", "--client-id", "k", "--deployment-id", "101:a"]
    )
    assert again.exit_code == 2
    assert "courses.already_assigned" in again.output
    missing = runner.invoke(
        cli, ["courses", "assign-deployment", "99", "--client-id", "k", "--deployment-id", "1"]
    )
    assert missing.exit_code == 2

    everything = runner.invoke(cli, ["courses", "list"]).output
    assert "deployment 202:b\tcontext ctx-shared" in everything
    assert "5 course(s)" in everything
    store.dispose()
