"""Learner pages and forms through the Flask test client: accepted input is kept and shown,
refused input answers with a status and a page naming the reason."""

from __future__ import annotations

import re

from sqlalchemy import func, select

from blendkit.store._tables_courses import course_evidence
from tests.app.conftest import Tool


def _answers(*choices: int) -> dict[str, str]:
    return {f"answer-q{i + 1}": str(c) for i, c in enumerate(choices)}


def test_course_path_shows_states_lock_reasons_and_local_deadlines(tool: Tool) -> None:
    page = tool.get("/course", tool.launch()).get_data(as_text=True)
    assert "Role: <strong class='role'>Learner</strong>" in page
    assert "Biology 101: Cells" in page
    assert 'id="item-readiness-quiz"' in page
    assert "Locked because:" in page
    assert "90%" in page, "the lock reason names the watch threshold"
    assert "(Europe/Berlin)" in page, "deadlines in the learner's own zone"


def test_pages_need_a_launch_and_name_why(tool: Tool) -> None:
    missing = tool.client.get("/course")
    assert missing.status_code == 401
    assert "lti.launch_session_expired" in missing.get_data(as_text=True)
    unknown = tool.client.get("/course?launch=nope")
    assert unknown.status_code == 401


def test_forms_are_refused_without_the_launch_bound_token(tool: Tool) -> None:
    ana, ben = tool.launch("ana"), tool.launch("ben", name="Ben")
    no_token = tool.client.post("/timezone", data={"launch": ana, "time_zone": "UTC"})
    assert no_token.status_code == 403
    assert "app.csrf_failed" in no_token.get_data(as_text=True)
    foreign = tool.client.post(
        "/timezone", data={"launch": ana, "csrf": tool.csrf(ben), "time_zone": "UTC"}
    )
    assert foreign.status_code == 403
    no_launch = tool.client.post("/timezone", data={"time_zone": "UTC"})
    assert no_launch.status_code == 401


def test_time_zone_is_kept_and_bad_zones_are_named(tool: Tool) -> None:
    ana = tool.launch(zone=None)
    ok = tool.post("/timezone", ana, {"time_zone": "Asia/Tokyo"})
    assert ok.status_code == 302
    assert "(Asia/Tokyo)" in tool.get("/course", ana).get_data(as_text=True)
    bad = tool.post("/timezone", ana, {"time_zone": "Mars/Olympus"})
    assert bad.status_code == 400
    assert "courses.bad_time_zone" in bad.get_data(as_text=True)
    assert "Mars/Olympus" in bad.get_data(as_text=True)
    assert tool.post("/timezone", ana, {"time_zone": ""}).status_code == 400


def _relaunch(tool: Tool, sub: str, zone: str | None) -> str:
    """A new launch that goes through the tool's launch handling (course and person kept)."""
    from blendkit.integrations.flask import Blendkit
    from blendkit_examples.flask_app.launching import course_and_person

    launch_id = tool.launch(sub, zone=zone)
    with tool.app.app_context():
        course_and_person(Blendkit.state().launches.get(launch_id))
    return launch_id


