"""Casework's extension points (casework/signals.py): every hook is answered by the apps
that used to answer it through AppConfig attributes, in the order of INSTALLED_APPS (the
dashboard's panels and a case history's entries of equal time keep their order), and no
AppConfig carries a hook or a query any more."""

from __future__ import annotations

import inspect

import pytest
from django.apps import apps
from django.dispatch import Signal
from django.utils import timezone

from casework import signals
from tests.factories import make_case

pytestmark = pytest.mark.django_db


def answering_apps(signal: Signal, **arguments) -> list[str]:
    return [receiver.__module__ for receiver, _ in signal.send(sender=None, **arguments)]


def test_each_hook_is_answered_by_its_apps_in_installed_apps_order(world):
    case = make_case(world.centre)
    user = world.supervisor
    every = ["outreach.receivers", "meetings.receivers", "referrals.receivers"]
    assert answering_apps(signals.dashboard_panel, user=user) == every
    assert answering_apps(signals.case_timeline_entries, case=case, viewer=user) == every
    now = timezone.now()
    assert (
        answering_apps(signals.work_queue_items, user=user, today=timezone.localdate(), now=now)
        == every
    )
    assert answering_apps(signals.referral_scope_cases, user=user) == ["referrals.receivers"]
    assert answering_apps(
        signals.referral_unanswered_since, organisation_id=case.organisation_id
    ) == ["referrals.receivers"]
    assert answering_apps(signals.case_meeting_decisions, case=case) == ["meetings.receivers"]
    assert answering_apps(signals.case_ended, case=case, reason="closed") == ["meetings.receivers"]
    installed = [config.name for config in apps.get_app_configs()]
    assert every == sorted(every, key=lambda module: installed.index(module.split(".")[0]))


def test_no_app_config_carries_a_hook_or_a_query():
    hooks = {name for name, value in vars(signals).items() if isinstance(value, Signal)}
    assert hooks == {
        "case_ended",
        "case_timeline_entries",
        "dashboard_panel",
        "work_queue_items",
        "referral_scope_cases",
        "referral_unanswered_since",
        "case_meeting_decisions",
    }
    for config in apps.get_app_configs():
        assert not (hooks | {"seed_demo"}) & set(vars(type(config))), config.name
        if "site-packages" not in config.path:  # the project's own apps
            source = inspect.getsource(type(config))
            assert ".objects" not in source and "selectors" not in source, config.name
