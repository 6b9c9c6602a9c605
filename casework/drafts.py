"""Drafts: what someone types into a record's form, kept on the server as they type.

A form that keeps drafts is a view decorated with `keeps_draft(case_of=...)`; its page
posts the form's fields to `casework:draft_save` a second after each keystroke (htmx), and
shows them again (`restore`) when its author opens the same page later: after the idle
timeout and a new sign-in, after a language switch, after a closed tab. A successful save
of the form (its POST answered with a redirect) discards the draft.

The checks live here, not in the endpoint: a draft is kept only for a view that says it
keeps drafts, only for a user that view's access rule admits, and only for the case that
view's own object check (`case_of`) lets the user write to. A draft is encrypted like the
record it will become (`casework.models.Draft`), read back only by its author, ignored
after DRAFT_RETENTION_HOURS and deleted by `manage.py purge_expired`.
"""

from __future__ import annotations

import datetime
import json
from collections.abc import Callable
from dataclasses import dataclass
from functools import wraps
from typing import Any
from urllib.parse import urlencode, urlsplit

from django import forms
from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.urls import Resolver404, ResolverMatch, resolve
from django.utils import timezone
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _

from accounts.access import rule_for, signed_in
from accounts.models import User
from audit.models import Action
from audit.services import record

from . import crypto
from .access import Capability
from .fields import Erased
from .models import Case, DataKey, Draft
from .periods import fiscal_year
from .selectors import require_visible

# The hidden field naming the form's page; with the CSRF token, never part of a draft.
PATH_FIELD = "_draft_path"
_NOT_TYPED = frozenset({PATH_FIELD, "csrfmiddlewaretoken"})
PATH_MAX = 300  # Draft.path's max_length


# A draftable view's object check, called with the user, the page's query, what was
# typed (the posted fields when a draft is saved, None when one is restored) and the
# URL's arguments: the case its form writes to (None: no case yet), or Http404 /
# PermissionDenied as the view itself would answer.
CaseOf = Callable[..., Case | None]


def no_case(user: User, query: QueryDict, typed: QueryDict | None, **kwargs: Any) -> None:
    return None


@dataclass(frozen=True)
class Draftable:
    case_of: CaseOf
    # The query parameters the view reads: a draft is kept for the page they name, and any
    # other parameter names the same page (one draft, not one per made-up address).
    query: tuple[str, ...] = ()


def keeps_draft(case_of: CaseOf, *, query: tuple[str, ...] = ()) -> Callable:
    """Mark a view whose form keeps a draft; discard the draft once a POST succeeds."""
    draftable = Draftable(case_of, query)

    def decorate(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            response = view(request, *args, **kwargs)
            if request.method == "POST" and response.status_code == 302:
                Draft.objects.filter(
                    user=signed_in(request), path=_page(request.path, request.GET, draftable)
                ).delete()
            return response

        wrapper.draftable = draftable  # type: ignore[attr-defined]
        return wrapper

    return decorate


def _page(path: str, query: QueryDict, draftable: Draftable) -> str:
    """The page a draft belongs to: the path and the parameters its view reads."""
    kept = [(name, query[name]) for name in draftable.query if query.get(name)]
    return path + ("?" + urlencode(kept) if kept else "")


def retention() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.DRAFT_RETENTION_HOURS)


def _resolve(path: str) -> tuple[ResolverMatch, Draftable, QueryDict]:
    """The draftable view of a page of this site, or ValidationError (400)."""
    not_ours = _("下書きを保存できるのはこのシステムの入力画面だけです。")
    parts = urlsplit(path)
    if parts.scheme or parts.netloc or not parts.path.startswith("/") or len(path) > PATH_MAX:
        raise ValidationError(not_ours)
    try:
        match = resolve(parts.path)
    except Resolver404:
        raise ValidationError(not_ours) from None
    draftable = getattr(match.func, "draftable", None)
    if draftable is None:
        raise ValidationError(_("この画面は下書きを保存しません。"))
    query = QueryDict(parts.query)
    if any("\x00" in item for pair in query.lists() for item in [pair[0], *pair[1]]):
        raise ValidationError(_("入力に使えない文字（NUL）が含まれています。"))
    return match, draftable, query


