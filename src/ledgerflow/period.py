"""Reporting periods: a calendar month, its year to date, its year."""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from ledgerflow.errors import UsageError

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True)
class Period:
    """A calendar month, e.g. Period(2024, 3)."""

    year: int
    month: int

    @classmethod
    def parse(cls, text: str) -> Period:
        match = _MONTH.match(text.strip())
        if not match:
            raise UsageError(f"period {text!r}: expected YYYY-MM, e.g. 2024-03")
        if not 1 <= int(match.group(2)) <= 12:
            raise UsageError(
                f"period {text!r}: month {int(match.group(2))} does not exist; give a "
                "month from 01 to 12, e.g. 2024-03"
            )
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def of(cls, when: pd.Timestamp) -> Period:
        return cls(when.year, when.month)

    def __str__(self) -> str:
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def start(self) -> pd.Timestamp:
        return pd.Timestamp(self.year, self.month, 1)

    @property
    def end(self) -> pd.Timestamp:
        """The last day of the month (dates carry no time of day)."""
        return self.start + pd.offsets.MonthEnd(0)

    @property
    def year_start(self) -> pd.Timestamp:
        return pd.Timestamp(self.year, 1, 1)

    def previous(self) -> Period:
        return Period.of(self.start - pd.Timedelta(days=1))


def latest_period(dates: pd.Series) -> Period | None:
    """The month of the latest date in ``dates``, or None when there is none."""
    dates = pd.to_datetime(dates, errors="coerce").dropna()
    if dates.empty:
        return None
    return Period.of(dates.max())