def test_platform_zone_then_browser_offer_then_learner_choice(tool: Tool) -> None:
    berlin = tool.get("/course", tool.launch("ana")).get_data(as_text=True)
    assert 'id="zone-offer"' not in berlin, "no offer when the platform sent a zone"
    for zone in (None, "99", "Not/AZone"):  # nothing, Moodle's server default, garbage
        page = tool.get("/course", tool.launch("ben", zone=zone)).get_data(as_text=True)
        assert 'id="zone-offer"' in page, zone
        assert "timezone.js" in page, zone
        assert "<script>" not in page, "no inline script: the CSP allows only 'self'"
    ben = tool.launch("ben", zone=None)
    assert tool.post("/timezone/detected", ben, {"time_zone": "Asia/Kathmandu"}).status_code == 302
    page = tool.get("/course", ben).get_data(as_text=True)
    assert "(Asia/Kathmandu)" in page
    assert 'id="zone-offer"' not in page
    cleo = tool.launch("cleo", zone=None)  # Chromium reports Kolkata by its old name
    tool.post("/timezone/detected", cleo, {"time_zone": "Asia/Calcutta"})
    assert "(Asia/Kolkata)" in tool.get("/course", cleo).get_data(as_text=True)
    refused = tool.post("/timezone/detected", ben, {"time_zone": "Mars/Olympus"})
    assert refused.status_code == 400
    ben = _relaunch(tool, "ben", "99")  # Moodle's server default: the confirmed zone stays
    assert "(Asia/Kathmandu)" in tool.get("/course", ben).get_data(as_text=True)
    ben = _relaunch(tool, "ben", "Europe/Berlin")  # the platform now knows: it wins
    assert "(Europe/Berlin)" in tool.get("/course", ben).get_data(as_text=True)
    tool.post("/timezone", ben, {"time_zone": "America/St_Johns"})
    tool.post("/timezone/detected", ben, {"time_zone": "Asia/Kathmandu"})  # a stale offer
    ben = _relaunch(tool, "ben", "Asia/Tokyo")  # the learner's own choice wins over both
    assert "(America/St_Johns)" in tool.get("/course", ben).get_data(as_text=True)


def test_picker_offers_every_iana_zone_grouped_with_the_current_one_selected(tool: Tool) -> None:
    from html.parser import HTMLParser
    from zoneinfo import available_timezones

    class Picker(HTMLParser):
        def __init__(self) -> None:
            super().__init__()
            self.inside, self.group = False, ""
            self.options: list[tuple[str, str, bool]] = []

        def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
            found = dict(attrs)
            if tag == "select":
                self.inside = found.get("id") == "time_zone"
            elif tag == "optgroup" and self.inside:
                self.group = found["label"] or ""
            elif tag == "option" and self.inside:
                self.options.append((self.group, found["value"] or "", "selected" in found))

        def handle_endtag(self, tag: str) -> None:
            self.inside = self.inside and tag != "select"

    picker = Picker()
    picker.feed(tool.get("/course", tool.launch(zone="Asia/Kathmandu")).get_data(as_text=True))
    names = [name for _, name, _ in picker.options]
    assert set(names) == available_timezones() | {"UTC"}
    assert len(names) == len(set(names))
    assert [name for _, name, chosen in picker.options if chosen] == ["Asia/Kathmandu"]
    for group, name, _ in picker.options:
        assert name.startswith(group + "/") or group == "Other", (group, name)
    groups = [group for group, _, _ in picker.options]
    for group in dict.fromkeys(groups):
        inside = [n for g, n, _ in picker.options if g == group]
        assert inside == sorted(inside), f"{group} is not sorted"


def test_unknown_item_is_404(tool: Tool) -> None:
    response = tool.get("/item/nope", tool.launch())
    assert response.status_code == 404
    assert "nope" in response.get_data(as_text=True)


def test_video_progress_from_the_player_and_from_the_form(tool: Tool) -> None:
    ana = tool.launch()
    page = tool.get("/item/prework-video", ana).get_data(as_text=True)
    assert 'Watched so far: <strong id="watched">0%</strong>' in page
    partial = tool.client.post(
        "/item/prework-video/progress",
        json={"percent": 40, "position": 12.5, "length": 40},
        headers={"X-Blendkit-Launch": ana, "X-CSRF-Token": tool.csrf(ana)},
    )
    assert partial.status_code == 200
    assert partial.get_json() == {"recorded": 40.0, "unlocked": []}
    full = tool.client.post(
        "/item/prework-video/progress",
        json={"percent": 95, "position": 38, "length": 40},
        headers={"X-Blendkit-Launch": ana, "X-CSRF-Token": tool.csrf(ana)},
    )
    assert full.get_json()["unlocked"] == ["readiness-quiz"]
    assert 'Watched so far: <strong id="watched">95%</strong>' in tool.get(
        "/item/prework-video", ana
    ).get_data(as_text=True)
    for bad, needle in (({"percent": "lots"}, "number"), ({"percent": "140"}, "between 0 and 100")):
        refused = tool.post("/item/prework-video/progress", ana, bad)
        assert refused.status_code == 400
        assert needle in refused.get_data(as_text=True)
    wrong_kind = tool.post("/item/readiness-quiz/progress", ana, {"percent": "10"})
    assert wrong_kind.status_code == 400
    assert "not a video" in wrong_kind.get_data(as_text=True)