def _target(user: User, path: str, typed: QueryDict | None) -> tuple[str, Case | None]:
    """The page a draft of the form at `path` belongs to and its case, after that form's
    own checks: its access-matrix rule (a refusal is audited as the middleware does) and
    its object check."""
    match, draftable, query = _resolve(path)
    rule = rule_for(match.view_name)
    if rule is None or not rule.allows(user):
        record(
            Action.PERMISSION_DENIED,
            object_type="view",
            object_ref=match.view_name[:100],
            detail={"path": urlsplit(path).path[:300], "method": "DRAFT", "reason": "draft"},
        )
        raise PermissionDenied
    case = draftable.case_of(user, query, typed, **match.kwargs)
    return _page(urlsplit(path).path, query, draftable), case


def _data_key(user: User, case: Case | None) -> DataKey:
    if case is not None:
        return case.data_key
    if user.organisation_id is None:
        raise PermissionDenied
    return DataKey.for_organisation_year(user.organisation_id, fiscal_year(timezone.localdate()))


def save(user: User, path: str, data: QueryDict) -> Draft:
    """Keep what was typed into the form at `path` (its fields as the browser posts them).

    Raises ValidationError (not a form of this system, too long), Http404 or
    PermissionDenied (the form's own checks), and changes nothing then."""
    path, case = _target(user, path, data)
    typed = {name: data.getlist(name) for name in data if name not in _NOT_TYPED}
    payload = json.dumps(typed, ensure_ascii=False)
    if len(payload.encode()) > settings.DRAFT_MAX_BYTES:
        raise ValidationError(_("下書きが長すぎるため保存できませんでした。"))
    data_key = _data_key(user, case)
    now = timezone.now()
    with transaction.atomic():
        draft = Draft.objects.select_for_update().filter(user=user, path=path).first()
        if draft is None:
            draft = Draft(user=user, path=path)
        elif draft.data_key_id != data_key.pk:
            # Never leave new text under a key the form no longer belongs to.
            draft.delete()
            draft = Draft(user=user, path=path)
        draft.case, draft.data_key, draft.payload, draft.saved_at = case, data_key, payload, now
        try:
            with transaction.atomic():
                draft.save()
        except IntegrityError:  # the same person's other tab made it first
            Draft.objects.filter(user=user, path=path).delete()
            draft.save(force_insert=True)
        # A person types into a few forms at once, not hundreds: the oldest go.
        older = Draft.objects.filter(user=user).order_by("-saved_at").values("pk")
        Draft.objects.filter(pk__in=older[settings.DRAFT_MAX_PER_USER :]).delete()
    return draft


def _live(user: User, path: str):
    return Draft.objects.filter(user=user, path=path, saved_at__gte=timezone.now() - retention())


def restore(request: HttpRequest, form: forms.BaseForm) -> Draft | None:
    """Put the author's draft of this page into an unbound form's initial values.

    Called by the view after its own checks; returns the draft restored (the page says
    so and offers to discard it), or None."""
    if form.is_bound:
        return None
    user = signed_in(request)
    match = request.resolver_match
    draftable = getattr(match.func, "draftable", None) if match else None
    if match is None or draftable is None:
        return None
    draft = _live(user, _page(request.path, request.GET, draftable)).first()
    if draft is None:
        return None
    try:  # the user may have lost the case since (a transfer, a restriction)
        draftable.case_of(user, request.GET, None, **match.kwargs)
        if draft.case_id is not None:
            require_visible(user, draft.case, capability=Capability.WRITE)
    except (Http404, PermissionDenied):
        draft.delete()
        return None
    try:
        text = draft.payload
        typed = json.loads(text) if not isinstance(text, Erased) else None
    except (crypto.EncryptionError, ValueError):
        typed = None
    if not isinstance(typed, dict):  # erased with its case, or unreadable: gone for good
        draft.delete()
        return None
    data = QueryDict(mutable=True)
    for name, values in typed.items():
        if isinstance(values, list):
            data.setlist(name, [str(value) for value in values])
    files: MultiValueDict = MultiValueDict()
    for name, field in form.fields.items():
        key = form.add_prefix(name)
        if field.disabled or field.widget.value_omitted_from_data(data, files, key):
            continue
        form.initial[name] = field.widget.value_from_datadict(data, files, key)
    return draft


def discard(user: User, path: str) -> str:
    """Delete the user's draft of the page at `path`; returns that page (ValidationError
    for a page that is not a draftable form of this site)."""
    _match, draftable, query = _resolve(path)
    page = _page(urlsplit(path).path, query, draftable)
    Draft.objects.filter(user=user, path=page).delete()
    return page


def purge_stale(now: datetime.datetime | None = None) -> int:
    """Delete drafts past retention; returns how many."""
    cutoff = (now or timezone.now()) - retention()
    deleted, _by_model = Draft.objects.filter(saved_at__lt=cutoff).delete()
    return deleted
