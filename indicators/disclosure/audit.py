"""The disclosure auditor: what an attacker can derive of each hidden figure.

For every hidden figure it solves two integer programs (HiGHS through SciPy's `linprog`):
the least and the greatest value the figure's sum can take over all non-negative integer
unknowns that agree with every shown figure and every public relation. A sensitive hidden
figure is protected when that interval reaches 0 (the attacker cannot tell it from 0) and
reaches `margin` above its value (cannot pin it within ±margin).

The work is split before solving: unknowns that shown figures fix (a shown single cell, or
a shown sum whose other terms are fixed) become constants, and the rest fall apart into
independent components (union-find over the shown figures and relations that join them);
each hidden figure is solved over the components its terms touch only.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_array, hstack, vstack

from .model import Figure, Key, Model

DEFAULT_MARGIN = 2
# A witness need not be optimal, only an integer table: stop early.
WITNESS = {"mip_rel_gap": 0.05, "time_limit": 20.0}


@dataclass(frozen=True)
class Protection:
    """How wide a hidden sensitive figure's interval must be (the issue's default: not
    pinned within ±2 of its value, and not told from 0)."""

    margin: int = DEFAULT_MARGIN

    def holds(self, value: int, low: float, high: float) -> bool:
        return low <= 0 and high >= value + self.margin


@dataclass(frozen=True)
class Leak:
    key: Key
    value: int
    low: float
    high: float
    binding: tuple[Key, ...]  # shown figures that limit the interval (complement candidates)


class Derivation:
    """What the shown figures of `model` let anyone derive, for the hidden set `hidden`."""

    def __init__(self, model: Model, hidden: Collection[Key], *, exact: bool = True) -> None:
        self.model = model
        self.exact = exact
        self.hidden = set(hidden)
        self.shown = [f for k, f in model.figures.items() if k not in self.hidden]
        self.by_unknown: dict[int, list[Figure]] = defaultdict(list)
        for figure in self.shown:
            for u in figure.terms:
                self.by_unknown[u].append(figure)
        self.fixed = self._propagate()
        self.component = self._components()

    def _propagate(self) -> dict[int, int]:
        """Unknowns the shown figures pin down, with their values."""
        fixed: dict[int, int] = {}
        pending = list(self.shown)
        while True:
            progress, rest = False, []
            for figure in pending:
                free = [u for u in figure.terms if u not in fixed]
                if len(free) == 1:
                    fixed[free[0]] = figure.value - sum(
                        fixed[u] for u in figure.terms if u in fixed
                    )
                    progress = True
                elif free:
                    rest.append(figure)
            pending = rest
            if not progress:
                self.open_figures = pending
                return fixed

    def _components(self) -> dict[int, int]:
        parent: dict[int, int] = {}

        def find(u: int) -> int:
            parent.setdefault(u, u)
            while parent[u] != u:
                parent[u] = parent[parent[u]]
                u = parent[u]
            return u

        def join(unknowns: Iterable[int]) -> None:
            free = [u for u in unknowns if u not in self.fixed]
            for u in free[1:]:
                parent[find(u)] = find(free[0])
            if free:
                find(free[0])

        for figure in self.open_figures:
            join(figure.terms)
        for relation in self.model.relations:
            join((*relation.left, *relation.right))
        return {u: find(u) for u in parent}

    def witnessed(
        self, figures: Iterable[Figure], protection: Protection, *, rounds: int = 30
    ) -> list[Figure]:
        """The figures among `figures` that no witness shows protected, in order.

        A witness is an integer table agreeing with everything shown: one where a figure
        is 0 proves it can't be told from 0, one where it reaches its value plus the
        margin proves the other end. Instead of two programs per figure, each round solves
        two integer programs over the whole model, stopped early (any integer table will
        do): the least total of the figures still open, and the most of them reaching
        their value plus the margin (`_reaching`). Rounds go on while they certify more.
        What they leave open goes to `interval`."""
        figures = list(figures)
        down = {f.key for f in figures}
        up = set(down)
        terms = {u for f in figures for u in f.terms if u not in self.fixed}
        unknowns = sorted(set(self.component) | terms)
        if not unknowns:
            return [f for f in figures if f.key in down or f.key in up]
        problem, column, _equalities = _problem(self, unknowns)
        margin = protection.margin
        for _round in range(rounds):
            before = len(down) + len(up)
            for direction in ("down", "up"):
                open_keys = down if direction == "down" else up
                if not open_keys:
                    continue
                chosen = [f for f in figures if f.key in open_keys]
                if direction == "down":
                    answer = self._lowest(problem, column, chosen)
                else:
                    answer = self._reaching(problem, column, chosen, margin)
                if answer.x is None:
                    continue
                point = answer.x[: len(unknowns)]
                integral = self._integral_components(point, column)
                for f in figures:
                    if f.key not in open_keys:
                        continue
                    free = [u for u in f.terms if u not in self.fixed]
                    if not all(self.component.get(u, ("alone", u)) in integral for u in free):
                        continue
                    total = sum(self.fixed[u] for u in f.terms if u in self.fixed) + sum(
                        round(point[column[u]]) for u in free
                    )
                    if (total <= 0) if direction == "down" else (total >= f.value + margin):
                        open_keys.discard(f.key)
            if len(down) + len(up) == before:  # no witness found anything new
                break
        return [f for f in figures if f.key in down or f.key in up]

    def _lowest(self, problem: dict[str, Any], column: dict[int, int], chosen: list[Figure]):
        """An integer table making the chosen figures' total least."""
        cost = np.zeros(len(column))
        for f in chosen:
            for u in f.terms:
                if u in column:
                    cost[column[u]] += 1.0
        options = {"integrality": np.ones(len(column)), "options": WITNESS}
        return linprog(cost, **{**problem, **options})

    def _reaching(
        self, problem: dict[str, Any], column: dict[int, int], chosen: list[Figure], margin: int
    ):
        """An integer table where as many chosen figures as can reach their value plus the
        margin: maximise Σ t_f with t_f ≤ the figure's sum and t_f ≤ its value + margin
        (a saturated objective spreads the counts instead of piling them on one cell)."""
        n, k = len(column), len(chosen)
        rows, bounds = [], []
        for j, f in enumerate(chosen):
            row = {n + j: 1.0}
            for u in f.terms:
                if u in column:
                    row[column[u]] = row.get(column[u], 0.0) - 1.0
            rows.append(row)
            bounds.append(float(sum(self.fixed.get(u, 0) for u in f.terms)))
        extra = _dict_rows(rows, n + k)
        a_ub = problem["A_ub"]
        if a_ub is not None:
            a_ub = vstack([hstack([a_ub, csr_array((a_ub.shape[0], k))]), extra])
            b_ub = [*problem["b_ub"], *bounds]
        else:
            a_ub, b_ub = extra, bounds
        a_eq = problem["A_eq"]
        if a_eq is not None:
            a_eq = hstack([a_eq, csr_array((a_eq.shape[0], k))])
        cost = np.concatenate([np.zeros(n), -np.ones(k)])
        return linprog(
            cost,
            A_ub=a_ub,
            b_ub=b_ub,
            A_eq=a_eq,
            b_eq=problem["b_eq"],
            bounds=[(0, None)] * n + [(0, f.value + margin) for f in chosen],
            integrality=np.concatenate([np.ones(n), np.zeros(k)]),
            method="highs",
            options=WITNESS,
        )

    def _integral_components(self, point: Any, column: dict[int, int]) -> set[Any]:
        """The components (and lone unknowns) where `point` is integral."""
        broken = set()
        for u, i in column.items():
            if abs(point[i] - round(point[i])) > 1e-6:
                broken.add(self.component.get(u, ("alone", u)))
        return {self.component.get(u, ("alone", u)) for u in column} - broken

    def interval(self, figure: Figure) -> tuple[float, float, tuple[Key, ...]]:
        """(least, greatest) value of the figure's sum, and the shown figures binding them."""
        constant = sum(self.fixed[u] for u in figure.terms if u in self.fixed)
        free = [u for u in figure.terms if u not in self.fixed]
        if not free:
            reach = {g.key: g for u in figure.terms for g in self.by_unknown.get(u, ())}
            return constant, constant, tuple(sorted(reach, key=lambda k: reach[k].cost))
        roots = {self.component.get(u, ("alone", u)) for u in free}
        unknowns = sorted({u for u, root in self.component.items() if root in roots} | set(free))
        low, high, binding = _solve(self, unknowns, free)
        return constant + low, constant + high, binding


