"""What a reader who knows the suppression rule can work out from a published table: for every hidden entry, the
smallest and largest value consistent with every published sum and bound, by exact linear programming (Fractions,
two-phase simplex with Bland's rule). Tables with their margins have totally unimodular constraints, so these
bounds are the integer bounds too: a hidden entry is recovered exactly when its two bounds meet."""

from __future__ import annotations

from fractions import Fraction

INF = float("inf")


def simplex_min(c, rows, rhs, lower, upper):
    """min c.x subject to rows.x = rhs, lower <= x <= upper (upper may be INF). None when infeasible."""
    n = len(c)
    shift = [Fraction(v) for v in lower]
    # y = x - lower >= 0; y_j + s_j = upper_j - lower_j for finite upper bounds.
    cons = []
    for row, value in zip(rows, rhs, strict=True):
        cons.append(([Fraction(a) for a in row], Fraction(value) - sum(Fraction(a) * s for a, s in zip(row, shift,
                                                                                                      strict=True))))
    slacks = [j for j in range(n) if upper[j] != INF]
    width = n + len(slacks)
    table = []
    for row, value in cons:
        table.append([*row, *([Fraction(0)] * len(slacks)), value])
    for k, j in enumerate(slacks):
        row = [Fraction(0)] * width
        row[j] = Fraction(1)
        row[n + k] = Fraction(1)
        table.append([*row, Fraction(upper[j]) - shift[j]])
    for row in table:
        if row[-1] < 0:
            row[:] = [-v for v in row]
    m = len(table)
    # Phase one: artificial variables.
    total = width + m
    tab = [[*row[:-1], *[Fraction(1 if i == k else 0) for k in range(m)], row[-1]] for i, row in enumerate(table)]
    basis = [width + i for i in range(m)]
    cost = [Fraction(0)] * width + [Fraction(1)] * m
    if not _run(tab, basis, cost, total):
        return None
    if _objective(tab, basis, cost) != 0:
        return None
    # Drive artificial variables out of the basis where possible.
    for i, var in enumerate(basis):
        if var >= width:
            pivot = next((j for j in range(width) if tab[i][j] != 0), None)
            if pivot is not None:
                _pivot(tab, basis, i, pivot)
    keep = [i for i, var in enumerate(basis) if var < width]
    tab = [[*tab[i][:width], tab[i][-1]] for i in keep]
    basis = [basis[i] for i in keep]
    cost2 = [Fraction(v) for v in c] + [Fraction(0)] * len(slacks)
    if not _run(tab, basis, cost2, width):
        return -INF
    return _objective(tab, basis, cost2) + sum(Fraction(v) * s for v, s in zip(c, shift, strict=True))


def _objective(tab, basis, cost):
    return sum(cost[var] * tab[i][-1] for i, var in enumerate(basis))


def _pivot(tab, basis, row, col):
    factor = tab[row][col]
    tab[row] = [v / factor for v in tab[row]]
    for i in range(len(tab)):
        if i != row and tab[i][col] != 0:
            f = tab[i][col]
            tab[i] = [a - f * b for a, b in zip(tab[i], tab[row], strict=True)]
    basis[row] = col


def _run(tab, basis, cost, width) -> bool:
    """Minimise; False when unbounded."""
    while True:
        reduced = []
        for j in range(width):
            if j in basis:
                continue
            value = cost[j] - sum(cost[var] * tab[i][j] for i, var in enumerate(basis))
            if value < 0:
                reduced.append(j)
        if not reduced:
            return True
        col = min(reduced)  # Bland
        ratios = [(tab[i][-1] / tab[i][col], basis[i], i) for i in range(len(tab)) if tab[i][col] > 0]
        if not ratios:
            return False
        _ratio, _var, row = min(ratios)
        _pivot(tab, basis, row, col)


def hidden_ranges(grid, publication, threshold):
    """{position: (low, high)} for every hidden entry of ``grid``, from what ``publication`` shows of it."""
    from reports.suppression import COMPLEMENTARY, PRIMARY, SHOWN

    positions = grid.positions()
    status = {p: publication.figures[grid.key(p)].status for p in positions}
    unknown = [p for p in positions if status[p] in (PRIMARY, COMPLEMENTARY)]
    index = {p: i for i, p in enumerate(unknown)}
    known = {p: publication.figures[grid.key(p)].value for p in positions if status[p] == SHOWN}
    equations: dict[tuple, list] = {}
    for p in positions:
        for node in grid.equations(p):
            equations.setdefault(node, []).append(p)
    rows, rhs = [], []
    for members in equations.values():
        row = [0] * len(unknown)
        value = 0
        for p in members:
            coefficient = -1 if grid.sign(p) == -1 else 1  # totals on the other side of their sum
            if p in index:
                row[index[p]] += coefficient
            else:
                value -= coefficient * known[p]
        if any(row):
            rows.append(row)
            rhs.append(value)
    lower = [1 if status[p] == PRIMARY else threshold for p in unknown]
    upper = [threshold - 1 if status[p] == PRIMARY else INF for p in unknown]
    ranges = {}
    for p in unknown:
        c = [0] * len(unknown)
        c[index[p]] = 1
        low = simplex_min(c, rows, rhs, lower, upper)
        c[index[p]] = -1
        high = simplex_min(c, rows, rhs, lower, upper)
        ranges[p] = (low, -high if high is not None else None)
    return ranges