def test_quiz_locked_then_failed_then_passed_unlocks_the_live_session(tool: Tool) -> None:
    ana = tool.launch()
    locked = tool.post("/item/readiness-quiz/quiz", ana, _answers(1, 1, 0))
    assert locked.status_code == 403
    assert "courses.item_locked" in locked.get_data(as_text=True)
    tool.post("/item/prework-video/progress", ana, {"percent": "100"})
    page = tool.get("/item/readiness-quiz", ana).get_data(as_text=True)
    assert "Pass mark: <strong>60%</strong>" in page
    assert 'class="attempts-left">3<' in page

    incomplete = tool.post("/item/readiness-quiz/quiz", ana, _answers(1))
    assert incomplete.status_code == 400
    assert "unanswered" in incomplete.get_data(as_text=True)
    out_of_range = tool.post("/item/readiness-quiz/quiz", ana, _answers(1, 7, 0))
    assert "choice 7" in out_of_range.get_data(as_text=True)

    failed = tool.post("/item/readiness-quiz/quiz", ana, _answers(0, 0, 1)).get_data(as_text=True)
    assert "Not passed yet" in failed
    assert "Now open" not in failed
    passed = tool.post("/item/readiness-quiz/quiz", ana, _answers(1, 1, 0)).get_data(as_text=True)
    assert "Passed" in passed
    assert "Live session" in passed.split("Now open", 1)[1]
    course = tool.get("/course", ana).get_data(as_text=True)
    live = course.split('id="item-live-session"', 1)[1].split("</li>", 1)[0]
    assert "badge-available" in live
    attempts = tool.get("/item/readiness-quiz", ana).get_data(as_text=True)
    assert attempts.count("<td>0%</td>") == 1
    assert attempts.count("<td>100%</td>") == 1


def test_attempts_run_out(tool: Tool) -> None:
    ben = tool.launch("ben")
    tool.post("/item/prework-video/progress", ben, {"percent": "100"})
    for _ in range(3):
        assert tool.post("/item/readiness-quiz/quiz", ben, _answers(0, 0, 1)).status_code == 200
    used = tool.post("/item/readiness-quiz/quiz", ben, _answers(1, 1, 0))
    assert used.status_code == 400
    assert "courses.no_attempts_left" in used.get_data(as_text=True)
    assert "You have used every attempt" in tool.get("/item/readiness-quiz", ben).get_data(
        as_text=True
    )


def test_done_button_only_for_open_items_it_completes(tool: Tool) -> None:
    ana = tool.launch()
    quiz = tool.post("/item/readiness-quiz/done", ana)
    assert quiz.status_code == 400
    assert "not by a button" in quiz.get_data(as_text=True)
    locked = tool.post("/item/practice/done", ana)
    assert locked.status_code == 403
    assert "courses.item_locked" in locked.get_data(as_text=True)


def test_join_needs_the_session_unlocked_and_gives_a_personal_link(tool: Tool) -> None:
    teacher = tool.launch(
        "teach", roles=("http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",)
    )
    created = tool.post(
        "/teach/sessions", teacher,
        {"title": "Week 1", "date": "2031-01-06", "time": "16:00", "time_zone": "Europe/Berlin",
         "duration": "60", "item": "live-session"},
    )  # fmt: skip
    assert created.status_code == 302
    session_id = created.headers["Location"].split("/teach/sessions/", 1)[1].split("?", 1)[0]
    ana = tool.launch()
    refused = tool.post(f"/item/live-session/join/{session_id}", ana)
    assert refused.status_code == 403
    tool.post("/item/prework-video/progress", ana, {"percent": "100"})
    tool.post("/item/readiness-quiz/quiz", ana, _answers(1, 1, 0))
    page = tool.get("/item/live-session", ana).get_data(as_text=True)
    assert "Mon 06 Jan 2031, 16:00 CET (Europe/Berlin)" in page
    first = tool.post(f"/item/live-session/join/{session_id}", ana)
    assert first.status_code == 303
    assert first.headers["Location"].startswith("https://meet.example.invalid/j/")
    again = tool.post(f"/item/live-session/join/{session_id}", ana)
    assert again.headers["Location"] == first.headers["Location"]


