"""Match each spoken figure against the evidence: exact, rounded, derived, or not found.

For a figure said as ``v`` at precision ``unit`` the candidates are ``v`` itself, ``v/100``
when it was a percentage (the data may hold a fraction) and ``v`` in thousands, millions
or billions when a scale word was said (a column kept in millions). Then, in order:

* ``exact``: an evidence value equal to a candidate;
* ``rounded``: an evidence value equal to a candidate at the precision spoken: within half
  a unit, or a whole unit on the hedge's side ("more than 3,000": above, "nearly 20%":
  below);
* ``derived``: a difference, ratio, percent change or share of two evidence values of one
  group (a result's column or row, a summary column), rounded as spoken; percentages
  match percent changes and shares, other figures differences and ratios;
* ``not found``.

Signs are not compared (a reply says "fell 3%" for -3%). The answer's own turn is searched
first (all kinds), then the two turns before, then the summary: a figure the turn's own
result supports is credited to it. Ties go to the closest value, then the earlier one. Derived figures are bounded: at most ``GROUP_CAP`` values of
each group and ``PAIR_CAP`` ordered pairs per answer, computed once per answer with
numpy and searched by bisection, so an answer with 20 figures against 1,000 cells stays
within a few milliseconds (``bench/bench_figures.py``).

Pure functions; any thread.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np

from livechat.conversation.figures.evidence import Evidence
from livechat.conversation.figures.spoken import Spoken

__all__ = ["GROUP_CAP", "PAIR_CAP", "Kind", "Mark", "EvidenceIndex", "match_figures"]

Kind = Literal["exact", "rounded", "derived", "not found"]
GROUP_CAP = 16
PAIRED_ITEMS = 400  # only the first (highest-priority) evidence is paired: a result's top rows
PAIR_CAP = 4_000
_SCALE_NAMES = ((1e3, "thousands"), (1e6, "millions"), (1e9, "billions"))
_DIFF, _RATIO, _SHARE, _CHANGE = 0, 1, 2, 3
# Evidence ranks searched together, in order: the answer's own turn, the two before, the summary.
RANK_TIERS = (range(0, 1), range(1, 3), range(3, 4))


@dataclass(frozen=True)
class Mark:
    """One checked figure: where it is in the reply, how it matched, and its source."""

    text: str
    start: int
    end: int
    kind: Kind
    source: str | None = None  # "run_sql row 1, total"; "percent change from … to …"
    value: float | None = None  # the evidence (or derived) value it matched

    @property
    def found(self) -> bool:
        return self.kind != "not found"


@dataclass(frozen=True)
class _Candidate:
    value: float
    unit: float
    percent_units: bool  # the value is in percent (a percent change or share matches)
    note: str  # "", "as a fraction", "in millions"


class EvidenceIndex:
    """Evidence sorted by magnitude, with its bounded derived values, for one answer."""

    def __init__(self, items: Sequence[Evidence]) -> None:
        self.items = list(items)
        magnitudes = np.abs(np.array([e.value for e in self.items], dtype=float))
        self._order = np.argsort(magnitudes)
        self._sorted = magnitudes[self._order]
        self._derived: tuple[np.ndarray, ...] | None = None

    def between(self, low: float, high: float) -> list[int]:
        """Indices of evidence whose magnitude lies in [low, high], in priority order."""
        a = np.searchsorted(self._sorted, low, side="left")
        b = np.searchsorted(self._sorted, high, side="right")
        return sorted(int(i) for i in self._order[a:b])

    def derived_between(self, low: float, high: float, percent: bool) -> list[tuple[int, int, int, float]]:
        """(op, i, j, value) of derived values in [low, high] of the percent or plain kind."""
        values, ops, left, right = self._derived_arrays(percent)
        a = np.searchsorted(values, low, side="left")
        b = np.searchsorted(values, high, side="right")
        return [(int(ops[k]), int(left[k]), int(right[k]), float(values[k])) for k in range(a, b)]

    def _derived_arrays(self, percent: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        if self._derived is None:
            self._derived = _derive(self.items)
        plain_v, plain_op, plain_i, plain_j, pct_v, pct_op, pct_i, pct_j = self._derived
        if percent:
            return pct_v, pct_op, pct_i, pct_j
        return plain_v, plain_op, plain_i, plain_j


def _pairs(items: Sequence[Evidence]) -> tuple[np.ndarray, np.ndarray]:
    """Ordered pairs (i, j), i != j, of evidence sharing a group: the first PAIRED_ITEMS
    items, at most GROUP_CAP values a group, PAIR_CAP pairs in all, in priority order."""
    groups: dict[str, list[int]] = {}
    for index, item in enumerate(items[:PAIRED_ITEMS]):
        for group in item.groups:
            members = groups.setdefault(group, [])
            if len(members) < GROUP_CAP:
                members.append(index)
    lefts, rights, total = [], [], 0
    for members in groups.values():
        if len(members) < 2 or total >= PAIR_CAP:
            continue
        m = np.array(members)
        i, j = np.meshgrid(m, m, indexing="ij")
        keep = i != j
        i, j = i[keep], j[keep]
        room = PAIR_CAP - total
        lefts.append(i[:room])
        rights.append(j[:room])
        total += min(len(i), room)
    if not lefts:
        empty = np.zeros(0, dtype=int)
        return empty, empty
    return np.concatenate(lefts), np.concatenate(rights)


def _derive(items: Sequence[Evidence]) -> tuple[np.ndarray, ...]:
    """Sorted derived magnitudes: plain (difference, ratio >= 1) and percent (change, share)."""
    left, right = _pairs(items)
    values = np.array([e.value for e in items], dtype=float)
    a, b = values[left] if len(left) else np.zeros(0), values[right] if len(right) else np.zeros(0)
    usable = (a != b) & (b != 0)
    a, b, left, right = a[usable], b[usable], left[usable], right[usable]
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.abs(a / b)
        change = np.abs((a - b) / b) * 100.0
    forward = left < right  # a difference once per unordered pair
    plain_v = np.concatenate([np.abs(a - b)[forward], ratio[ratio >= 1]])
    plain_op = np.concatenate([np.full(forward.sum(), _DIFF), np.full((ratio >= 1).sum(), _RATIO)])
    plain_i = np.concatenate([left[forward], left[ratio >= 1]])
    plain_j = np.concatenate([right[forward], right[ratio >= 1]])
    share = ratio < 1
    pct_v = np.concatenate([change, ratio[share] * 100.0])
    pct_op = np.concatenate([np.full(len(change), _CHANGE), np.full(share.sum(), _SHARE)])
    pct_i = np.concatenate([left, left[share]])
    pct_j = np.concatenate([right, right[share]])
    out = []
    for v, op, i, j in ((plain_v, plain_op, plain_i, plain_j), (pct_v, pct_op, pct_i, pct_j)):
        order = np.argsort(v)  # ties need no order: the closest value wins
        out += [v[order], op[order], i[order], j[order]]
    return tuple(out)


def _candidates(figure: Spoken) -> list[_Candidate]:
    value, unit = abs(figure.value), figure.unit
    out = [_Candidate(value, unit, figure.percent, "")]
    if figure.percent:
        out.append(_Candidate(value / 100.0, unit / 100.0, False, "as a fraction"))
    for scale, name in _SCALE_NAMES:
        if scale <= figure.scale:
            out.append(_Candidate(value / scale, unit / scale, False, f"in {name}"))
    return out


def _window(candidate: _Candidate, hedge: str | None) -> tuple[float, float]:
    c, u = candidate.value, candidate.unit
    slack = 1e-9 * max(1.0, c)  # float noise: 0.1 + 0.2
    if hedge == "over":
        return c - slack, c + u + slack
    if hedge == "under":
        return c - u - slack, c + slack
    return c - u / 2 - slack, c + u / 2 + slack


def _pick(index: EvidenceIndex, hits: list[int], target: float) -> int:
    """The best of several hits: the closest, then the first."""
    return min(hits, key=lambda k: (abs(abs(index.items[k].value) - target), k))


def _with_note(source: str, note: str) -> str:
    return f"{source}, {note}" if note else source


def _describe(op: int, a: Evidence, b: Evidence) -> str:
    if op == _DIFF:
        return f"difference of {a.source} and {b.source}"
    if op == _RATIO:
        return f"ratio of {a.source} to {b.source}"
    if op == _SHARE:
        return f"share of {a.source} in {b.source}"
    return f"percent change from {b.source} to {a.source}"


def _direct(figure: Spoken, index: EvidenceIndex, candidates: list[_Candidate], ranks: range) -> Mark | None:
    """An exact match among ``candidates`` in evidence of ``ranks``, else a rounded one, else None."""
    base = dict(text=figure.text, start=figure.start, end=figure.end)
    for candidate in candidates:
        slack = 1e-9 * max(1.0, candidate.value)
        hits = [k for k in index.between(candidate.value - slack, candidate.value + slack)
                if index.items[k].rank in ranks]
        if hits:
            best = _pick(index, hits, candidate.value)
            return Mark(**base, kind="exact", source=_with_note(index.items[best].source, candidate.note),
                        value=index.items[best].value)
    for candidate in candidates:
        hits = [k for k in index.between(*_window(candidate, figure.hedge)) if index.items[k].rank in ranks]
        if hits:
            best = _pick(index, hits, candidate.value)
            return Mark(**base, kind="rounded", source=_with_note(index.items[best].source, candidate.note),
                        value=index.items[best].value)
    return None


def _derived(figure: Spoken, index: EvidenceIndex, candidates: list[_Candidate], ranks: range) -> Mark | None:
    for candidate in candidates:
        found = [d for d in index.derived_between(*_window(candidate, figure.hedge), percent=candidate.percent_units)
                 if index.items[d[1]].rank in ranks]
        if found:
            op, i, j, value = min(found, key=lambda d: abs(d[3] - candidate.value))
            return Mark(text=figure.text, start=figure.start, end=figure.end, kind="derived",
                        source=_describe(op, index.items[i], index.items[j]), value=value)
    return None


def match_one(figure: Spoken, index: EvidenceIndex) -> Mark:
    """The best support for one figure in ``index``.

    The answer's own turn first, then the two turns before, then the summary (what the
    model most likely used); within each, the figure as said (a percentage also as a
    fraction) exact then rounded, then in another scale ("1.2 million" as 1.2 in
    millions), then derived from two values."""
    candidates = _candidates(figure)
    as_said = [c for c in candidates if not c.note.startswith("in ")]
    rescaled = [c for c in candidates if c.note.startswith("in ")]
    for ranks in RANK_TIERS:
        mark = (_direct(figure, index, as_said, ranks) or (_direct(figure, index, rescaled, ranks) if rescaled else None)
                or _derived(figure, index, as_said, ranks))
        if mark is not None:
            return mark
    return Mark(text=figure.text, start=figure.start, end=figure.end, kind="not found")


def match_figures(figures: Sequence[Spoken], evidence: Sequence[Evidence]) -> list[Mark]:
    """A mark for each figure, in order."""
    if not figures:
        return []
    index = EvidenceIndex(evidence)
    return [match_one(figure, index) for figure in figures]
