"""A publication as linear algebra (τ-ARGUS's view of linked tables).

The unknowns are non-negative integer counts. Every published figure is the sum of some of
them; for additive counts (延べ) the unknowns are the finest cells and the figures their
sums, for distinct counts (実) each figure is an unknown of its own and `relations` hold
what anyone knows of them (a whole is at most the sum of its parts and at least each
part). A viewer sees the values of the shown figures and the relations; what they can
derive of a hidden figure is the interval its sum can take over every table of
non-negative integers agreeing with all of that (indicators.disclosure.audit).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

Key = Hashable


@dataclass(frozen=True)
class Figure:
    """One published number: the unknowns it sums, its true value, whether it is small
    enough to protect for itself (primary), and how much hiding it costs (complements
    prefer cheap figures: inner cells before margins, small before large)."""

    key: Key
    terms: tuple[int, ...]
    value: int
    sensitive: bool
    cost: float


@dataclass(frozen=True)
class Relation:
    """Σ left ≤ Σ right (or = when `equal`), between unknowns."""

    left: tuple[int, ...]
    right: tuple[int, ...]
    equal: bool = False


@dataclass
class Model:
    """Unknowns with their true values, the figures a viewer may be shown, and the public
    relations among the unknowns."""

    values: list[int] = field(default_factory=list)
    figures: dict[Key, Figure] = field(default_factory=dict)
    relations: list[Relation] = field(default_factory=list)

    def unknown(self, value: int) -> int:
        """A new unknown with its true value; returns its index."""
        self.values.append(int(value))
        return len(self.values) - 1

    def publish(
        self,
        key: Key,
        terms: Iterable[int],
        *,
        sensitive: bool,
        cost: float | None = None,
    ) -> Figure:
        """The figure summing `terms` (deduplicated); publishing a key twice keeps the first."""
        if key in self.figures:
            return self.figures[key]
        terms = tuple(sorted(set(terms)))
        value = sum(self.values[u] for u in terms)
        figure = Figure(key, terms, value, sensitive, float(value if cost is None else cost))
        self.figures[key] = figure
        return figure

    def relate(self, left: Iterable[int], right: Iterable[int], *, equal: bool = False) -> None:
        self.relations.append(Relation(tuple(left), tuple(right), equal))
