"""The access matrix: what every view needs, in one place.

Keys are URL names as `request.resolver_match.view_name` gives them; `namespace:*` covers a
namespace. A view missing here is refused to everybody (accounts.access.AccessMiddleware),
and tests/security/test_access_matrix.py fails until it is added. Object rules are enforced
by the selectors and services the views call; they are named here for the reader.
"""

from accounts.access import AUTHENTICATED, PUBLIC, Rule, needs

VISIBLE = "case among casework.selectors.visible_cases"
OWN_REFERRALS = "sent by or (once sent) to the own organisation"
OWN_PROGRAMMES = "organised by the own organisation"
OWN_MEETINGS = "hosted by the own organisation"
SEEN_MEETINGS = OWN_MEETINGS + "; all to manage (change_meeting), else only those attended"
CASE_WRITABLE = "case among visible_cases(user, capability=Capability.WRITE)"
# A case conference may also take a case in the host's referral scope: its agenda and
# that item's minutes only (meetings.selectors.by_referral).
REFERRED = "or, at a case conference, in the own referral scope"
MINUTES = (
    OWN_MEETINGS + "; case among visible_cases(user, capability=Capability.MINUTES) " + REFERRED
)
OWN_PLANS = "plans of the own organisation"
SUPPRESSED_OUTSIDE = "exact figures only for the owning organisation; suppressed otherwise"
OWN_UPLOAD = "an upload of the user's own, waiting between steps"
# Aggregate statistics: the report screens and their API.
STATISTICS = "accounts.view_statistics"

