"""Cron expressions of `retrain scheduled "CRON"`: what every target accepts, and how
often a schedule fires.

Accepted: five fields (minute hour day-of-month month day-of-week) of `*`, `?` (day
fields), numbers, `a-b` ranges, `/n` steps (`*/n`, `a-b/n`, `a/n`), `,` lists, month
and weekday names (`JAN`, `MON`; any case), and the presets `@yearly`, `@annually`,
`@monthly`, `@weekly`, `@daily`, `@midnight`, `@hourly`. That is the part of cron that
Airflow's scheduler and Argo's CronWorkflow both read the same way; extensions of one
of them (`L`, `W`, `#`, a seconds field, `@every`) are refused rather than compiled
into a file the other target rejects. Sunday is 0 (`7` is not accepted everywhere).

Days follow the classic rule both targets use: when both day fields are restricted
(neither starts with `*` or `?`), a day matches when either does; otherwise both must.
A stepped star (`*/n`) in one day field beside a restricted other one is refused: cron
implementations disagree on it (classic cron reads the star, so both fields must match;
Airflow's parser reads it as restricted, so either may, and Argo's does too for n > 1),
and `1-31/2` says "either" in every one of them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

PRESETS = {
    "@yearly": "0 0 1 1 *", "@annually": "0 0 1 1 *", "@monthly": "0 0 1 * *",
    "@weekly": "0 0 * * 0", "@daily": "0 0 * * *", "@midnight": "0 0 * * *",
    "@hourly": "0 * * * *",
}
MONTHS = ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
WEEKDAYS = ("SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT")
# (name, lowest, highest, names for lowest, lowest + 1, ...)
FIELDS = (
    ("minute", 0, 59, ()), ("hour", 0, 23, ()), ("day of month", 1, 31, ()),
    ("month", 1, 12, MONTHS), ("day of week", 0, 6, WEEKDAYS),
)
# Firing days are looked for over this many days from START: a February 29 schedule
# fires twice within eight years.
SEARCH_DAYS = 8 * 366
START = dt.date(2026, 1, 1)


class CronError(ValueError):
    """Not a cron expression every target accepts; the message says which part."""


@dataclass(frozen=True)
class Schedule:
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    days_restricted: bool
    weekdays_restricted: bool

    def fires_on(self, day: dt.date) -> bool:
        if day.month not in self.months:
            return False
        by_day = day.day in self.days
        by_weekday = day.isoweekday() % 7 in self.weekdays
        if self.days_restricted and self.weekdays_restricted:
            return by_day or by_weekday
        return by_day and by_weekday


def parse(expression: str) -> Schedule:
    text = PRESETS.get(expression, expression)
    parts = text.split()
    if len(parts) != 5:
        raise CronError(f"a cron expression has 5 fields (minute hour day month weekday), "
                        f"this one has {len(parts)}")
    values = [_field(part, *spec) for part, spec in zip(parts, FIELDS, strict=True)]
    _refuse_stepped_star_days(parts[2], parts[4])
    return Schedule(*values, not _unrestricted(parts[2]), not _unrestricted(parts[4]))


def preset_meant(expression: str) -> str | None:
    """The fix for a preset written without its `@` or in another case (`daily`,
    `@Hourly`): 'did you mean "@daily"?'. None when the text names no preset."""
    preset = "@" + expression.strip().lstrip("@").lower()
    if preset in PRESETS and preset != expression:
        return f'did you mean "{preset}"? (or five fields, e.g. "{PRESETS[preset]}")'
    return None


def _unrestricted(part: str) -> bool:
    return part.startswith(("*", "?"))


def _refuse_stepped_star_days(day: str, weekday: str) -> None:
    """`0 3 */2 * 1` fires on odd days or Mondays on Airflow, on odd-day Mondays where the
    star counts as unrestricted: refused, with the spelling every target reads alike."""
    for field, other, name, low, high in (
            (day, weekday, "day-of-month", 1, 31), (weekday, day, "day-of-week", 0, 6)):
        if field[:2] in ("*/", "?/") and not _unrestricted(other):
            step = field[2:]
            raise CronError(
                f"`{field}` in the {name} field beside a restricted other day field is read "
                "two ways (Airflow fires when either day field matches, classic cron only "
                f"when both do); write `{low}-{high}/{step}` for either, as every target "
                "reads it")


def _field(text: str, name: str, low: int, high: int, names: tuple[str, ...]) -> frozenset[int]:
    found: set[int] = set()
    for item in text.split(","):
        found |= _item(item, name, low, high, names)
    return frozenset(found)


def _item(item: str, name: str, low: int, high: int, names: tuple[str, ...]) -> set[int]:
    body, slash, step_text = item.partition("/")
    step = 1
    if slash:
        if not _digits(step_text) or int(step_text) == 0:
            raise CronError(f"`{item}` in the {name} field: the step after `/` must be a "
                            "positive number")
        step = int(step_text)
    if body in ("*", "?"):
        if body == "?" and name not in ("day of month", "day of week"):
            raise CronError(f"`?` is only allowed in the day fields, not the {name} field")
        first, last = low, high
    elif "-" in body:
        start, _, end = body.partition("-")
        first, last = _number(start, name, low, high, names), _number(end, name, low, high, names)
        if first > last:
            raise CronError(f"`{item}` in the {name} field: the range runs backwards")
    else:
        first = _number(body, name, low, high, names)
        last = high if slash else first
    return set(range(first, last + 1, step))


def _number(text: str, name: str, low: int, high: int, names: tuple[str, ...]) -> int:
    if text.upper() in names:
        return low + names.index(text.upper())
    if not _digits(text):
        raise CronError(f"`{text}` is not a value of the {name} field ({low}-{high}"
                        + (f" or {names[0]}-{names[-1]}" if names else "") + ")")
    value = int(text)
    if not low <= value <= high:
        hint = "; Sunday is 0" if name == "day of week" and value == 7 else ""
        raise CronError(f"{value} is outside the {name} field ({low}-{high}{hint})")
    return value


def _digits(text: str) -> bool:
    """ASCII digits only: `str.isdigit` also takes other scripts' digits, which no
    scheduler reads."""
    return text.isascii() and text.isdigit()


def smallest_interval(schedule: Schedule) -> int | None:
    """Seconds between the two closest firings (UTC), or None when the schedule fires
    fewer than twice in SEARCH_DAYS days.

    Every firing day fires at the same times of day, so the closest firings are either
    two neighbouring times within a day, or the last time of one firing day and the
    first of the next."""
    times = sorted(h * 60 + m for h in schedule.hours for m in schedule.minutes)
    gaps = [b - a for a, b in zip(times, times[1:], strict=False)]
    previous = None
    for offset in range(SEARCH_DAYS):
        day = START + dt.timedelta(days=offset)
        if not schedule.fires_on(day):
            continue
        if previous is not None:
            gaps.append((day - previous).days * 1440 + times[0] - times[-1])
            if offset > 366:  # a year holds every gap that repeats
                break
        previous = day
    if previous is None or not gaps:
        return None
    return min(gaps) * 60


def never_fires(schedule: Schedule) -> bool:
    return not any(schedule.fires_on(START + dt.timedelta(days=d)) for d in range(SEARCH_DAYS))
