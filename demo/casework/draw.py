"""The seeded randomness of the casework demo: weighted picks, working days, office hours.

One `Draw` holds the run's random generator and its clock; every random choice of the
casework demo goes through it, in a fixed order, so one seed always gives the same data.
"""

from __future__ import annotations

import datetime
import random
from collections.abc import Hashable, Iterable, Mapping
from typing import Any, TypeVar

from django.utils import timezone

from accounts.models import Organisation, User
from casework.models import Case, Client, Contact, Milestone, Topic

from .tables import (
    CHANNEL_WORDS,
    CONSULTER_WORDS,
    MINUTES,
    POPULATION,
    TOPIC_COUNTS,
    TOPIC_NOTES,
)

T = TypeVar("T", bound=Hashable)
S = TypeVar("S", bound=str)


class Draw:
    def __init__(
        self, rng: random.Random, today: datetime.date, municipalities: list[Organisation]
    ) -> None:
        self.rng = rng
        # Never later than the real date, so that no contact lands in the future.
        self.today = min(today, timezone.localdate())
        self.tz = timezone.get_current_timezone()
        self.now = min(
            timezone.now(),
            datetime.datetime.combine(self.today, datetime.time.max, tzinfo=self.tz),
        )
        self.municipalities = municipalities

    def pick(self, weighted: Mapping[T, float]) -> T:
        return self.rng.choices(list(weighted), weights=list(weighted.values()))[0]

    def day_between(self, first: datetime.date, last: datetime.date) -> datetime.date:
        return first + datetime.timedelta(days=self.rng.randint(0, max(0, (last - first).days)))

    def weekday(
        self, day: datetime.date, first: datetime.date, last: datetime.date
    ) -> datetime.date:
        """The nearest working day within [first, last]: the centre is closed at weekends."""
        if day.weekday() < 5:
            return day
        for step in (-1, 1, -2, 2) if day.weekday() == 5 else (1, -1, 2, -2):
            moved = day + datetime.timedelta(days=step)
            if first <= moved <= last and moved.weekday() < 5:
                return moved
        return day

    def moment(self, day: datetime.date) -> datetime.datetime:
        """A time in office hours on `day`, never later than now."""
        when = datetime.datetime.combine(
            day, datetime.time(self.rng.randint(9, 17), 5 * self.rng.randint(0, 11)), tzinfo=self.tz
        )
        if when > self.now:
            earliest = datetime.datetime.combine(day, datetime.time.min, tzinfo=self.tz)
            when = max(earliest, self.now - datetime.timedelta(minutes=self.rng.randint(0, 90)))
        return when

    def later(self, when: datetime.datetime, minutes: int) -> datetime.datetime:
        return min(when + datetime.timedelta(minutes=minutes), self.now)

    def residence(self, near: Organisation | None = None) -> Organisation | None:
        if near is not None and self.rng.random() < 0.92:
            return near
        if not self.municipalities:
            return None
        weights = [POPULATION.get(o.local_government_code, 10) for o in self.municipalities]
        return self.rng.choices(self.municipalities, weights=weights)[0]

    def topics(self, weights: Mapping[S, float]) -> list[str]:
        pool = dict(weights)
        chosen: set[S] = set()
        for _ in range(min(self.pick(TOPIC_COUNTS), len(pool))):
            topic = self.pick(pool)
            chosen.add(topic)
            del pool[topic]
        return [t for t in Topic.values if t in chosen]

    def minutes(self, channel: str) -> int:
        low, high, mode = MINUTES[channel]
        return min(high, max(low, 5 * round(self.rng.triangular(low, high, mode) / 5)))

    def summary(self, channel: str, consulter: str, topics: Iterable[str]) -> str:
        who = self.rng.choice(CONSULTER_WORDS[consulter])
        notes = "".join(self.rng.choice(TOPIC_NOTES[t]) for t in list(topics)[:2])
        return f"【デモ】{CHANNEL_WORDS[channel]}（{who}）。{notes}"


def stamp(
    obj: Client | Case | Contact | Milestone, when: datetime.datetime, user: User | None
) -> None:
    """Creation time and author, for the row and for its first history row."""
    obj.created_at = when
    if hasattr(obj, "updated_at"):
        obj.updated_at = when
    # simple_history reads these from the instance; no model declares them.
    history: Any = obj
    history._history_date = when
    history._history_user = user
