"""Small-cell suppression: the one place every published figure goes through (docs/reports.md).

Pages, charts, the PDF and the CSV files (and later the DHIS2 export and the line list) never show a count
that has not been through ``publish``. What it guarantees, for each publication (one report: its tables, its
headline figures and its monthly trends):

- **Primary suppression.** A count from 1 to ``threshold() - 1`` (4 with the default of 5) is shown as "<5".
  Zero is shown: it says that nobody was counted, which identifies no one, and hiding it would hide where a
  service reaches nobody. (Zero cells are therefore never used for complementary suppression either.)
- **Complementary suppression.** A table publishes its rows, its columns and their totals, so a hidden cell
  could be worked out from a total less the cells shown. A reader who knows the rule knows more: a "<5" cell is
  between 1 and 4, a complementary one ("x") is at least 5. For every hidden entry of a table (cell or total)
  the algorithm finds a **certificate**: another filling of the hidden entries, consistent with everything
  published (every row and column sum, every bound), in which that entry has a different value. An entry with a
  certificate cannot be recovered, not even from the bounds; one without gets a further entry hidden (the
  smallest that makes a certificate possible), and the search goes on until every hidden entry has one. The
  certificates are alternating cycles in the table (+1, -1, +1, -1 around rows and columns, through totals
  where needed), found by a shortest-path search over the hidden entries and the candidates.
- **Totals.** Row, column and grand totals are entries like the cells: hidden when they are small, and hidden
  as complements when a certificate needs them. An entry that appears in the sums of more than one table (an
  indicator's grand total, shared by its breakdowns and its headline) is never hidden as a complement (each
  table could otherwise choose differently); when such an entry is itself under the threshold, every table whose
  sums contain it is withheld, and only the headline "<5" is published.
- **Rates** are shown only when their numerator and denominator are both shown and the denominator is at least
  the threshold (``rate``); a median, only when the count it summarises is shown and at least the threshold.
- **Trends.** The months of a trend that fall in the report's period add up to the period's figure (for
  counts of events: ``Grid`` with the period's figure as its total) or cover it (for counts of people, each of
  whom may be counted in several months: ``Cover``); both are protected like tables.

What it does not do: it protects one publication against its own sums. Two publications whose periods or
scopes overlap (a range, then the same range one day shorter) can be subtracted from each other; that is why
only reviewers and managers see reports, and why every report is audited with its scope and period.
"""

from __future__ import annotations

import heapq
import itertools
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

SHOWN = "shown"
PRIMARY = "primary"  # 1 to threshold - 1: "<5"
COMPLEMENTARY = "complementary"  # hidden so that a primary one cannot be worked out: "x"
WITHHELD = "withheld"  # its whole table is not published
NOT_SHOWN = "not_shown"  # a rate or a median whose counts are hidden or too small: "–"

DEFAULT_THRESHOLD = 5
COMPLEMENTARY_MARK = "x"
ERROR_THRESHOLD = "REPORTS_SUPPRESSION_THRESHOLD must be a whole number of 3 or more (a threshold of 2 would " \
                  "publish every hidden count exactly: \"<2\" can only be 1)."

NOTE = _("Counts from 1 to %(below)d are shown as “<%(threshold)d”. So that they cannot be worked out from the "
         "totals, some other figures are hidden too, shown as “x” (each of those is %(threshold)d or more). Zero "
         "is shown: it identifies no one. A rate or a median is shown only when the counts it is made of are shown "
         "and the count it divides by is at least %(threshold)d.")


def threshold() -> int:
    value = getattr(settings, "REPORTS_SUPPRESSION_THRESHOLD", DEFAULT_THRESHOLD)
    if isinstance(value, bool) or not isinstance(value, int) or value < 3:
        raise ImproperlyConfigured(ERROR_THRESHOLD)
    return value


def note() -> str:
    limit = threshold()
    return str(NOTE) % {"below": limit - 1, "threshold": limit}


