"""Two edits from the same version: the second is refused with who and when; nothing lost."""

from __future__ import annotations

import threading

import pytest
from django.db import connections
from django.urls import reverse

from casework import services
from casework.models import Case

pytestmark = pytest.mark.django_db


def test_a_stale_save_is_refused_and_names_who_changed_it(world):
    case = services.open_case(world.counsellor, identity={"name": "楽観 試験"})
    seen = case.version
    services.update_case(
        world.colleague, case, expected_version=seen, changes={"summary": "先の編集"}
    )
    with pytest.raises(services.StaleEdit) as stale:
        services.update_case(
            world.counsellor, case, expected_version=seen, changes={"summary": "後の編集"}
        )
    assert f"他の職員によって更新されました（{world.colleague.username}、" in stale.value.message
    assert Case.objects.get(pk=case.pk).summary == "先の編集"


def test_the_edit_screen_shows_the_conflict_and_keeps_the_first_edit(client, world):
    case = services.open_case(world.counsellor, identity={"name": "画面 試験"})
    form = {
        "status": "active",
        "withdrawal_band": "unknown",
        "summary": "",
        "version": case.version,
    }
    client.force_login(world.colleague)
    url = reverse("casework:case_edit", kwargs={"code": case.code})
    assert client.post(url, {**form, "summary": "一人目"}).status_code == 302
    client.force_login(world.counsellor)
    response = client.post(url, {**form, "summary": "二人目"})
    assert response.status_code == 200
    assert "他の職員によって更新されました" in response.content.decode()
    assert Case.objects.get(pk=case.pk).summary == "一人目"


@pytest.mark.postgres
def test_two_connections_saving_the_same_version_lose_nothing(transactional_db, world):
    case = services.open_case(world.counsellor, identity={"name": "同時 編集"})
    seen = case.version
    barrier = threading.Barrier(2)
    outcomes: dict[str, str] = {}

    def edit(user, text):
        try:
            barrier.wait()
            services.update_case(
                user, Case.objects.get(pk=case.pk), expected_version=seen, changes={"summary": text}
            )
            outcomes[text] = "saved"
        except services.StaleEdit:
            outcomes[text] = "refused"
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=edit, args=(user, text))
        for user, text in ((world.counsellor, "A"), (world.colleague, "B"))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert sorted(outcomes.values()) == ["refused", "saved"]
    winner = next(text for text, outcome in outcomes.items() if outcome == "saved")
    final = Case.objects.get(pk=case.pk)
    assert final.summary == winner and final.version == seen + 1