def _solve(
    derivation: Derivation, unknowns: list[int], objective: list[int]
) -> tuple[float, float, tuple[Key, ...]]:
    """Least and greatest Σ objective over the component's integer points."""
    problem, column, equalities = _problem(derivation, unknowns)
    cost = np.zeros(len(unknowns))
    for u in objective:
        cost[column[u]] = 1.0
    low, high = _extremes(cost, problem, exact=derivation.exact)
    binding = _binding(derivation, equalities, unknowns, objective, high)
    return low, high, binding


def _problem(
    derivation: Derivation, unknowns: list[int]
) -> tuple[dict[str, Any], dict[int, int], list[Figure]]:
    """The constraints on `unknowns` (a union of components): every open shown figure
    over them and every relation, the fixed unknowns as constants; non-negative."""
    column = {u: i for i, u in enumerate(unknowns)}
    fixed = derivation.fixed
    equalities = [f for f in derivation.open_figures if any(u in column for u in f.terms)]
    a_eq = _rows([[u for u in f.terms if u in column] for f in equalities], column)
    b_eq = [f.value - sum(fixed.get(u, 0) for u in f.terms if u not in column) for f in equalities]
    ub_rows, b_ub = [], []
    for relation in derivation.model.relations:
        if not any(u in column for u in (*relation.left, *relation.right)):
            continue
        signed = [(u, 1) for u in relation.left] + [(u, -1) for u in relation.right]
        row = {column[u]: 0 for u, _s in signed if u in column}
        for u, sign in signed:
            if u in column:
                row[column[u]] += sign
        bound = -sum(sign * fixed[u] for u, sign in signed if u in fixed)
        ub_rows.append(row)
        b_ub.append(bound)
        if relation.equal:
            ub_rows.append({i: -c for i, c in row.items()})
            b_ub.append(-bound)
    problem = {
        "A_eq": a_eq if equalities else None,
        "b_eq": b_eq or None,
        "A_ub": _dict_rows(ub_rows, len(unknowns)) if ub_rows else None,
        "b_ub": b_ub or None,
        "bounds": (0, None),
        "method": "highs",
    }
    return problem, column, equalities


