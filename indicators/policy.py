"""Who gets exact figures, and who works on a plan: the one place these are decided.

Figures are exact only for the owning organisation's holders of
`indicators.view_exact_figures`: for ad-hoc metric pages, the scope's organisation, or the
prefectural centre for region- and prefecture-wide figures; a plan's owner, for the scopes
its plan and indicators count over that are theirs by that rule.
Everyone else reads the stored publications (indicators.disclosure). The selectors and
services ask here; the screens and the API only render what they are given.
"""

from __future__ import annotations

from accounts.models import Organisation, User

from . import metrics
from .models import Indicator, Plan


def owns(user: User, plan: Plan) -> bool:
    """`user` belongs to the organisation that owns `plan`."""
    return user.organisation_id is not None and user.organisation_id == plan.organisation_id


def exact_for_plan(user: User, plan: Plan) -> bool:
    """Whether `user` sees `plan`'s figures exact (else small cells are hidden): the
    owner's holders of the permission, and only if every scope the plan counts over —
    the plan's own and each counted indicator's — is one they get exact
    (`exact_for_scope`); owning a plan gives no exact figures of other organisations.
    One query, for the indicators' scopes, once the other checks pass."""
    if not (user.has_perm("indicators.view_exact_figures") and owns(user, plan)):
        return False
    if not exact_for_scope(user, plan.scope):
        return False
    counted = (
        Indicator.objects.of_plan(plan)
        .exclude(metric="")
        .exclude(organisation__isnull=True)
        .values_list("organisation_id", flat=True)
        .distinct()
    )
    # An indicator without its own organisation counts over the plan's scope (checked).
    return all(
        exact_for_scope(user, metrics.Scope(metrics.Scope.ORGANISATION, organisation_id=pk))
        for pk in counted
    )


def exact_for_scope(user: User, scope: metrics.Scope) -> bool:
    """Own organisation's figures; region- and prefecture-wide figures belong to the
    prefectural centre."""
    if not user.has_perm("indicators.view_exact_figures") or user.organisation is None:
        return False
    if scope.kind == metrics.Scope.ORGANISATION:
        return scope.organisation_id == user.organisation_id
    return user.organisation.kind == Organisation.Kind.PREFECTURE_CENTRE


def may_submit(user: User, plan: Plan) -> bool:
    """Whether `user` may submit (freeze) `plan`'s report."""
    return user.has_perm("indicators.submit_report") and owns(user, plan)


def may_assess(user: User, plan: Plan) -> bool:
    """Whether `user` enters `plan`'s yearly targets, figures and assessments."""
    return owns(user, plan) and user.has_perm("indicators.change_assessment")
