"""No hidden cell can be worked out from what a table shows.

The check is independent of the implementation (which audits with Gaussian elimination):
for every hidden cell it searches for another table of non-negative integers that agrees
with every shown cell and total but differs in that cell.
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from indicators.suppression import suppress_grid, suppress_list

from .conftest import at


def _exposed(grid, hidden_cells, hidden_rows, hidden_cols, grand_hidden) -> list:
    """Hidden cells for which no other table agrees with everything shown.

    For each hidden cell, look for a witness: a change of the hidden cells by -1, 0 or +1
    each that moves this cell, keeps every shown total (rows, columns, grand total) and
    leaves no cell negative. A witness proves the cell takes two values; in a two-way table
    with margins such changes (cycles) exist whenever the cell is not pinned down.
    """
    n_rows, n_cols = len(grid), len(grid[0])
    unknown = sorted(hidden_cells)
    lines = [
        [(r, c) for c in range(n_cols) if (r, c) in hidden_cells]
        for r in range(n_rows)
        if r not in hidden_rows
    ]
    lines += [
        [(r, c) for r in range(n_rows) if (r, c) in hidden_cells]
        for c in range(n_cols)
        if c not in hidden_cols
    ]
    if not grand_hidden:
        lines.append(unknown)
    lines = [line for line in lines if line]
    closes = {
        i: [line for line in lines if max(unknown.index(e) for e in line) == i]
        for i in range(len(unknown))
    }

    def witness(target) -> bool:
        change: dict = {}

        def walk(i: int) -> bool:
            if i == len(unknown):
                return change[target] != 0
            cell = unknown[i]
            options = (-1, 1) if cell == target else (0, -1, 1)
            for step in options:
                if grid[cell[0]][cell[1]] + step < 0:
                    continue
                change[cell] = step
                if all(sum(change[e] for e in line) == 0 for line in closes[i]) and walk(i + 1):
                    return True
            change.pop(cell, None)
            return False

        return walk(0)

    return [cell for cell in unknown if not witness(cell)]


CRAFTED = [
    # A lone small cell in a row and a column: needs complements in both.
    [[1, 5, 6], [4, 3, 4], [3, 3, 5]],
    # Two small cells in one row but in columns with no other small cell.
    [[2, 1, 4], [3, 4, 3], [5, 4, 3]],
    # Small cells on the diagonal.
    [[1, 4, 5], [3, 2, 4], [4, 3, 1]],
]


@pytest.mark.parametrize("grid", CRAFTED)
def test_no_hidden_cell_of_a_two_way_table_can_be_recovered(grid):
    cells, rows, cols, grand = suppress_grid(grid)
    small = {(r, c) for r, row in enumerate(grid) for c, v in enumerate(row) if 0 < v < 3}
    assert small <= cells  # every small cell is hidden
    assert _exposed(grid, cells, rows, cols, grand) == []


BRIDGE = [[4, 1, 4, 8], [3, 6, 0, 3], [0, 6, 2, 0], [2, 7, 8, 6]]


def test_the_line_rule_alone_leaves_a_cell_exposed_here_and_the_audit_closes_it(monkeypatch):
    # Every line ends with two or more hidden entries, yet the lines together still fix
    # one cell: the exact audit (Gaussian elimination) is what catches it.
    from indicators import suppression

    cells, rows, cols, grand = suppress_grid(BRIDGE)
    assert _exposed(BRIDGE, cells, rows, cols, grand) == []

    monkeypatch.setattr(suppression, "_determined", lambda *args: [])
    cells, rows, cols, grand = suppress_grid(BRIDGE)
    assert _exposed(BRIDGE, cells, rows, cols, grand) != []


def test_one_way_breakdown_hides_a_complement_and_keeps_zeros_and_large_cells():
    hidden, total_hidden = suppress_list([2, 0, 7, 12], 21)
    # 2 is small; the complement is the smallest positive visible cell (7), not the zero.
    assert hidden == {0, 2} and not total_hidden
    assert suppress_list([5, 0, 7], 12) == (set(), False)
    # A small total is hidden itself, and so are the small cells under it.
    hidden, total_hidden = suppress_list([1, 1, 0], 2)
    assert total_hidden and hidden >= {0, 1}


@pytest.fixture
def plan(world):
    plan = world.plan(
        "秘匿テスト",
        {"code": "1", "name": "就労", "unit": "人", "metric": "people_supported"},
        {"code": "2", "name": "会議", "unit": "回", "metric": "meetings_held"},
    )
    world.contact(world.case(), at(2025, 6, 1))
    world.contact(world.case(), at(2025, 6, 2))
    world.meeting(world.centre, at(2025, 6, 3))
    return plan


def _cells(html: str, code: str) -> list[str]:
    import re

    row = re.search(rf"<tr><td>1 方向</td><td>{code}</td>(.*?)</tr>", html, re.S).group(1)
    return [
        re.sub(r"<[^>]+>", "", c).strip() for c in re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    ]


def test_statistics_viewer_sees_small_people_counts_hidden_the_owner_sees_them(client, world, plan):
    url = reverse("indicators:progress", args=[plan.pk])
    world.publish(2025)
    client.force_login(world.statistics)
    hidden = client.get(url, {"year": 2025}).content.decode()
    assert _cells(hidden, "1")[5] == "x"  # 2 people: hidden
    assert _cells(hidden, "2")[5] == "1"  # 1 meeting: not about people, shown
    assert "秘匿" in hidden
    client.force_login(world.town_supervisor)  # a supervisor, but not of the owner
    assert _cells(client.get(url, {"year": 2025}).content.decode(), "1")[5] == "x"
    client.force_login(world.supervisor)
    assert _cells(client.get(url, {"year": 2025}).content.decode(), "1")[5] == "2"


def test_breakdown_page_and_its_export_hide_small_cells_for_the_statistics_viewer(
    client, world, plan
):
    import csv
    import io

    for _ in range(6):
        world.contact(world.case(), at(2025, 7, 1), channel="phone")
    world.publish(2025)
    client.force_login(world.statistics)
    url = reverse("indicators:metric_export", args=["contacts", "csv"])
    rows = list(
        csv.reader(io.StringIO(client.get(url, {"year": 2025}).content.decode("utf-8-sig")))
    )
    channel_rows = rows[rows.index(["相談方法", "相談件数（件）"]) + 1 :]
    by_channel = {row[0]: row[1] for row in channel_rows[:7]}
    # 8 contacts: 6 by phone, 2 by the default channel (phone) too → all 8 phone. The
    # other channels are 0, which is not told from 1 or 2: hidden, so a shown total
    # would be only as safe as the complements hidden with it.
    assert by_channel["電話"] == "8"
    assert all(v == "x" for label, v in by_channel.items() if label not in ("電話", "合計"))
    consulter = rows[rows.index(["相談者", "相談件数（件）"]) + 1 :][:8]
    assert all(v in ("8", "x") for _label, v in consulter)
    page = client.get(reverse("indicators:metric", args=["contacts"]), {"year": 2025})
    assert page.status_code == 200
    html = page.content.decode()
    channel_table = html.split('data-table="相談件数（相談方法別）"', 1)[1].split("</table>")[0]
    assert '"num">8<' in channel_table and '"num">0<' not in channel_table
    assert '"num">x<' in channel_table
