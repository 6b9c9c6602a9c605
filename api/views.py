"""The REST API, version 1 (docs/api.md).

Every view here is in the access matrix (config/access.py), which the access middleware
applies before the view runs, with the same permissions as the matching screens; the
object rules are the same selectors and services the screens call. Figures come from the
same report functions, with small cells suppressed for the same viewers.
"""

from __future__ import annotations

from typing import Any, overload

from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, generics, status
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.access import signed_in
from casework import services as casework_services
from casework.access import Capability
from casework.selectors import find_visible_case
from indicators import metrics
from indicators import selectors as indicator_selectors
from indicators.disclosure.publication import NotPublished
from indicators.forms import MetricQueryForm, ReportPeriodForm
from indicators.reports import Figure
from referrals import selectors as referral_selectors
from referrals import services as referral_services
from referrals.models import Referral

from . import serializers as s

ERRORS = {
    400: OpenApiResponse(
        OpenApiTypes.OBJECT,
        description="Invalid input: each field named with its messages, or `detail`.",
    ),
    401: s.ErrorSerializer,
    403: s.ErrorSerializer,
    404: s.ErrorSerializer,
    406: OpenApiResponse(
        s.ErrorSerializer, description="Not Acceptable: the Accept header allows no JSON."
    ),
}


def _errors(*codes: int) -> dict[int, Any]:
    """Every endpoint may answer 401, 403 and 406 (content negotiation), and `codes`."""
    return {code: ERRORS[code] for code in (401, 403, 406, *codes)}


def _form_errors(form) -> exceptions.ValidationError:
    return exceptions.ValidationError(
        {field: [str(e) for e in errors] for field, errors in form.errors.items()}
    )


def _refusal(refusal: NotPublished) -> exceptions.APIException:
    """A question outside the published figures: 404 while the publication does not
    exist yet, else 400, with the reason."""
    if refusal.missing:
        return exceptions.NotFound(refusal.message)
    return exceptions.ValidationError({"detail": [refusal.message]})


@overload
def _figure(figure: Figure) -> dict[str, Any]: ...
@overload
def _figure(figure: Figure | None) -> dict[str, Any] | None: ...
def _figure(figure: Figure | None) -> dict[str, Any] | None:
    if figure is None:
        return None
    value = None if figure.suppressed or figure.value is None else float(figure.value)
    return {"value": value, "suppressed": figure.suppressed}


def _number(value) -> float | None:
    return None if value is None else float(value)


def _period(period) -> dict[str, Any]:
    return {"start": period.start, "end": period.end, "label": period.label()}


# --- indicators ---------------------------------------------------------------------------

PERIOD_PARAMETERS = [
    OpenApiParameter("year", int, description="Fiscal year (April–March), Western year."),
    OpenApiParameter("as_of", OpenApiTypes.DATE, description="Count up to this day (現在)."),
]
METRIC_PARAMETERS = [
    *PERIOD_PARAMETERS,
    OpenApiParameter("start", OpenApiTypes.DATE, description="Any range: first day."),
    OpenApiParameter("end", OpenApiTypes.DATE, description="Any range: last day."),
    OpenApiParameter("scope", str, enum=["prefecture", "region", "organisation"]),
    OpenApiParameter("region", int),
    OpenApiParameter("organisation", int),
]


class MetricList(APIView):
    @extend_schema(
        summary="Metrics that indicators count",
        responses={200: s.MetricSerializer(many=True), **_errors()},
    )
    def get(self, request: Request) -> Response:
        data = [
            {
                "key": metric.key,
                "label": metric.label,
                "unit": metric.unit,
                "counting": metric.counting,
                "description": metric.description,
                "parameters": [
                    {
                        "key": param.key,
                        "label": param.label,
                        "choices": [{"value": k, "label": v} for k, v in param.choices.items()],
                    }
                    for param, _path in metric.params
                ],
                "dimensions": [{"key": d.key, "label": d.label} for d in metric.dimensions],
            }
            for metric in metrics.REGISTRY.values()
        ]
        return Response(s.MetricSerializer(data, many=True).data)


