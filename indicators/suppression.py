"""Small-cell suppression with complementary suppression (秘匿処理).

A table shown outside the owning organisation must not let anyone single a person out:
counts below the threshold (default 3, zero excepted) are hidden, and so are enough other
entries that no hidden value can be worked out from what is shown. The entries of a table
are its cells and its totals; a "line" is a set of entries whose published relation is
"the cells add up to the total" (a row with its row total, a column with its column total).

Primary suppression hides small entries. Complementary suppression then repeats two steps
until nothing changes:

1. every line with exactly one hidden entry gets a second one (its smallest positive
   visible cell, a total only as a last resort), since a lone hidden entry is its line's
   total minus the rest;
2. an exact audit: the published lines are linear equations in the hidden entries; an
   entry whose value the equations fix (its unit vector lies in their row space, decided
   by Gaussian elimination over fractions) gets a further complement in one of its lines.
   This catches patterns no single line shows, such as a hidden cell bridging two groups
   of hidden cells in a two-way table.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from fractions import Fraction

DEFAULT_THRESHOLD = 3

Entry = Hashable


def is_small(value: int, threshold: int = DEFAULT_THRESHOLD) -> bool:
    return 0 < value < threshold


def suppress(
    values: dict[Entry, int],
    lines: Sequence[tuple[Sequence[Entry], Entry]],
    threshold: int = DEFAULT_THRESHOLD,
) -> set[Entry]:
    """Entries to hide. `values` holds every cell and total; `lines` are (cells, total)."""
    totals = {total for _cells, total in lines}
    hidden = {entry for entry, value in values.items() if is_small(value, threshold)}
    members = [[*cells, total] for cells, total in lines]

    def complement(line: list[Entry]) -> Entry | None:
        visible = [e for e in line if e not in hidden]
        if not visible:
            return None
        # Smallest positive cell first; zeros next; totals last.
        return min(visible, key=lambda e: (e in totals, values[e] == 0, values[e]))

    while True:
        changed = False
        for line in members:
            if sum(e in hidden for e in line) == 1:
                extra = complement(line)
                if extra is not None:
                    hidden.add(extra)
                    changed = True
        if changed:
            continue
        exposed = _determined(values, members, hidden)
        if not exposed:
            return hidden
        entry = exposed[0]
        for line in members:
            if entry in line:
                extra = complement(line)
                if extra is not None:
                    hidden.add(extra)
                    changed = True
                    break
        if not changed:  # every line of the entry is hidden already: nothing more to hide
            return hidden


def _determined(values: dict[Entry, int], lines: list[list[Entry]], hidden: set[Entry]) -> list:
    """Hidden entries whose value the published line equations fix."""
    unknowns = sorted(hidden, key=repr)
    if not unknowns:
        return []
    index = {entry: i for i, entry in enumerate(unknowns)}
    rows = []
    for line in lines:
        *cells, total = line
        if not any(e in hidden for e in line):
            continue
        row = [Fraction(0)] * len(unknowns)
        for entry, sign in [*((c, 1) for c in cells), (total, -1)]:
            if entry in hidden:
                row[index[entry]] += sign
        rows.append(row)
    basis = _row_echelon(rows)
    return [entry for entry in unknowns if _in_row_space(basis, index[entry], len(unknowns))]


def _row_echelon(rows: list[list[Fraction]]) -> list[list[Fraction]]:
    """Reduced row echelon form (non-zero rows)."""
    rows = [row[:] for row in rows]
    width = len(rows[0]) if rows else 0
    pivot_row = 0
    for column in range(width):
        pivot = next((r for r in range(pivot_row, len(rows)) if rows[r][column] != 0), None)
        if pivot is None:
            continue
        rows[pivot_row], rows[pivot] = rows[pivot], rows[pivot_row]
        lead = rows[pivot_row][column]
        rows[pivot_row] = [value / lead for value in rows[pivot_row]]
        for r in range(len(rows)):
            if r != pivot_row and rows[r][column] != 0:
                factor = rows[r][column]
                rows[r] = [a - factor * b for a, b in zip(rows[r], rows[pivot_row], strict=True)]
        pivot_row += 1
    return rows[:pivot_row]


def _in_row_space(basis: list[list[Fraction]], position: int, width: int) -> bool:
    """Is the unit vector e_position a combination of the (reduced) basis rows?"""
    # In reduced row echelon form, e_p is in the span iff some basis row equals e_p.
    return any(
        row[position] == 1 and all(row[i] == 0 for i in range(width) if i != position)
        for row in basis
    )


def suppress_list(
    values: Sequence[int], total: int, threshold: int = DEFAULT_THRESHOLD
) -> tuple[set[int], bool]:
    """A one-way breakdown with its total: (hidden positions, total hidden)."""
    entries: dict[Entry, int] = {i: v for i, v in enumerate(values)}
    entries["total"] = total
    hidden = suppress(entries, [(list(range(len(values))), "total")], threshold)
    return {e for e in hidden if e != "total"}, "total" in hidden


def suppress_grid(
    grid: Sequence[Sequence[int]], threshold: int = DEFAULT_THRESHOLD
) -> tuple[set[tuple[int, int]], set[int], set[int], bool]:
    """A two-way table with row totals, column totals and a grand total.

    Returns hidden cells (row, column), hidden row totals, hidden column totals, and
    whether the grand total is hidden.
    """
    n_rows, n_cols = len(grid), len(grid[0]) if grid else 0
    values: dict[Entry, int] = {(r, c): grid[r][c] for r in range(n_rows) for c in range(n_cols)}
    for r in range(n_rows):
        values[("row", r)] = sum(grid[r])
    for c in range(n_cols):
        values[("col", c)] = sum(grid[r][c] for r in range(n_rows))
    values["grand"] = sum(values[("row", r)] for r in range(n_rows))
    lines: list[tuple[list[Entry], Entry]] = [
        ([(r, c) for c in range(n_cols)], ("row", r)) for r in range(n_rows)
    ]
    lines += [([(r, c) for r in range(n_rows)], ("col", c)) for c in range(n_cols)]
    lines.append(([("row", r) for r in range(n_rows)], "grand"))
    lines.append(([("col", c) for c in range(n_cols)], "grand"))
    hidden = suppress(values, lines, threshold)
    return (
        {e for e in hidden if isinstance(e, tuple) and isinstance(e[0], int)},
        {e[1] for e in hidden if isinstance(e, tuple) and e[0] == "row"},
        {e[1] for e in hidden if isinstance(e, tuple) and e[0] == "col"},
        "grand" in hidden,
    )