def _extremes(cost, problem, *, exact: bool) -> tuple[float, float]:
    """The least and greatest objective: the linear relaxation, then (when `exact`) the
    integer program — counts are integers and an attacker knows it. An unbounded
    relaxation means an unbounded integer program too (rational data, an integer point:
    the true table); HiGHS's MIP may call that case infeasible, so it is settled first."""
    lowest, highest = linprog(cost, **problem), linprog(-cost, **problem)
    if lowest.status == 2 and highest.status == 2:
        raise ValueError("the published figures contradict each other")
    # One direction solved, so the region is not empty: HiGHS's presolve reports some
    # unbounded directions as "infeasible"; either way that end is open.
    low = lowest.fun if lowest.status == 0 else 0.0
    high = -highest.fun if highest.status == 0 else math.inf
    if exact:
        integral = {**problem, "integrality": np.ones(len(cost))}
        low = max(low, _integer(cost, integral, low))
        if math.isfinite(high):
            high = min(high, -_integer(-cost, integral, -high))
    return _round(low, up=True), (_round(high, up=False) if math.isfinite(high) else high)


def _integer(cost, problem, fallback: float) -> float:
    answer = linprog(cost, **problem)
    return answer.fun if answer.status == 0 else fallback


def _round(value: float, *, up: bool) -> float:
    """An LP bound as the integer bound it implies (tolerating solver noise)."""
    return float(math.ceil(value - 1e-6) if up else math.floor(value + 1e-6))