class MetricDetail(APIView):
    @extend_schema(
        summary="A metric's total and breakdowns over a period and scope",
        description="Small cells are suppressed (value null, suppressed true) exactly as on "
        "the screens: exact figures only for the owning organisation's supervisors.",
        parameters=METRIC_PARAMETERS,
        responses={200: s.MetricResultSerializer, **_errors(400, 404)},
    )
    def get(self, request: Request, key: str) -> Response:
        try:
            metric = metrics.get(key)
        except ValueError:
            raise exceptions.NotFound(_("その集計項目はありません。")) from None
        this_year = ReportPeriodForm.default_year(2000, 2100)
        data = request.query_params.copy()
        data.setdefault("year", str(this_year))
        data.setdefault("scope", metrics.Scope.PREFECTURE)
        form = MetricQueryForm(data, first_year=this_year - 5, last_year=this_year, metric=metric)
        if not form.is_valid():
            raise _form_errors(form)
        scope = form.scope_value()
        try:
            result, exact = indicator_selectors.metric_figures(
                signed_in(request), form.cell(), scope=scope
            )
        except NotPublished as refusal:
            raise _refusal(refusal) from None
        cell = result.cell  # a publication's cut when the figures are published ones
        answer = {
            "metric": metric.key,
            "label": metric.label,
            "unit": metric.unit,
            "counting": metric.counting,
            "period": _period(cell.period),
            "scope": {
                "kind": scope.kind,
                "organisation": scope.organisation_id,
                "region": scope.region_id,
                "label": scope.label(),
            },
            "exact": exact,
            "total": _figure(result.total),
            "breakdowns": [
                {
                    "dimension": d.dimension.key,
                    "label": d.dimension.label,
                    "rows": [
                        {
                            "key": None if row.key is None else str(row.key),
                            "label": row.label,
                            **_figure(figure),
                        }
                        for row, figure in d.rows
                    ],
                    "total": _figure(d.total),
                }
                for d in result.dimensions
            ],
        }
        return Response(s.MetricResultSerializer(answer).data)


class PlanList(APIView):
    @extend_schema(summary="Plans", responses={200: s.PlanSerializer(many=True), **_errors()})
    def get(self, request: Request) -> Response:
        plans = indicator_selectors.plans(signed_in(request))
        data = [
            {
                "id": plan.pk,
                "name": plan.name,
                "organisation": s.named(plan.organisation),
                "first_year": plan.first_year,
                "last_year": plan.last_year,
            }
            for plan in plans
        ]
        return Response(s.PlanSerializer(data, many=True).data)


class PlanProgress(APIView):
    @extend_schema(
        summary="A plan's progress report (実績・目標・達成割合) for a fiscal year",
        parameters=PERIOD_PARAMETERS,
        responses={200: s.ProgressSerializer, **_errors(400, 404)},
    )
    def get(self, request: Request, pk: int) -> Response:
        plan = indicator_selectors.plan_for(signed_in(request), pk, related=("organisation",))
        data = request.query_params.copy()
        if "year" not in data:
            data["year"] = str(ReportPeriodForm.default_year(plan.first_year - 2, plan.last_year))
        form = ReportPeriodForm(data, first_year=plan.first_year - 2, last_year=plan.last_year)
        if not form.is_valid():
            raise _form_errors(form)
        year, as_of = form.period()
        try:
            report = indicator_selectors.plan_report(
                signed_in(request), plan, year=year, as_of=as_of
            )
        except NotPublished as refusal:
            raise _refusal(refusal) from None
        answer = {
            "plan": plan.pk,
            "year": report.year,
            "period": _period(report.period),
            "exact": report.exact,
            "rows": [
                {
                    "indicator": {
                        "id": row.indicator.pk,
                        "code": row.indicator.code,
                        "name": row.indicator.name,
                        "unit": row.indicator.unit,
                        "direction": row.indicator.direction.name,
                    },
                    "actual": _figure(row.actual),
                    "cumulative": _figure(row.cumulative),
                    "target": _number(row.target),
                    "cumulative_target": _number(row.cumulative_target),
                    "ratio": _number(row.ratio),
                    "ratio_shown": _number(row.ratio_shown),
                    "status": row.status,
                    "status_label": row.status_label,
                    "prior": [
                        {"year": year, "figure": _figure(figure)} for year, figure in row.prior
                    ],
                }
                for row in report.rows
            ],
        }
        return Response(s.ProgressSerializer(answer).data)


# --- referrals ----------------------------------------------------------------------------


