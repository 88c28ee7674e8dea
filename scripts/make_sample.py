#!/usr/bin/env python3
"""Write the bundled sample dataset, livechat/data/assets/lighthouse_logs.csv.

A nightly log of eight lighthouses over 2023-2024: who kept the light, the weather,
whether it was a storm night, instrument readings, lamp hours, fuel burned, and the
odd incident note. About 3,000 rows (nightly pages that survived transcription).

Deterministic: the only randomness is `random.Random(SEED).random()`, whose output
Python guarantees across versions; everything else is plain arithmetic, and floats
are written rounded. Re-running produces the same bytes (tests/unit/test_sample.py).

Plausible structure an analyst can find: storms and gales cluster in winter, fog in
spring and summer; wave height follows wind; lamp hours follow the length of the
night, and fuel follows lamp hours (plus the fog signal and storm watches); fewer
ships are sighted in bad weather. storm_night is true on gale or storm nights
(wind of 34 knots or more, Beaufort 8+); "storm" weather means 45 knots or more.

Usage: .venv/bin/python scripts/make_sample.py [--out PATH]
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import math
import random
from pathlib import Path

SEED = 1852
START = dt.date(2023, 1, 1)
END = dt.date(2024, 12, 31)
KEEP_PAGE = 0.52  # share of nightly pages that survived -> about 3,000 rows
DEFAULT_OUT = Path(__file__).resolve().parents[1] / "livechat" / "data" / "assets" / "lighthouse_logs.csv"

# name, code, region, exposure (extra knots), lamp fuel litres/hour, ships per night
LIGHTHOUSES = (
    ("Skerrow Head", "SKH", "North Coast", 6.0, 2.9, 3.0),
    ("Gannet Rock", "GNR", "North Coast", 9.0, 2.4, 2.0),
    ("Black Ness", "BLN", "East Firth", 1.0, 3.3, 8.0),
    ("St. Brannock's", "STB", "East Firth", 0.0, 2.7, 6.5),
    ("Carrick Mhor", "CMH", "West Isles", 7.0, 2.2, 2.5),
    ("Rona Sound", "RNS", "West Isles", 4.0, 2.6, 4.0),
    ("Hollow Point", "HLP", "South Approaches", 2.0, 3.1, 9.0),
    ("Wrecker's Tor", "WRT", "South Approaches", 5.0, 2.8, 5.5),
)
# Two principal keepers per light (alternating fortnights); a relief keeper covers
# any light now and then.
KEEPERS = {
    "SKH": ("Agnes Mure", "Hamish Gow"),
    "GNR": ("Callum Rae", "Iona MacLeod"),
    "BLN": ("Duncan Leask", "Martha Quill"),
    "STB": ("Samuel Pike", "Ruth Abernethy"),
    "CMH": ("Peggy Nance", "Tobias Crane"),
    "RNS": ("Wilhelmina Stroud", "Iona MacLeod"),
    "HLP": ("Elsie Trewin", "Jonah Penrose"),
    "WRT": ("Maud Fairweather", "Jonah Penrose"),
}
RELIEF_KEEPERS = ("Ezra Tulloch", "Ada Lindqvist")
RELIEF_SHARE = 0.06

INCIDENTS = {
    "storm": (
        "Lantern glazing cracked by spray",
        "Vessel in distress reported to coastguard",
        "Power failure; ran on backup lamp",
        "Landing stage damaged",
        "Fog signal sounded during squalls",
        "Keeper stood watch all night",
    ),
    "gale": (
        "Loose shutter secured",
        "Vessel reported dragging anchor",
        "Aerial damaged by wind",
        "Spray over the gallery",
    ),
    "fog": (
        "Fog signal sounded {hours} h",
        "Fishing boat hailed off the rocks",
        "Fog signal compressor restarted",
    ),
    "any": (
        "Lamp mantle replaced",
        "Lens cleaned after gull strike",
        "Relief boat delayed",
        "Clockwork rotation slowed; rewound",
        "Supply delivery received",
        "Inspector's visit",
    ),
}

COLUMNS = (
    "log_id",
    "date",
    "lighthouse",
    "region",
    "keeper",
    "weather",
    "storm_night",
    "wind_knots",
    "visibility_nm",
    "wave_height_m",
    "ships_sighted",
    "lamp_hours",
    "fuel_litres",
    "incident",
)


class _Rng:
    """Distributions built only on random.random() (stable across Python versions)."""

    def __init__(self, seed: int) -> None:
        self._r = random.Random(seed)

    def uniform(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * self._r.random()

    def chance(self, p: float) -> bool:
        return self._r.random() < p

    def normal(self, mean: float, sd: float) -> float:
        u1 = 1.0 - self._r.random()  # (0, 1]: log is finite
        u2 = self._r.random()
        return mean + sd * math.sqrt(-2.0 * math.log(u1)) * math.cos(2.0 * math.pi * u2)

    def poisson(self, lam: float) -> int:
        # Inversion: fine for the small rates used here.
        k, p = 0, math.exp(-lam)
        cumulative, u = p, self._r.random()
        while u > cumulative and k < 200:
            k += 1
            p *= lam / k
            cumulative += p
        return k

    def pick(self, items: tuple[str, ...]) -> str:
        return items[min(int(self._r.random() * len(items)), len(items) - 1)]

    def weighted(self, weights: dict[str, float]) -> str:
        total = sum(weights.values())
        u, acc = self._r.random() * total, 0.0
        for key, weight in weights.items():
            acc += weight
            if u < acc:
                return key
        return key


def _winterness(day: dt.date) -> float:
    """1.0 in mid-January, -1.0 in mid-July."""
    return math.cos(2.0 * math.pi * (day.timetuple().tm_yday - 15) / 365.25)


def _night_hours(day: dt.date) -> float:
    """Hours of darkness at about 57° N: ~17.5 h at midwinter, ~6.5 h at midsummer."""
    return 12.0 + 5.5 * math.cos(2.0 * math.pi * (day.timetuple().tm_yday + 10) / 365.25)


def _calm_weather(rng: _Rng, winter: float) -> str:
    return rng.weighted(
        {
            "clear": 3.0 - 0.8 * winter,
            "overcast": 3.0,
            "rain": 2.0 + 1.2 * winter,
            "drizzle": 1.2,
            "fog": 1.2 - 0.7 * winter,
        }
    )


def _visibility(rng: _Rng, weather: str) -> float:
    lo, hi = {
        "clear": (12.0, 25.0),
        "overcast": (8.0, 18.0),
        "rain": (3.0, 10.0),
        "drizzle": (4.0, 10.0),
        "fog": (0.1, 1.5),
        "gale": (2.0, 8.0),
        "storm": (0.5, 4.0),
    }[weather]
    return rng.uniform(lo, hi)


def _incident(rng: _Rng, weather: str) -> str:
    p = {"storm": 0.35, "gale": 0.15, "fog": 0.12}.get(weather, 0.025)
    if not rng.chance(p):
        return ""
    pool = INCIDENTS.get(weather, INCIDENTS["any"])
    if weather in INCIDENTS and rng.chance(0.25):
        pool = INCIDENTS["any"]
    return rng.pick(pool).format(hours=int(rng.uniform(2, 9)))


def _fmt(value: float | None) -> str:
    return "" if value is None else f"{value:.1f}"


def build_rows(seed: int = SEED) -> list[dict[str, str]]:
    """All log rows, as the strings written to the CSV."""
    rng = _Rng(seed)
    rows: list[dict[str, str]] = []
    day = START
    while day <= END:
        winter = _winterness(day)
        # One weather system per region per night, so neighbouring lights agree.
        systems: dict[str, float] = {}
        for region in dict.fromkeys(light[2] for light in LIGHTHOUSES):
            systems[region] = max(0.0, rng.normal(15.0 + 9.0 * winter, 9.0))
        for name, code, region, exposure, fuel_rate, ships_base in LIGHTHOUSES:
            if not rng.chance(KEEP_PAGE):
                continue
            wind = max(0.0, systems[region] + exposure + rng.normal(0.0, 3.0))
            if wind >= 45.0:
                weather = "storm"
            elif wind >= 34.0:
                weather = "gale"
            else:
                weather = _calm_weather(rng, winter)
            storm_night = wind >= 34.0
            fortnight = (day - START).days // 14
            keeper = KEEPERS[code][fortnight % 2]
            if rng.chance(RELIEF_SHARE):
                keeper = rng.pick(RELIEF_KEEPERS)
            lamp = _night_hours(day) + (0.6 if weather in ("fog", "storm") else 0.0)
            lamp = max(5.0, lamp + rng.normal(0.0, 0.25))
            fuel = lamp * fuel_rate + rng.normal(0.0, 1.5)
            if weather == "fog":
                fuel += rng.uniform(6.0, 15.0)  # fog signal engine
            elif storm_night:
                fuel += rng.uniform(3.0, 8.0)  # watch lamps and generator
            waves = max(0.2, 0.3 + wind * wind / 250.0 + rng.normal(0.0, 0.4))
            ship_rate = ships_base * (1.0 - 0.3 * winter) * {
                "storm": 0.2,
                "gale": 0.5,
                "fog": 0.5,
            }.get(weather, 1.0)
            ships = rng.poisson(max(0.05, ship_rate))
            incident = _incident(rng, weather)
            rows.append(
                {
                    "log_id": f"{code}-{day:%Y%m%d}",
                    "date": day.isoformat(),
                    "lighthouse": name,
                    "region": region,
                    "keeper": keeper,
                    "weather": weather,
                    "storm_night": "true" if storm_night else "false",
                    # Gaps: anemometer faults, a wave buoy out of service, pages
                    # with smudged entries.
                    "wind_knots": "" if rng.chance(0.015) else str(round(wind)),
                    "visibility_nm": "" if rng.chance(0.02) else _fmt(_visibility(rng, weather)),
                    "wave_height_m": "" if rng.chance(0.03) else _fmt(waves),
                    "ships_sighted": "" if rng.chance(0.01) else str(ships),
                    "lamp_hours": _fmt(lamp),
                    "fuel_litres": "" if rng.chance(0.01) else _fmt(fuel),
                    "incident": incident,
                }
            )
        day += dt.timedelta(days=1)
    return rows


def render_csv(rows: list[dict[str, str]]) -> bytes:
    """The CSV bytes: UTF-8, LF line endings, minimal quoting."""
    out = io.StringIO(newline="")
    writer = csv.DictWriter(out, fieldnames=COLUMNS, lineterminator="\n")
    writer.writeheader()
    writer.writerows(rows)
    return out.getvalue().encode("utf-8")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT, help="where to write the CSV")
    args = parser.parse_args(argv)
    data = render_csv(build_rows())
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_bytes(data)
    print(f"wrote {args.out} ({len(data):,} bytes)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