@dataclass(frozen=True)
class Figure:
    """A published count (or rate, or median): its value only when it is shown."""

    status: str
    value: int | float | None = None
    threshold: int = DEFAULT_THRESHOLD

    @property
    def shown(self) -> bool:
        return self.status == SHOWN

    @property
    def text(self) -> str:
        """As pages, PDFs and CSV files print it."""
        if self.status == SHOWN:
            return _format(self.value)
        if self.status == PRIMARY:
            return f"<{self.threshold}"
        if self.status == COMPLEMENTARY:
            return COMPLEMENTARY_MARK
        if self.status == NOT_SHOWN:
            return "–"
        return ""

    @property
    def chart_value(self) -> int | float | None:
        """What a chart draws: the value, or nothing (a hidden figure is missing, never zero)."""
        return self.value if self.status == SHOWN else None


def _format(value) -> str:
    if isinstance(value, float):
        return f"{value:.1f}"
    return str(value)


@dataclass
class Grid:
    """A table to publish: ``cells[r][c]`` (counts), and which of its sums it publishes.

    ``row_totals``: each row's cells add up to the row's total (the columns split the row's records, each in
    exactly one column), published in an extra column. ``col_totals``: the same for columns, in an extra row.
    With both, the grand total too. ``keys`` names entries that are the same figure as an entry elsewhere (the
    indicator's grand total, a headline): position ``(r, c)`` of the grid with its totals (``r == rows`` is the
    totals row, ``c == cols`` the totals column) to the key. Other entries get keys of their own.
    """

    id: str
    cells: list[list[int]]
    row_totals: bool = False
    col_totals: bool = False
    keys: dict[tuple[int, int], Hashable] = field(default_factory=dict)
    width: int | None = None  # the number of columns, for a grid without rows

    def __post_init__(self) -> None:
        widths = {len(row) for row in self.cells}
        if len(widths) > 1:
            raise ValueError(f"grid {self.id}: rows of different lengths")
        if any(value < 0 for row in self.cells for value in row):
            raise ValueError(f"grid {self.id}: a negative count")

    @property
    def rows(self) -> int:
        return len(self.cells)

    @property
    def cols(self) -> int:
        return len(self.cells[0]) if self.cells else (self.width or 0)

    def positions(self) -> list[tuple[int, int]]:
        """Every entry: the cells, then the totals the grid publishes."""
        rows, cols = self.rows, self.cols
        found = [(r, c) for r in range(rows) for c in range(cols)]
        if self.row_totals:
            found += [(r, cols) for r in range(rows)]
        if self.col_totals:
            found += [(rows, c) for c in range(cols)]
        if self.row_totals and self.col_totals:
            found.append((rows, cols))
        return found

    def value(self, position: tuple[int, int]) -> int:
        r, c = position
        rows, cols = self.rows, self.cols
        if r < rows and c < cols:
            return self.cells[r][c]
        if r < rows:
            return sum(self.cells[r])
        if c < cols:
            return sum(row[c] for row in self.cells)
        return sum(map(sum, self.cells))

    def key(self, position: tuple[int, int]) -> Hashable:
        return self.keys.get(position, (self.id, position))

    def equations(self, position: tuple[int, int]) -> list[tuple[str, int]]:
        """The sums ``position`` takes part in: ("row", r) and ("col", c), each at most once."""
        r, c = position
        rows, cols = self.rows, self.cols
        found = []
        if self.row_totals and (r < rows or self.col_totals):
            found.append(("row", r))
        if self.col_totals and (c < cols or self.row_totals):
            found.append(("col", c))
        return found

    def sign(self, position: tuple[int, int]) -> int:
        """+1 for cells and the grand total, -1 for row and column totals: with it every sum reads "the signed
        entries of a row (or column) add up to zero", and a certificate alternates +1 and -1 along a cycle."""
        r, c = position
        return -1 if (r == self.rows) != (c == self.cols) else 1


@dataclass
class Cover:
    """Counts of people in parts that overlap but cover a whole: every person of ``total`` is in at least one of
    ``members`` (a quarter's clients, each active in at least one of its months). So the members add up to at
    least the total; they are published alongside it."""

    id: str
    total: Hashable  # the key of the whole, published elsewhere
    members: list[tuple[Hashable, int]]


