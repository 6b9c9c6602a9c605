"""Extension points of casework and the apps built on it: every hook, in one place.

Casework must not import the apps built on it (outreach, meetings, referrals), and those
three must not import each other; yet each has something to add to the others' pages or
rules. Each such place is a hook declared here, at the lowest layer all its senders and
receivers reach, with a docstring naming its arguments and what a receiver returns
(pretix's `pretix/base/signals.py` is the model). The one hook below casework,
`accounts.signals.credentials_changed`, is declared in accounts and listed there.

Each hook is a `django.dispatch.Signal`, chosen over a registry of our own because every
Django reader knows it (connection, `dispatch_uid`, `send`), it needs no code here, and
receivers are found by import rather than by attribute names on AppConfigs. Rules:

- Receivers live in `<app>/receivers.py`, connected with `@receiver(..., dispatch_uid=...)`
  and imported by the app's `AppConfig.ready()`; `apps.py` holds no query and no hook.
- Receivers run in the order they connected, which is the order of INSTALLED_APPS (each
  app's `ready()` imports its receivers in turn): panels on the dashboard and entries of
  equal time on a case's history appear in that order (`tests/casework/
  test_extension_points.py` keeps it).
- Every hook is sent with `sender=None` and keyword arguments; receivers take
  `(sender, **kwargs)` and name the arguments they use.
- Senders call `send`, not `send_robust`: a receiver's exception reaches the sender, so
  a failing receiver fails the request (and rolls back the sender's transaction) as any
  other bug would.
"""

from django.dispatch import Signal

case_ended = Signal()
"""A case's work at its organisation ended: it closed, was merged away or was
transferred. Receivers end what must not outlive that (meetings: open agenda reviews and,
with them, the MDT grants). Sent by `casework.services.notify_case_ended` inside the
transaction that ended the case, so a receiver's writes commit or roll back with it.

Arguments: `case` (the Case, saved in its new state), `reason` ("closed", "merged" or
"transferred"). Receivers return nothing.
"""

case_timeline_entries = Signal()
"""Events another app adds to a case's history (`casework.selectors.case_timeline`), for
the case page and its printed record. Not sent for a viewer who reaches the case only by
transfer read-back (they see only what their own organisation wrote).

Arguments: `case` (the Case), `viewer` (the User looking, or None for no one in
particular); a receiver shows `viewer` only what their access to the case allows
(meetings: decisions and actions need Capability.MINUTES).
Returns: a list of `casework.selectors.TimelineEntry`, or of (when, text) pairs shown as
plain events; casework sorts all entries by time, newest first. An entry naming one of
the case's contacts (`TimelineEntry.contact`, outreach: the visit that logged it) is shown
inside that contact's entry.
"""

dashboard_panel = Signal()
"""A panel another app adds to the user's dashboard (`casework.views.dashboard`).

Arguments: `user` (the signed-in User).
Returns: (template name, context dict) for the panel, or None for no panel (a user
without the app's permission gets none).
"""

work_queue_items = Signal()
"""Items another app adds to the user's work queue (`casework.work_queue.work_queue`: the
dashboard, the queue page and the daily digest).

Arguments: `user` (the User whose queue it is), `today` (the local date) and `now` (the
time) the queue is read at. A receiver takes its items only from querysets `user` may
see (meetings: the user's open actions on cases whose minutes they may read; outreach:
the user's visits of visible cases; referrals: the organisation's inbox), and returns
none to a user without its app's permission.
Returns: a list of `casework.work_queue.WorkItem`, due today or earlier.
"""

referral_scope_cases = Signal()
"""The cases a user's organisation reaches through the consented referral grants it
holds, for case conferences about referred cases (`meetings.selectors.referral_scope`,
which leaves out restricted cases). Received by referrals.

Arguments: `user` (the User whose organisation holds the grants).
Returns: a QuerySet of Case (the union of all receivers' is the scope).
"""

referral_unanswered_since = Signal()
"""When the oldest referral of a case from one organisation still awaiting the receiver's
answer was sent, for the MDT meeting pack's weighting (`meetings.selectors.build_pack`).
Received by referrals; with no receiver the pack treats every case as having none.

Arguments: `organisation_id` (the id of the sending Organisation).
Returns: a subquery (a QuerySet of one `sent_at` column, filtered by
`OuterRef("pk")` of an outer Case query); the first receiver's answer is used.
"""

case_meeting_decisions = Signal()
"""The decisions of held meetings the case's keeper hosted, newest first, for a consented
referral share of meeting decisions (`referrals.selectors.shared_view`). Received by
meetings. A conference another organisation hosted about the case (a municipality's, on
a referral) is that organisation's to share, not the keeper's: it is left out.

Arguments: `case` (the Case being shared).
Returns: a list of dicts with `held_at` (datetime), `kind` (the meeting kind's label),
`decisions` (text) and `item` (the agenda item's id as a string, named in the share's
audit event); an item that decided nothing is left out.
"""
