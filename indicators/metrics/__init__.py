"""The metric registry: every counting rule of the statistics, written once.

A `Metric` is a named count over one `Source` table: a condition on its rows (from the
metric's parameters and the period) and a measure (count of rows = 延べ, count of distinct
cases or people = 実, a sum of head counts, or municipalities as of a date), or a
`Statistic` (a median or a share, summarised in Python over one value per row; never
summed, and published under its own rule, indicators.disclosure.statistics). `evaluate`
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
`definitions` (the registered metrics; importing the package registers them) and
`evaluation` (answering them). Callers import from `indicators.metrics`, which names the
registry, its building blocks and the evaluation.
"""

from ..periods import Period
from . import definitions, sources
from .evaluation import (
    BreakdownRow,
    Cell,
    breakdown,
    evaluate,
    ordered_keys,
    statistic_values,
)
from .registry import (
    AS_OF,
    COUNTING_LABELS,
    DISTINCT,
    MEDIAN,
    REGISTRY,
    SHARE,
    TOTAL,
    Dimension,
    Distinct,
    Metric,
    Param,
    Scope,
    Source,
    Statistic,
    get,
    register,
)

__all__ = [
    "AS_OF",
    "COUNTING_LABELS",
    "DISTINCT",
    "MEDIAN",
    "REGISTRY",
    "SHARE",
    "TOTAL",
    "BreakdownRow",
    "Cell",
    "Dimension",
    "Distinct",
    "Metric",
    "Param",
    "Period",
    "Scope",
    "Source",
    "Statistic",
    "breakdown",
    "definitions",
    "evaluate",
    "get",
    "ordered_keys",
    "register",
    "sources",
    "statistic_values",
]
