"""The metric registry: every counting rule of the statistics, written once.

A `Metric` is a named count over one `Source` table: a condition on its rows (from the
metric's parameters and the period) and a measure (count of rows = 延べ, count of distinct
cases or people = 実, a sum of head counts, or municipalities as of a date). `evaluate`
takes any number of (metric, parameters, period) cells and answers all of those sharing a
source table with one aggregate query (conditional aggregation; distinct counts in a second
one), so a whole report costs at most two queries per table it touches, whatever the
number of indicators, years or rows.
`breakdown` answers one metric by one dimension (month, channel, municipality, …) with one
grouped query.

Scope is who recorded the data: one organisation, the organisations of a region, or the
whole prefecture. Breakdowns by municipality and region are by where the person lives (for
programmes: where the programme is held).

The package: `registry` (the building blocks and the registry), `sources` (the tables),
`definitions` (the registered metrics) and `evaluation` (answering them). Callers import
from `indicators.metrics`, which names all of it.
"""

from ..periods import Period
from . import definitions
from .definitions import (
    ANONYMOUS,
    CHANNEL,
    CONSULTER,
    CONTACT_KIND,
    MEETING_KIND,
    MILESTONE_KIND,
    PROGRAMME_KIND,
    READINESS,
    READINESS_STEP,
)
from .evaluation import BreakdownRow, Cell, breakdown, evaluate
from .registry import (
    AS_OF,
    COUNTING_LABELS,
    DISTINCT,
    REGISTRY,
    TOTAL,
    Dimension,
    Distinct,
    Metric,
    Param,
    Scope,
    Source,
    choices_of,
    count_rows,
    get,
    register,
    sum_heads,
)
from .sources import (
    AGENDA,
    ATTENDANCE,
    CASES,
    CONTACTS,
    MEETINGS,
    MILESTONES,
    MUNICIPALITIES,
    REFERRALS,
    SESSIONS,
    VISITS,
)

__all__ = [
    "AGENDA",
    "ANONYMOUS",
    "AS_OF",
    "ATTENDANCE",
    "CASES",
    "CHANNEL",
    "CONSULTER",
    "CONTACTS",
    "CONTACT_KIND",
    "COUNTING_LABELS",
    "DISTINCT",
    "MEETINGS",
    "MEETING_KIND",
    "MILESTONES",
    "MILESTONE_KIND",
    "MUNICIPALITIES",
    "PROGRAMME_KIND",
    "READINESS",
    "READINESS_STEP",
    "REFERRALS",
    "REGISTRY",
    "SESSIONS",
    "TOTAL",
    "VISITS",
    "BreakdownRow",
    "Cell",
    "Dimension",
    "Distinct",
    "Metric",
    "Param",
    "Period",
    "Scope",
    "Source",
    "breakdown",
    "choices_of",
    "count_rows",
    "definitions",
    "evaluate",
    "get",
    "register",
    "sum_heads",
]
