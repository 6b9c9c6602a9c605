"""Organisation and visibility scope below the views: scoped managers and a request guard.

Every model holding an organisation's records (cases, clients, contacts, milestones,
visits, programmes, meetings, agenda items, actions, referrals, transfers, plans and
their figures) has a `ScopedManager` as `objects`. Request code reads those rows through
the manager's scoped methods — `Case.objects.visible_to(user, capability)`,
`Meeting.objects.visible_to(user)`, `Indicator.objects.of_plan(plan)` … — which build on
the one visibility policy, casework.access, or on an object already reached through a
scope. While a request is answered (`RequestScopeMiddleware` sets a context variable),
any other use of `objects` (`Case.objects.filter(organisation_id=…)`, `.all()`, `.get()`)
raises `ScopeError`: a view that filters by hand fails in its first test instead of
serving another organisation's rows. In production it is a 500 and nothing is served.
Outside requests (management commands, the demo, migrations, tests calling services)
nothing changes.

Allowed without a scope: `objects.none()`; `objects.create()` and `bulk_create()` (a
write reads no row; services check permission first); related managers whose parent is
itself a scoped model (`case.contacts`, `meeting.items`, prefetches of them: the parent
was reached through a scope), but not those from an organisation or a user
(`organisation.cases`, `user.lead_cases` are refused like the manager); forward foreign
keys (`contact.case`, through the plain base manager); Django's unique and constraint
checks (`full_clean`, on `ScopedModel`).

The escape, for reads that legitimately cross scope after a policy check — a service
locking or updating a row it has already checked, statistics counting (which suppresses
small cells by its own policy), bulk writers, the duplicate check through the blind
index, AppConfig hooks answering for an object already checked — is explicit and
grep-able: `Model.objects.unscoped()` for one query, `with unscoped():` for a block.
Views, the API and forms never use it, nor filter on organisation fields by hand
(tests/security/test_scope_guard.py reads their source). The admin namespace is not
guarded: it is administrators' cross-organisation tool by design, under its own rule in
config/access.py.

Managers: the guarded manager is `objects` and stays Django's default manager (a default
named otherwise would put every scoped model's managers into new migrations). Django's
own uses of the default manager are covered above: related managers are built from its
class (hence the parent rule), unique checks run on `ScopedModel`, the admin is lifted.
`Meta.base_manager_name` is left alone, so the base manager — forward keys, `save()`,
`delete()`, `refresh_from_db()` — is the plain one and never refuses.

Why not django-scopes (which does the same for pretix): its scopes are values of one
column (`scope(organisation=org)` adds `organisation=org` to every query), while
visibility here is a union of grants computed by casework.access (own organisation,
lead worker, MDT agenda, transfer read-back, break-glass; a restricted case for
supervisors only) — a filter the manager could not add by itself. What remained to take
is the refusal of an unscoped query, which is the few lines below; django-scopes would
also refuse outside requests, so every test, command and migration would need
`scopes_disabled()`, and a new dependency for that is not worth it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, TypeVar

from django.db import models
from django.http import HttpRequest, HttpResponse


class _RequestGuard:
    """The guard of one request; the admin lifts it for its own requests."""

    active = True


# Set while a request is answered (RequestScopeMiddleware), and while an escape is open.
_request: ContextVar[_RequestGuard | None] = ContextVar("scoped_request", default=None)
_escaped: ContextVar[bool] = ContextVar("scope_escaped", default=False)


class ScopeError(Exception):
    """A scoped model's manager was used in request code without a scope: a programming
    error (a view or selector reading rows without the visibility policy)."""


def guarded() -> bool:
    """Whether an unscoped query would be refused here and now."""
    guard = _request.get()
    return guard is not None and guard.active and not _escaped.get()


@contextmanager
def unscoped() -> Iterator[None]:
    """The escape for a block: queries inside read across scope. Only after a policy check
    (statistics counting, a bulk writer); never in views, the API, forms or templates."""
    token = _escaped.set(True)
    try:
        yield
    finally:
        _escaped.reset(token)


@contextmanager
def request_scope() -> Iterator[None]:
    """Guard a block as a request is guarded (the middleware, and tests)."""
    token = _request.set(_RequestGuard())
    try:
        yield
    finally:
        _request.reset(token)


def is_scoped(model: type[models.Model]) -> bool:
    return isinstance(getattr(model, "_default_manager", None), ScopedManager)


_M = TypeVar("_M", bound=models.Model)


class ScopedManager(models.Manager[_M]):
    """`objects` of a scoped model. Subclasses add the scoped methods, built on
    `_scope_base()`; everything else refuses in request code (`ScopeError`)."""

    def get_queryset(self) -> models.QuerySet[_M]:
        if guarded() and not self._under_scoped_parent():
            name = self.model.__name__ if self.model else "?"
            raise ScopeError(
                f"{name}.objects used without a scope in request code: read through a "
                f"scoped method ({name}.objects.visible_to(user, …)) or a selector."
            )
        return super().get_queryset()

    def _under_scoped_parent(self) -> bool:
        # Related managers (`case.contacts`) carry the object they hang from.
        instance = getattr(self, "instance", None)
        return instance is not None and is_scoped(type(instance))

    # Through get_queryset, so that a related manager (`case.contacts.unscoped()`) keeps
    # its own narrowing to the parent.
    def _scope_base(self) -> models.QuerySet[_M]:
        """The rows before a scope: for the scoped methods of subclasses only."""
        with unscoped():
            return self.get_queryset()

    def unscoped(self) -> models.QuerySet[_M]:
        """The escape for one query: every row, after a policy check made elsewhere."""
        with unscoped():
            return self.get_queryset()

    def none(self) -> models.QuerySet[_M]:
        with unscoped():
            return self.get_queryset().none()

    def create(self, **kwargs: Any) -> _M:
        with unscoped():
            return super().create(**kwargs)

    def bulk_create(self, objs: Iterable[_M], *args: Any, **kwargs: Any) -> list[_M]:
        with unscoped():
            return super().bulk_create(objs, *args, **kwargs)


class ScopedModel(models.Model):
    """Base of scoped models: Django's own uniqueness and constraint checks read across
    scope (a code or a pair must be unique everywhere) and say only yes or no."""

    class Meta:
        abstract = True

    def validate_unique(self, exclude=None) -> None:
        with unscoped():
            super().validate_unique(exclude)

    def validate_constraints(self, exclude=None) -> None:
        with unscoped():
            super().validate_constraints(exclude)


class RequestScopeMiddleware:
    """Guards the request: from here on, an unscoped query on a scoped model raises."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with request_scope():
            return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> None:
        guard = _request.get()
        match = request.resolver_match  # resolved before any view runs
        if guard is not None and match is not None and "admin" in match.namespaces:
            # Administrators' own tool across organisations (config/access.py "admin:*").
            guard.active = False
        return None