@dataclass
class Publication:
    threshold: int
    figures: dict[Hashable, Figure]
    withheld: set[str]

    def figure(self, key: Hashable) -> Figure:
        return self.figures[key]

    def grid(self, grid: Grid) -> list[list[Figure]]:
        """The grid's figures with its totals: ``rows + 1`` by ``cols + 1``, None where it publishes no total."""
        out: list[list[Figure | None]] = [[None] * (grid.cols + 1) for _ in range(grid.rows + 1)]
        for position in grid.positions():
            r, c = position
            out[r][c] = (Figure(WITHHELD, threshold=self.threshold) if grid.id in self.withheld
                         else self.figures[grid.key(position)])
        return out

    def rate(self, numerator: Figure, denominator: Figure, *, percent: bool = True) -> Figure:
        return rate(numerator, denominator, threshold=self.threshold, percent=percent)


def rate(numerator: Figure, denominator: Figure, *, threshold: int, percent: bool = True) -> Figure:
    """A rate, shown only when both counts are shown and the denominator is at least the threshold (a rate of a
    hidden count would give the count back: rate times denominator). Otherwise "–"."""
    if not (numerator.shown and denominator.shown) or denominator.value < threshold:
        return Figure(NOT_SHOWN, threshold=threshold)
    value = numerator.value / denominator.value
    return Figure(SHOWN, round(value * 100 if percent else value, 1), threshold=threshold)


def summary(value: float | None, count: Figure, *, threshold: int) -> Figure:
    """A median (or mean) of ``count`` records: shown only when the count is shown and at least the threshold."""
    if value is None or not count.shown or count.value < threshold:
        return Figure(NOT_SHOWN, threshold=threshold)
    return Figure(SHOWN, round(float(value), 1), threshold=threshold)


def publish(*, grids: Iterable[Grid] = (), covers: Iterable[Cover] = (), singles: dict[Hashable, int] | None = None,
            pinned: Iterable[Hashable] = (), limit: int | None = None) -> Publication:
    """Decide what is shown of every entry of ``grids``, ``covers`` and ``singles`` (figures in no sum: a
    headline, a count of overlapping groups). ``pinned``: figures other publications show too (an indicator's
    total: the dashboard's headline is the report's), never hidden as a complement, so that every output that
    shows one shows the same."""
    limit = threshold() if limit is None else limit
    grids, covers = list(grids), list(covers)
    values: dict[Hashable, int] = {}
    in_sums: dict[Hashable, set[str]] = {}

    def note_value(key, value):
        if values.setdefault(key, value) != value:
            raise ValueError(f"{key!r} has two values: {values[key]} and {value}")

    for grid in grids:
        for position in grid.positions():
            key = grid.key(position)
            note_value(key, grid.value(position))
            if grid.equations(position):
                in_sums.setdefault(key, set()).add(grid.id)
    for cover in covers:
        for key, value in cover.members:
            note_value(key, value)
            in_sums.setdefault(key, set()).add(cover.id)
        in_sums.setdefault(cover.total, set()).add(cover.id)
    for key, value in (singles or {}).items():
        note_value(key, value)
    for cover in covers:
        if cover.total not in values:
            raise ValueError(f"cover {cover.id}: its total {cover.total!r} is not published")

    status = {key: PRIMARY if 0 < value < limit else SHOWN for key, value in values.items()}
    linked = {key for key, ids in in_sums.items() if len(ids) > 1}
    # Never hidden as a complement: an entry in the sums of two tables (each could choose differently), and a
    # pinned one.
    shared = linked | set(pinned) | {cover.total for cover in covers}
    withheld: set[str] = set()
    for key in linked:
        if status[key] == PRIMARY:
            withheld |= in_sums[key]

    for grid in grids:
        if grid.id not in withheld:
            if not _protect(grid, values=values, status=status, shared=shared, limit=limit):
                withheld.add(grid.id)
    for cover in covers:
        if cover.id not in withheld:
            if not _protect_cover(cover, status=status, values=values, shared=shared, limit=limit):
                withheld.add(cover.id)
    figures = {key: Figure(status[key], values[key] if status[key] == SHOWN else None, threshold=limit)
               for key in values}
    # A withheld table's own entries are not published at all (a shared entry keeps its status: it is published
    # elsewhere, as a headline).
    for grid in grids:
        if grid.id in withheld:
            for position in grid.positions():
                key = grid.key(position)
                if key not in shared and len(in_sums.get(key, ())) <= 1 and key not in (singles or {}):
                    figures[key] = Figure(WITHHELD, threshold=limit)
    for cover in covers:
        if cover.id in withheld:
            for key, _value in cover.members:
                figures[key] = Figure(WITHHELD, threshold=limit)
    return Publication(threshold=limit, figures=figures, withheld=withheld)


