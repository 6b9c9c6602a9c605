"""Joint secondary suppression over every table of a publication.

Primary suppression hides the sensitive figures (small people-counts, zeros included:
0 is not told apart from 1 or 2). Secondary suppression then takes the sensitive figures
no witness shows protected (audit.Derivation.witnessed), a batch at a time, and solves
one linear program per direction (Fischetti and Salazar's protector problem, as τ-ARGUS
does): the cheapest set of shown figures whose hiding lets the unknowns move — every
other shown figure and every public relation kept — so far that the figure reaches 0, or
its value plus the margin. Those figures are hidden. A last audit by integer programs
(the attacker knows counts are integers) confirms; a figure it still finds exposed gets
every shown figure around it hidden.

Figures named `later` (a publication's breakdowns) are protected in a second stage, with
complements among themselves only: the first stage's pattern (what a progress report
reads) never depends on them, and the second stage's audit still covers every figure.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence

import numpy as np
from scipy.optimize import linprog
from scipy.sparse import csr_array

from .audit import Derivation, Leak, Protection, leaks, shown_sensitive
from .model import Figure, Key, Model

logger = logging.getLogger(__name__)

Allowed = Callable[[Key], bool]
BATCH = 25


def protect(
    model: Model,
    protection: Protection | None = None,
    *,
    later: Collection[Key] = (),
    fixed: Collection[Key] = (),
) -> set[Key]:
    """The figures to hide so that no sensitive figure can be derived within protection.
    `fixed` figures are shown whatever happens (an earlier publication showed them)."""
    protection = protection or Protection()
    later, fixed = set(later), set(fixed)
    sensitive = {key for key, figure in model.figures.items() if figure.sensitive} - fixed
    if not model.values:  # nothing counted: no figure can move, hide every sensitive one
        return sensitive
    hidden = _stage(
        model, sensitive | later, protection, lambda key: key not in later and key not in fixed
    )
    if later:
        hidden = (hidden - later) | (sensitive & later)
        hidden = _stage(model, hidden, protection, lambda key: key in later and key not in fixed)
    return hidden


def _stage(model: Model, hidden: set[Key], protection: Protection, allowed: Allowed) -> set[Key]:
    hidden = set(hidden)
    remaining = sorted(
        (f for f in model.figures.values() if f.sensitive and f.key in hidden),
        key=lambda f: (f.value, f.cost),
    )
    while remaining:
        derivation = Derivation(model, hidden, exact=False)
        remaining = derivation.witnessed(remaining, protection)
        # A batch at a time: each figure's complements are chosen against everything
        # hidden so far (a protector program needs no hiding when the figure can move
        # already), then the witnesses clear what the batch protected by the way.
        batch, remaining = remaining[:BATCH], remaining[BATCH:]
        for figure in batch:
            hidden |= _protector(model, hidden, figure, allowed, down=True, amount=0)
            amount = figure.value + protection.margin
            hidden |= _protector(model, hidden, figure, allowed, down=False, amount=amount)
    while found := leaks(model, hidden, protection, exact=True):
        added = {leak.key for leak in found if leak.key not in hidden and allowed(leak.key)}
        for leak in found:
            figure = model.figures[leak.key]
            added |= _complements(
                model, hidden | added, figure, protection, allowed, low=leak.low, high=leak.high
            )
        if not added - hidden:
            added = _everything_touching(model, hidden, [leak.key for leak in found], allowed)
        if not added - hidden:
            _unprotectable(found)
            break
        hidden |= added
    return hidden


def _unprotectable(found: Sequence[Leak]) -> None:
    """Figures no hiding can protect any more: what may not be hidden (shown by an
    earlier publication) gives them. Hidden anyway; the operator is told how many (never
    a value), and `publish_statistics --audit` lists them."""
    logger.warning(
        "%d sensitive figure(s) derivable from figures an earlier publication showed", len(found)
    )


def _complements(
    model: Model,
    hidden: set[Key],
    figure: Figure,
    protection: Protection,
    allowed: Allowed,
    *,
    low: float,
    high: float,
) -> set[Key]:
    """Figures to hide so that `figure` can reach 0 and its value plus the margin."""
    added: set[Key] = set()
    if low > 0:
        added |= _protector(model, hidden | added, figure, allowed, down=True, amount=0)
    if high < figure.value + protection.margin:
        amount = figure.value + protection.margin
        added |= _protector(model, hidden | added, figure, allowed, down=False, amount=amount)
    return added or _everything_touching(model, hidden, [figure.key], allowed)


def _protector(
    model: Model, hidden: set[Key], figure: Figure, allowed: Allowed, *, down: bool, amount: int
) -> set[Key]:
    """The cheapest shown figures whose hiding lets `figure` move to `amount`.

    Variables: a change y of every unknown (never below minus its value) and, per shown
    figure that may be hidden, z ≥ |its change|; minimise Σ cost·z. Shown figures that may
    not be hidden keep their value; relations keep holding for the changed unknowns."""
    values = np.array(model.values, dtype=float)
    n = len(values)
    shown = [f for f in model.figures.values() if f.key not in hidden]
    free = [f for f in shown if allowed(f.key)]
    kept = [f for f in shown if not allowed(f.key)]
    width = n + len(free)
    ub_rows: list[dict[int, float]] = []
    b_ub: list[float] = []
    for i, f in enumerate(free):
        for sign in (1.0, -1.0):
            row = {u: sign for u in f.terms}
            row[n + i] = -1.0
            ub_rows.append(row)
            b_ub.append(0.0)
    eq_rows: list[dict[int, float]] = [{u: 1.0 for u in f.terms} for f in kept]
    b_eq: list[float] = [0.0] * len(kept)
    for relation in model.relations:
        row = {}
        for u in relation.left:
            row[u] = row.get(u, 0.0) + 1.0
        for u in relation.right:
            row[u] = row.get(u, 0.0) - 1.0
        slack = -sum(values[u] * c for u, c in row.items())
        if relation.equal:
            eq_rows.append(row)
            b_eq.append(0.0)
        else:
            ub_rows.append(row)
            b_ub.append(slack)
    change = figure.value - amount if down else amount - figure.value
    target = {u: (1.0 if down else -1.0) for u in figure.terms}
    ub_rows.append(target)
    b_ub.append(-float(change))
    cost = np.concatenate([np.zeros(n), np.array([f.cost + 1.0 for f in free])])
    bounds = [(-values[u], None) for u in range(n)] + [(0, None)] * len(free)
    answer = linprog(
        cost,
        A_ub=_matrix(ub_rows, width),
        b_ub=b_ub,
        A_eq=_matrix(eq_rows, width) if eq_rows else None,
        b_eq=b_eq or None,
        bounds=bounds,
        method="highs",
    )
    if answer.status != 0:
        return set()
    return {f.key for i, f in enumerate(free) if answer.x[n + i] > 1e-7}


def _matrix(rows: list[dict[int, float]], width: int) -> csr_array:
    data, indices, pointers = [], [], [0]
    for row in rows:
        for i, c in row.items():
            if c:
                indices.append(i)
                data.append(c)
        pointers.append(len(indices))
    return csr_array((data, indices, pointers), shape=(len(rows), width))


def _everything_touching(
    model: Model, hidden: set[Key], keys: list[Key], allowed: Allowed
) -> set[Key]:
    """Last resort: every shown figure (that may be hidden) sharing an unknown with the
    leaking figures or with a chain of relations they reach."""
    from .audit import _through_relations

    derivation = Derivation(model, hidden)
    terms = _through_relations(model, {u for key in keys for u in model.figures[key].terms})
    return {f.key for f in derivation.shown if terms & set(f.terms) and allowed(f.key)}


def protect_with_insiders(
    model: Model,
    views: Sequence[Model],
    protection: Protection | None = None,
    *,
    fixed: Collection[Key] = (),
) -> set[Key]:
    """`protect`, then repaired until no insider can derive others' figures either. An
    insider (an organisation, knowing its own figures exactly) sees the same figures,
    less its own part: each of `views` is the model with everyone else's part as the
    unknowns, the figures' values and sensitivity as they are to that insider. The views
    have the model's keys; complements are chosen among them, and the last audit of each
    view confirms."""
    protection = protection or Protection()
    fixed = set(fixed)
    hidden = protect(model, protection, fixed=fixed)

    def allowed(key: Key) -> bool:
        return key in model.figures and key not in fixed

    changed = True
    while changed:
        changed = False
        for view in views:
            while True:
                # Figures sensitive to this insider are hidden first (primary); hiding
                # them may already protect them, so complements follow the audit only.
                primary = {leak.key for leak in shown_sensitive(view, hidden)}
                if any(allowed(key) for key in primary - hidden):
                    hidden |= {key for key in primary if allowed(key)}
                    changed = True
                found = leaks(view, hidden, protection, exact=True)
                if not found:
                    break
                added: set[Key] = set()
                for leak in found:
                    figure = view.figures[leak.key]
                    added |= _complements(
                        view, hidden, figure, protection, allowed, low=leak.low, high=leak.high
                    )
                if not added - hidden:
                    _unprotectable(found)
                    break
                hidden |= added
                changed = True
    return hidden