class ReferralPagination(PageNumberPagination):
    page_size = 50


STATUS_PARAMETER = OpenApiParameter("status", str, enum=Referral.Status.values)


class _ReferralList(generics.ListAPIView):
    """A box of referrals (`box`: the selector the referral screens use), filtered by status."""

    serializer_class = s.ReferralSerializer
    pagination_class = ReferralPagination
    box = staticmethod(referral_selectors.inbox)

    def get_queryset(self) -> QuerySet[Referral]:
        referrals = (
            self.box(signed_in(self.request))
            .select_related("case__client__municipality", "from_organisation", "to_organisation")
            .order_by("-created_at", "pk")
        )
        wanted = self.request.query_params.get("status")
        if wanted:
            if wanted not in Referral.Status.values:
                raise exceptions.ValidationError({"status": [_("状態の指定が正しくありません。")]})
            referrals = referrals.filter(status=wanted)
        return referrals


@extend_schema(
    summary="Referrals sent to the own organisation (受信箱)",
    parameters=[STATUS_PARAMETER],
    responses={200: s.ReferralSerializer(many=True), **_errors(400, 404)},
)
class ReferralInbox(_ReferralList):
    box = staticmethod(referral_selectors.inbox)


@extend_schema(
    summary="Referrals the own organisation made (送信済み・下書き)",
    parameters=[STATUS_PARAMETER],
    responses={200: s.ReferralSerializer(many=True), **_errors(400, 404)},
)
class ReferralOutbox(_ReferralList):
    box = staticmethod(referral_selectors.outbox)


def _referral(request: Request, pk: Any, *, read: bool = False) -> Referral:
    """The referral; `read`: as its detail shows it, the read audited (the screen's path)."""
    find = referral_selectors.read_referral if read else referral_selectors.get_referral_for
    try:
        return find(signed_in(request), pk)
    except ValidationError:  # not a UUID
        raise exceptions.NotFound() from None


class ReferralDetail(APIView):
    @extend_schema(
        summary="One referral of the own organisation, either side",
        responses={200: s.ReferralSerializer, **_errors(404)},
    )
    def get(self, request: Request, pk: str) -> Response:
        referral = _referral(request, pk, read=True)
        return Response(s.ReferralSerializer(referral, context={"request": request}).data)


class ReferralTransition(APIView):
    @extend_schema(
        summary="Move a referral to its next status (send, accept, decline, complete, withdraw)",
        description="Only the side the state machine names may make each move; declining "
        "needs a note. Accepting opens the consented shared view to the receiving "
        "organisation; completing or withdrawing closes it.",
        request=s.TransitionSerializer,
        responses={200: s.ReferralSerializer, **_errors(400, 404)},
    )
    def post(self, request: Request, pk: str) -> Response:
        referral = _referral(request, pk)
        given = s.TransitionSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        user = signed_in(request)
        moved = referral_services.move(
            user,
            referral,
            to_status=given.validated_data["to"],
            note=given.validated_data.get("note", ""),
        )
        moved = referral_selectors.get_referral_for(user, moved.pk)
        return Response(s.ReferralSerializer(moved, context={"request": request}).data)


# --- contacts -----------------------------------------------------------------------------


class ContactCreate(APIView):
    @extend_schema(
        summary="Log one contact (相談記録) from an integration",
        description="The same service as the screen: permission, encryption, history and "
        "audit. The record's text is stored encrypted and not echoed back.",
        request=s.ContactCreateSerializer,
        responses={201: s.ContactSerializer, **_errors(400)},
    )
    def post(self, request: Request) -> Response:
        given = s.ContactCreateSerializer(data=request.data)
        given.is_valid(raise_exception=True)
        fields = dict(given.validated_data)
        code = fields.pop("case", "")
        user = signed_in(request)
        case = None
        if code:
            case = find_visible_case(user, code, related=("client",), capability=Capability.WRITE)
            if case is None:
                raise exceptions.ValidationError({"case": [_("そのケースは見つかりません。")]})
            for attribute in ("age_band", "gender", "municipality"):
                fields.pop(attribute, None)
        for text in ("summary", "follow_up"):
            fields[text] = fields.get(text) or None
        contact = casework_services.log_contact(user, case=case, **fields)
        return Response(s.ContactSerializer(contact).data, status=status.HTTP_201_CREATED)