MATRIX: dict[str, Rule] = {
    # Sign-in and language: reachable before login.
    "accounts:login": PUBLIC,
    "set_language": PUBLIC,
    "health": PUBLIC,
    # Any signed-in staff member.
    "accounts:logout": AUTHENTICATED,
    "accounts:password_change": AUTHENTICATED,
    "accounts:password_change_done": AUTHENTICATED,
    # The user's own settings (the daily work-queue digest); nobody else's.
    "accounts:preferences": AUTHENTICATED,
    "home": AUTHENTICATED,
    # The idle-timeout warning: how long the own session has left, and extending it.
    "accounts:session_status": AUTHENTICATED,
    "accounts:session_extend": AUTHENTICATED,
    # The second factor: enrolment and verification (accounts.two_factor).
    "accounts:two_factor_setup": AUTHENTICATED,
    "accounts:two_factor_verify": AUTHENTICATED,
    "accounts:reauthenticate": AUTHENTICATED,
    # Lifting a login lockout: supervisors for their own staff, administrators for all.
    "accounts:lockouts": needs("accounts.unlock_user", object_rule="own staff, or all for admins"),
    "accounts:unlock": needs("accounts.unlock_user", object_rule="own staff, or all for admins"),
    # Second-person approvals (accounts.approvals): each user sees the requests they may
    # decide (supervisors: their organisation's staff; administrators: privileged changes
    # asked by another administrator) and the requests they made; others an empty page.
    # Deciding: only a request the user may decide, else 404; POST only.
    "accounts:approvals": Rule(object_rule="requests the user may decide or made"),
    "accounts:approval_decide": Rule(
        object_rule="accounts.approvals.may_decide; step-up for privileged changes"
    ),
    # Casework. Which case: selectors.visible_cases (own organisation by role, restricted
    # cases only for lead workers and supervisors, plus object grants); others get 404.
    # Drafts of record forms: only the author's own, only for a form whose own rule and
    # object check (its view's case_of) admit the user (casework.drafts).
    "casework:draft_save": Rule(object_rule="the form's own rule and case (casework.drafts)"),
    "casework:draft_discard": Rule(object_rule="the author's own draft"),
    "casework:case_list": needs("casework.view_case", object_rule=VISIBLE),
    # The work queue (casework.work_queue): items only from what the user may see (own
    # follow-ups on visible contacts, own cases among the visible ones, own actions on
    # cases whose minutes they read, own visits of visible cases, the own organisation's
    # referral inbox); roles that may not view cases have none.
    "casework:work_queue": needs(
        "casework.view_case", object_rule=VISIBLE + ", and the user's own items on them"
    ),
    "casework:case_detail": needs("casework.view_case", object_rule=VISIBLE),
    # Finding a case by name, phone or birth date: identity, so only for those who may
    # reveal it; the results are visible cases only (casework.search).
    "casework:case_search": needs(
        "casework.view_case", "casework.reveal_identity", object_rule=VISIBLE
    ),
    "casework:case_new": needs("casework.add_case", "casework.add_client"),
    "casework:case_edit": needs("casework.change_case", object_rule=VISIBLE),
    "casework:case_close": needs("casework.change_case", object_rule=VISIBLE),
    "casework:case_merge": needs(
        "casework.change_case", "casework.supervise_case", object_rule=VISIBLE
    ),
    "casework:identity_reveal": needs("casework.reveal_identity", object_rule=VISIBLE),
    "casework:identity_edit": needs(
        "casework.change_client", "casework.reveal_identity", object_rule=VISIBLE
    ),
    "casework:contact_new": needs(
        "casework.add_contact", object_rule="case code among visible cases"
    ),
    "casework:follow_up_done": needs("casework.change_contact", object_rule="visible contacts"),
    # Corrections: the author within CONTACT_CORRECTION_DAYS, supervisors any time
    # (casework.services.may_correct); linking an anonymous contact to a visible case.
    "casework:contact_correct": needs(
        "casework.change_contact", object_rule="visible contacts; services.may_correct"
    ),
    "casework:contact_link": needs(
        "casework.change_contact", object_rule="visible anonymous contacts, visible case"
    ),
    # Undoing a link made in error: those who may correct the contact, a linked one only.
    "casework:contact_unlink": needs(
        "casework.change_contact", object_rule="services.may_correct; services.was_linked"
    ),
    # From the case: the organisation's recent anonymous contacts, to link one to it.
    "casework:case_link_anonymous": needs("casework.change_contact", object_rule=CASE_WRITABLE),
    "casework:milestone_new": needs("casework.add_milestone", object_rule=VISIBLE),
    # Exports: pseudonymous for the staff who keep cases; with identity only for
    # supervisors, on a stated purpose and a recent password (casework.exports).
    "casework:case_export": needs("casework.export_records", object_rule=VISIBLE),
    "casework:contact_export": needs("casework.export_records", object_rule="visible contacts"),
    # The printable case record: an export of one case (pseudonymous, with its text and
    # meeting decisions) for the staff who reach it with Capability.EXPORT.
    "casework:case_print": needs(
        "casework.export_records",
        object_rule="case among visible_cases(user, capability=Capability.EXPORT)",
    ),
    "casework:identity_export": needs(
        "casework.export_records", "casework.export_identity", object_rule=VISIBLE
    ),
    # Break-glass: any case by code on a stated reason, for a limited time, audited; the
    # supervisors of the case's or the user's organisation review it.
    "casework:break_glass": needs("casework.break_glass", object_rule="any case, on a reason"),
    "casework:break_glass_review": needs(
        "casework.supervise_case", object_rule="accesses to or by the own organisation"
    ),
    # Outreach. Visits of visible cases only; programmes of the own organisation only.
    "outreach:schedule": needs("outreach.view_visit", object_rule="visits of visible cases"),
    "outreach:visit_new": needs("outreach.add_visit", object_rule=VISIBLE),
    "outreach:visit_detail": needs("outreach.view_visit", object_rule="visits of visible cases"),
    "outreach:visit_start": needs("outreach.change_visit", object_rule="visits of visible cases"),
    "outreach:visit_checkin": needs("outreach.change_visit", object_rule="a worker of the visit"),
    "outreach:visit_cancel": needs("outreach.change_visit", object_rule="visits of visible cases"),
    "outreach:programme_list": needs("outreach.view_programme", object_rule=OWN_PROGRAMMES),
    "outreach:programme_detail": needs("outreach.add_session", object_rule=OWN_PROGRAMMES),
    "outreach:attendance": needs("outreach.add_attendance", object_rule=OWN_PROGRAMMES),
    # Meetings of the own organisation (host), through meetings.selectors.meeting_for:
    # staff who run meetings (change_meeting) see and manage all of them; the others (an
    # MDT member) see read-only only those they attend, with the agenda cases they reach;
    # any other meeting is a 404. The pack shows the host's cases among the viewer's
    # visible cases. Minutes and actions follow the case (meetings.selectors):
    # Capability.MINUTES on it (owner kinds, or an attending MDT member's open agenda grant);
    # writing them also needs an attendee of the meeting or a supervisor of the host.
    "meetings:list": needs("meetings.view_meeting", object_rule=SEEN_MEETINGS),
    "meetings:new": needs("meetings.add_meeting"),
    "meetings:detail": needs("meetings.view_meeting", object_rule=SEEN_MEETINGS),
    "meetings:print": needs("meetings.change_meeting", object_rule=OWN_MEETINGS),
    "meetings:agenda_add": needs(
        "meetings.change_meeting",
        object_rule=OWN_MEETINGS + "; " + CASE_WRITABLE + " " + REFERRED + ", open, not restricted",
    ),
    "meetings:agenda_drop": needs(
        "meetings.change_meeting", object_rule=OWN_MEETINGS + "; " + CASE_WRITABLE + " " + REFERRED
    ),
    "meetings:attendees": needs("meetings.change_meeting", object_rule=OWN_MEETINGS),
    "meetings:external_add": needs("meetings.change_meeting", object_rule=OWN_MEETINGS),
    # Residents not in the system discussed at a case conference: a count, on or after
    # its date; it marks the conference held.
    "meetings:unregistered_cases": needs("meetings.change_meeting", object_rule=OWN_MEETINGS),
    "meetings:minutes": needs("meetings.change_agendaitem", object_rule=MINUTES),
    "meetings:action_done": needs(
        "meetings.view_meeting", object_rule="assignee or host supervisor; " + MINUTES
    ),
    # Referrals. Sender side: referrals of the own organisation; receiver side: sent to
    # it. The shared view needs the object grant given on acceptance (guardian, org group).
    "referrals:lists": needs("referrals.view_referral", object_rule=OWN_REFERRALS),
    "referrals:detail": needs("referrals.view_referral", object_rule=OWN_REFERRALS),
    "referrals:new": needs("referrals.add_referral", object_rule=VISIBLE),
    "referrals:move": needs("referrals.change_referral", object_rule=OWN_REFERRALS + "; side"),
    "referrals:consent_withdraw": needs("referrals.change_referral", object_rule="sender only"),
    "referrals:shared": needs(
        "referrals.view_referral", object_rule="object grant referrals.view_shared_case"
    ),
    "referrals:transfer": needs(
        "referrals.add_referral", "casework.supervise_case", object_rule=VISIBLE
    ),
    "referrals:transfer_end_access": needs(
        "casework.supervise_case", object_rule="transfer from or to the own organisation"
    ),
    # Indicators: reports are aggregates, for holders of accounts.view_statistics
    # (supervisors, statistics viewers; not administrators, who keep the plans in the
    # admin with indicators.*_plan). Everyone allowed sees every plan, with small
    # cells hidden unless they belong to the owning organisation and hold
    # indicators.view_exact_figures (indicators.policy.exact_for_plan / exact_for_scope).
    "indicators:plans": needs(STATISTICS),
    "indicators:progress": needs(STATISTICS, object_rule=SUPPRESSED_OUTSIDE),
    "indicators:progress_export": needs(STATISTICS, object_rule=SUPPRESSED_OUTSIDE),
    "indicators:progress_print": needs(STATISTICS, object_rule=SUPPRESSED_OUTSIDE),
    "indicators:sheet": needs(STATISTICS, object_rule=SUPPRESSED_OUTSIDE),
    "indicators:snapshot": needs(STATISTICS, object_rule=SUPPRESSED_OUTSIDE),
    "indicators:metric": needs(STATISTICS, object_rule=SUPPRESSED_OUTSIDE),
    "indicators:metric_export": needs(STATISTICS, object_rule=SUPPRESSED_OUTSIDE),
    "indicators:submit": needs("indicators.submit_report", object_rule=OWN_PLANS),
    "indicators:indicator_edit": needs(
        STATISTICS, "indicators.change_assessment", object_rule=OWN_PLANS
    ),
    # The REST API (api/): the same permissions as the matching screens, the same
    # selectors and services behind them. Tokens act as their user (api.authentication).
    "api:schema": AUTHENTICATED,
    "api:metric_list": needs(STATISTICS),
    "api:metric_detail": needs(STATISTICS, object_rule=SUPPRESSED_OUTSIDE),
    "api:plan_list": needs(STATISTICS),
    "api:plan_progress": needs(STATISTICS, object_rule=SUPPRESSED_OUTSIDE),
    "api:referral_inbox": needs("referrals.view_referral", object_rule=OWN_REFERRALS),
    "api:referral_outbox": needs("referrals.view_referral", object_rule=OWN_REFERRALS),
    "api:referral_detail": needs("referrals.view_referral", object_rule=OWN_REFERRALS),
    "api:referral_transition": needs(
        "referrals.change_referral", object_rule=OWN_REFERRALS + "; side"
    ),
    "api:contact_create": needs(
        "casework.add_contact", object_rule="case code among visible cases"
    ),
    # Each user's own API tokens; making one needs a recent password (accounts.reauth).
    "api_tokens:list": needs("api.add_apitoken", object_rule="own tokens"),
    "api_tokens:create": needs("api.add_apitoken"),
    "api_tokens:revoke": needs("api.add_apitoken", object_rule="own tokens"),
    # Imports from spreadsheets: supervisors, into their own organisation. The services
    # also require the casework add permissions of the kind imported.
    "imports:upload": needs("imports.run_import"),
    "imports:mapping": needs("imports.run_import", object_rule=OWN_UPLOAD),
    "imports:review": needs("imports.run_import", object_rule=OWN_UPLOAD),
    "imports:cancel": needs("imports.run_import", object_rule=OWN_UPLOAD),
    "imports:done": needs("imports.run_import", object_rule="imports of the own organisation"),
    # Auditors: the event browser, its audited export, and chain verification.
    "audit:browser": needs("audit.view_event"),
    "audit:export": needs("audit.view_event"),
    "audit:verify": needs("audit.view_event", "audit.verify_chain"),
    # Supervisors: who opened or revealed their organisation's cases, with flags.
    "casework:access_review": needs("audit.review_access", object_rule="own organisation's staff"),
    # Django admin: system administrators manage users and master data. No casework model
    # is registered there, so the admin never shows case content.
    "admin:*": needs("accounts.change_user"),
}