def test_recording_of_a_session_without_item_is_refused_with_reason(tool: Tool) -> None:
    teacher = tool.launch(
        "teach", roles=("http://purl.imsglobal.org/vocab/lis/v2/membership#Instructor",)
    )
    from datetime import UTC, datetime

    from blendkit.sessions import RecordingKind

    created = tool.post(
        "/teach/sessions", teacher,
        {"title": "Extra", "date": "2031-01-07", "time": "10:00", "time_zone": "UTC",
         "duration": "30"},
    )  # fmt: skip
    session_id = created.headers["Location"].split("/teach/sessions/", 1)[1].split("?", 1)[0]
    page = tool.get(f"/teach/sessions/{session_id}", teacher).get_data(as_text=True)
    meeting = page.split("meeting <code>", 1)[1].split("<", 1)[0]
    start = datetime(2031, 1, 7, 10, tzinfo=UTC)
    tool.provider.add_recording(meeting, RecordingKind.VIDEO, start=start, duration_seconds=60)
    tool.post(f"/teach/sessions/{session_id}/import", teacher)
    rid = re.search(
        r"/teach/recordings/(\d+)/media",
        tool.get(f"/teach/sessions/{session_id}", teacher).get_data(as_text=True),
    )
    assert rid is not None
    tool.post(f"/teach/recordings/{rid.group(1)}/media", teacher,
              {"media_url": "https://media.example.edu/x.mp4", "minutes": "1"})  # fmt: skip
    refused = tool.post(
        f"/item/live-session/recording/{rid.group(1)}/segments", tool.launch(), {"segments": "[]"}
    )
    assert refused.status_code in (400, 404)
    assert refused.get_json()["error"] in ("courses.session_without_item", "store.not_found")


def test_course_path_shows_the_best_quiz_score_against_the_pass_mark(tool: Tool) -> None:
    ana = tool.launch()
    tool.post("/item/prework-video/progress", ana, {"percent": "100"})
    tool.post("/item/readiness-quiz/quiz", ana, _answers(1, 0, 1))
    page = tool.get("/course", ana).get_data(as_text=True)
    assert "Your best score: 33.33% (pass mark 60%, not passed yet)" in page


def test_course_path_lists_recordings_in_the_learner_zone(tool: Tool) -> None:
    from datetime import UTC, datetime, timedelta

    from blendkit.sessions import RecordingKind
    from tests.app.conftest import INSTRUCTOR

    teacher = tool.launch("teach", roles=(INSTRUCTOR,))
    start = datetime(2030, 5, 6, 14, 0, tzinfo=UTC)
    created = tool.post(
        "/teach/sessions", teacher,
        {"title": "Orientation", "date": "2030-05-06", "time": "14:00", "time_zone": "UTC",
         "duration": "60"},
    )  # fmt: skip
    session_id = created.headers["Location"].split("/teach/sessions/", 1)[1].split("?", 1)[0]
    page = tool.get(f"/teach/sessions/{session_id}", teacher).get_data(as_text=True)
    meeting = page.split("meeting <code>", 1)[1].split("<", 1)[0]
    tool.provider.add_recording(meeting, RecordingKind.VIDEO, start=start, duration_seconds=3000)
    tool.provider.add_recording(
        meeting, RecordingKind.CHAT, start=start + timedelta(seconds=1), duration_seconds=1
    )
    tool.post(f"/teach/sessions/{session_id}/import", teacher)
    rid = re.search(
        r"/teach/recordings/(\d+)/media",
        tool.get(f"/teach/sessions/{session_id}", teacher).get_data(as_text=True),
    )
    assert rid is not None
    hidden = tool.get("/course", tool.launch()).get_data(as_text=True)
    assert "Recordings of past sessions" not in hidden, "no file to play yet: not listed"
    tool.post(f"/teach/recordings/{rid.group(1)}/media", teacher,
              {"media_url": "https://media.example.edu/o.mp4", "minutes": "50"})  # fmt: skip
    course = tool.get("/course", tool.launch()).get_data(as_text=True)
    listed = course.split("Recordings of past sessions", 1)[1]
    assert "Orientation, Mon 06 May 2030, 16:00 CEST (Europe/Berlin) (50 min)" in listed
    assert listed.count("<li>") == 1, "chat logs are not listed as recordings"