def _binding(derivation, equalities, unknowns, objective, high) -> tuple[Key, ...]:
    """Shown figures that cap the objective, cheapest first: the open sums of its component
    and every shown figure over one of their unknowns (a shown cell that fixes a term of a
    sum counts: hiding it frees that term). A complement among them widens the interval."""
    reach = set(objective)
    for figure in equalities:
        reach.update(figure.terms)
    reach = _through_relations(derivation.model, reach)
    candidates = {figure.key: figure for u in reach for figure in derivation.by_unknown.get(u, ())}
    return tuple(key for key, _f in sorted(candidates.items(), key=lambda kv: kv[1].cost))


def _through_relations(model: Model, reach: set[int]) -> set[int]:
    """`reach` and every unknown a chain of relations ties to it."""
    reach = set(reach)
    while True:
        before = len(reach)
        for relation in model.relations:
            ends = {*relation.left, *relation.right}
            if reach & ends:
                reach |= ends
        if len(reach) == before:
            return reach


def _rows(rows: list[list[int]], column: dict[int, int]) -> csr_array:
    data, indices, pointers = [], [], [0]
    for row in rows:
        for u in row:
            indices.append(column[u])
            data.append(1.0)
        pointers.append(len(indices))
    return csr_array((data, indices, pointers), shape=(len(rows), len(column)))


def _dict_rows(rows: Sequence[Mapping[int, float]], width: int) -> csr_array:
    data, indices, pointers = [], [], [0]
    for row in rows:
        for i, c in row.items():
            if c:
                indices.append(i)
                data.append(float(c))
        pointers.append(len(indices))
    return csr_array((data, indices, pointers), shape=(len(rows), width))


def leaks(
    model: Model,
    hidden: Collection[Key],
    protection: Protection | None = None,
    *,
    exact: bool = True,
) -> list[Leak]:
    """Sensitive hidden figures whose interval is narrower than `protection` asks
    (`exact`: integer programs; else their linear relaxation, wider or equal)."""
    protection = protection or Protection()
    found = []
    derivation = Derivation(model, hidden, exact=exact)
    sensitive = [
        model.figures[key]
        for key in sorted(derivation.hidden, key=repr)
        if key in model.figures and model.figures[key].sensitive
    ]
    for figure in derivation.witnessed(sensitive, protection):
        key = figure.key
        low, high, binding = derivation.interval(figure)
        if not protection.holds(figure.value, low, high):
            found.append(Leak(key, figure.value, low, high, binding))
    return found


def shown_sensitive(model: Model, hidden: Collection[Key]) -> list[Leak]:
    """Sensitive figures left shown: read as they are. In an insider's view a figure is
    the part the insider does not know, so a region's shown 11 less its own 10 is its
    neighbours' 1 (outside review of issue 18, finding 2)."""
    hidden = set(hidden)
    return [
        Leak(key, figure.value, figure.value, figure.value, ())
        for key, figure in sorted(model.figures.items(), key=lambda item: repr(item[0]))
        if figure.sensitive and key not in hidden
    ]


def intervals(model: Model, hidden: Collection[Key]) -> dict[Key, tuple[float, float]]:
    """Every hidden figure's interval (for the operator's report and the tests)."""
    derivation = Derivation(model, hidden)
    result = {}
    for key in derivation.hidden:
        if key in model.figures:
            low, high, _binding = derivation.interval(model.figures[key])
            result[key] = (low, high)
    return result


def components(model: Model, hidden: Collection[Key]) -> dict[int, list[int]]:
    """The independent groups of unknowns left open (for diagnostics)."""
    derivation = Derivation(model, hidden)
    groups: dict[int, list[int]] = defaultdict(list)
    for u, root in derivation.component.items():
        groups[root].append(u)
    return dict(groups)