# The search for certificates ---------------------------------------------------------------------------------

FREE = ("free",)  # every end of an entry that takes part in no sum: no balance to keep there
_BIG = 10**12  # the cost of hiding an entry equal to the threshold (its "x" would say exactly how much it is)


def _bounds(value_status: str, limit: int) -> tuple[int, float]:
    return (1, limit - 1) if value_status == PRIMARY else (limit, float("inf"))


def _protect(grid: Grid, *, values, status, shared, limit: int) -> bool:
    """Hide complements in ``grid`` until every hidden entry has a certificate; False when that is impossible
    (the grid is then withheld)."""
    positions = grid.positions()
    ends = {p: _ends(grid, p) for p in positions}
    by_node: dict[tuple, list[tuple[int, int]]] = {}
    for p in positions:
        for node in ends[p]:
            if node != FREE:
                by_node.setdefault(node, []).append(p)

    def hidden(p) -> bool:
        return status[grid.key(p)] != SHOWN

    def candidate(p) -> bool:
        key = grid.key(p)
        return status[key] == SHOWN and values[key] > 0 and key not in shared

    certified: set[tuple[int, int]] = set()
    while True:
        target = next((p for p in positions if hidden(p) and p not in certified
                       and not _certify(grid, p, ends, by_node, hidden, values, status, limit, certified)), None)
        if target is None:
            return True
        walk = _search(grid, target, ends, by_node, hidden, candidate, values, status, limit)
        if walk is not None:
            for p in walk:
                if not hidden(p):
                    status[grid.key(p)] = COMPLEMENTARY
            continue
        # No certificate even with new complements along one cycle: hide the smallest candidate that shares a sum
        # with the target (or any candidate), and look again.
        near = [p for node in ends[target] if node != FREE for p in by_node[node] if candidate(p)]
        pool = near or [p for p in positions if candidate(p)]
        if not pool:
            return False
        chosen = min(pool, key=lambda p: (values[grid.key(p)] == limit, values[grid.key(p)], p))
        status[grid.key(chosen)] = COMPLEMENTARY


def _ends(grid: Grid, position) -> tuple[tuple, tuple]:
    equations = grid.equations(position)
    nodes = [("row", position[0]) if ("row", position[0]) in equations else FREE,
             ("col", position[1]) if ("col", position[1]) in equations else FREE]
    return nodes[0], nodes[1]


def _step_ok(grid, p, sign, values, status, limit, *, as_candidate=False) -> bool:
    """Entry ``p`` may move by ``sign`` (in signed terms) and stay within what a reader knows of it."""
    value = values[grid.key(p)]
    low, high = _bounds(COMPLEMENTARY if as_candidate else status[grid.key(p)], limit)
    moved = value + grid.sign(p) * sign
    return low <= moved <= high


def _certify(grid, target, ends, by_node, hidden, values, status, limit, certified) -> bool:
    """Whether ``target`` has a certificate over hidden entries alone; every entry of the one found has one too.
    (A certificate stays one when more entries are hidden later: the entries it moves keep their bounds.)"""
    walk = _search(grid, target, ends, by_node, hidden, lambda p: False, values, status, limit)
    if walk is None:
        return False
    certified.update(walk)
    return True


def _search(grid, target, ends, by_node, hidden, candidate, values, status, limit):
    """The cheapest closed alternating walk through ``target`` over hidden entries (free) and candidates (their
    value), checked as a perturbation; the entries it uses, or None."""
    start_a, start_b = ends[target]
    if start_a == FREE and start_b == FREE:
        ok = _step_ok(grid, target, 1, values, status, limit) or _step_ok(grid, target, -1, values, status, limit)
        return [target] if ok else None
    best = None
    for first_sign in (1, -1):
        if not _step_ok(grid, target, first_sign, values, status, limit):
            continue
        for origin, there in ((start_a, start_b), (start_b, start_a)):
            walk = _dijkstra(grid, target, origin, there, first_sign, ends, by_node, hidden, candidate, values,
                             status, limit)
            if walk is None:
                continue
            cost, entries = walk
            if best is None or cost < best[0]:
                best = (cost, entries)
    return best[1] if best is not None else None