def _form_key(page: str) -> str:
    found = re.search(r'name="idempotency_key" value="([A-Za-z0-9_-]+)"', page)
    assert found, "every state-changing learner form carries a fresh idempotency key"
    return found.group(1)


def test_a_quiz_form_sent_again_after_a_lost_answer_gets_the_first_result(tool: Tool) -> None:
    ana = tool.launch()
    tool.post("/item/prework-video/progress", ana, {"percent": "100"})
    page = tool.get("/item/readiness-quiz", ana).get_data(as_text=True)
    key = _form_key(page)
    assert _form_key(tool.get("/item/readiness-quiz", ana).get_data(as_text=True)) != key
    form = {**_answers(0, 0, 1), "idempotency_key": key}
    first = tool.post("/item/readiness-quiz/quiz", ana, form)
    # the answer to the first POST was lost on the way: the browser sends the form again
    again = tool.post("/item/readiness-quiz/quiz", ana, form)
    assert again.status_code == first.status_code == 200
    assert again.get_data(as_text=True) == first.get_data(as_text=True)
    assert "(2 attempts left)" in again.get_data(as_text=True)
    item = tool.get("/item/readiness-quiz", ana).get_data(as_text=True)
    assert 'class="attempts-left">2<' in item
    other = tool.post(
        "/item/readiness-quiz/quiz", ana, {**_answers(1, 1, 0), "idempotency_key": key}
    )
    assert other.status_code == 409
    assert "courses.idempotency_key_reused" in other.get_data(as_text=True)


def _evidence_rows(tool: Tool) -> int:
    with tool.store.transaction() as s:
        return int(s.execute(select(func.count()).select_from(course_evidence)).scalar_one())


def test_every_state_changing_learner_form_is_recorded_once_per_key(tool: Tool) -> None:
    ana = tool.launch()
    video = tool.get("/item/prework-video", ana).get_data(as_text=True)
    rows = _evidence_rows(tool)
    form = {"percent": "40", "idempotency_key": _form_key(video)}
    for _ in range(2):
        assert tool.post("/item/prework-video/progress", ana, form).status_code == 302
    assert _evidence_rows(tool) == rows + 1
    other = tool.post("/item/prework-video/progress", ana, {**form, "percent": "50"})
    assert other.status_code == 409
    assert _evidence_rows(tool) == rows + 1
    plain = {"percent": "60"}  # a form without a key still works: it is simply not idempotent
    for _ in range(2):
        assert tool.post("/item/prework-video/progress", ana, plain).status_code == 302
    assert _evidence_rows(tool) == rows + 3


def test_course_page_lists_milestones_with_dates_status_and_counts_in_words(tool: Tool) -> None:
    ana = tool.launch()
    before = tool.get("/course", ana).get_data(as_text=True)
    ready = before.split('id="milestone-ready-for-class"', 1)[1].split("</li>", 1)[0]
    assert "Ready for class" in ready
    assert "On track" in ready
    assert "0 of 2 items completed (0%)" in ready
    assert '<progress id="milestone-ready-for-class-p" max="2" value="0"' in ready
    assert "(Europe/Berlin)" in ready, "the date in the learner's own zone"
    tool.post("/item/prework-video/progress", ana, {"percent": "100"})
    tool.post("/item/readiness-quiz/quiz", ana, _answers(1, 1, 0))
    after = tool.get("/course", ana).get_data(as_text=True)
    ready = after.split('id="milestone-ready-for-class"', 1)[1].split("</li>", 1)[0]
    assert "Done" in ready
    assert "2 of 2 items completed (100%)" in ready