def _dijkstra(grid, target, origin, there, first_sign, ends, by_node, hidden, candidate, values, status, limit):
    """From ``there`` (after ``target`` moved by ``first_sign`` from ``origin``) back to ``origin``, alternating
    signs at every sum, or through a free end when ``origin`` is free."""
    counter = itertools.count()

    def usable(p, sign) -> int | None:
        if p == target:
            return None
        if hidden(p):
            return 0 if _step_ok(grid, p, sign, values, status, limit) else None
        if candidate(p) and _step_ok(grid, p, sign, values, status, limit, as_candidate=True):
            value = values[grid.key(p)]
            return value + (_BIG if value == limit else 0)
        return None

    start_state = (there, -first_sign if there != FREE else None)
    queue = [(0, next(counter), start_state, ((target, first_sign),))]
    settled = set()
    while queue:
        cost, _tick, state, walk = heapq.heappop(queue)
        node, need = state
        if node == origin and len(walk) > 1 and (origin == FREE or walk[-1][1] == -first_sign):
            if _valid(grid, target, walk, ends, values, status, limit, candidate_of=lambda p: not hidden(p)):
                return cost, [p for p, _sign in walk]
            continue
        if state in settled:
            continue
        settled.add(state)
        if node == FREE:
            neighbours = [(p, sign) for p in _free_entries(ends) for sign in (1, -1)]
        else:
            neighbours = [(p, need) for p in by_node.get(node, ())]
        for p, sign in neighbours:
            step = usable(p, sign)
            if step is None or any(q == p for q, _s in walk):
                continue
            a, b = ends[p]
            other = b if a == node else a
            if node == FREE and FREE not in (a, b):
                continue
            if node == FREE:
                other = b if a == FREE else a
            next_need = -sign if other != FREE else None
            heapq.heappush(queue, (cost + step, next(counter), (other, next_need), (*walk, (p, sign))))
    return None


def _free_entries(ends) -> list:
    return [p for p, (a, b) in ends.items() if FREE in (a, b)]


def _valid(grid, target, walk, ends, values, status, limit, *, candidate_of) -> bool:
    """The walk, as a perturbation of the entries it uses, keeps every sum and every bound."""
    delta: dict[tuple[int, int], int] = {}
    for p, sign in walk:
        delta[p] = delta.get(p, 0) + sign
    if delta.get(target, 0) == 0:
        return False
    balance: dict[tuple, int] = {}
    for p, d in delta.items():
        for node in ends[p]:
            if node != FREE:
                balance[node] = balance.get(node, 0) + d
        key_status = COMPLEMENTARY if candidate_of(p) else status[grid.key(p)]
        low, high = _bounds(key_status, limit)
        if not low <= values[grid.key(p)] + grid.sign(p) * d <= high:
            return False
    return all(total == 0 for total in balance.values())


def _protect_cover(cover: Cover, *, status, values, shared, limit: int) -> bool:
    """The members cover the total (sum >= total): a hidden member is pinned when the others, at their largest,
    leave it no room below its own largest value. Hide the smallest shown member until none is."""
    if status[cover.total] != SHOWN:
        return all(status[key] != SHOWN or values[key] == 0 for key, _v in cover.members)
    total = values[cover.total]
    while True:
        hidden = [key for key, _v in cover.members if status[key] != SHOWN]
        if not hidden or any(status[key] == COMPLEMENTARY for key in hidden):
            return True
        room = sum(values[key] for key, _v in cover.members if status[key] == SHOWN) + (limit - 1) * len(hidden)
        if room > total:
            return True
        pool = [key for key, value in cover.members if status[key] == SHOWN and value > 0 and key not in shared]
        if not pool:
            return False
        status[min(pool, key=lambda key: (values[key] == limit, values[key]))] = COMPLEMENTARY
