"""What it costs to serve each partner, beyond the goods: freight, fees, discounts
and rebates booked to the partner (a costs export), handling per document, and the
financing cost of the money it owes. Contribution = gross profit − cost-to-serve.

Settings ([cost_to_serve] in the config):

- handling_cost_per_document: cost of handling one sales document (an order or a
  return), in the currency of the exports; 0 = not counted.
- return_cost_per_document: extra cost of handling one return document.
- cost_of_capital: yearly rate (0.06 = 6 %) that prices the money a partner owes:
  financing cost = open receivable × days open × rate ÷ 365.
- financing_from: "invoice_date" (the whole credit period is financed) or
  "due_date" (only the days past the due date, i.e. slow payment).
- categories: cost categories of the costs export by component; a category text
  matches when it contains one of the words (case and spaces ignored); the first
  component that matches wins, anything else is "other_costs".

Pure functions on arrays indexed like the partner ids of partner_windows.LineBase.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ledgerflow.errors import ConfigError
from ledgerflow.partner_windows import _NO_DAY, day_number, day_numbers

log = logging.getLogger(__name__)

# Components from the costs export, in the order shown.
COST_COMPONENTS = ["freight_cost", "fee_cost", "discount_rebate", "other_costs"]
# Every cost-to-serve column of a window table, in the order shown.
SERVE_KEYS = [
    *COST_COMPONENTS,
    "handling_cost",
    "return_cost",
    "financing_cost",
    "cost_to_serve",
]
DEFAULT_CATEGORIES = {
    "freight_cost": [
        "운반비",
        "운송비",
        "배송비",
        "택배비",
        "물류비",
        "freight",
        "shipping",
        "carriage",
        "delivery",
        "postage",
    ],
    "fee_cost": ["수수료", "fee", "commission", "charge"],
    "discount_rebate": [
        "할인",
        "에누리",
        "리베이트",
        "장려금",
        "discount",
        "rebate",
        "allowance",
    ],
}
_SPACES = re.compile(r"\s+")
_INFINITY = np.iinfo(np.int64).max // 4


@dataclass(frozen=True)
class Settings:
    """[cost_to_serve] settings, checked."""

    handling_cost_per_document: float = 0.0
    return_cost_per_document: float = 0.0
    cost_of_capital: float = 0.0
    financing_from: str = "invoice_date"
    categories: tuple[tuple[str, tuple[str, ...]], ...] = ()


def settings(config: dict | None) -> Settings:
    """The [cost_to_serve] section as Settings; ConfigError names a bad key."""
    section = (config or {}).get("cost_to_serve") or {}

    def number(key: str, default: float, high: float | None = None) -> float:
        value = section.get(key, default)
        ok = isinstance(value, int | float) and not isinstance(value, bool)
        if not ok or value < 0 or (high is not None and value > high):
            limit = f" and at most {high}" if high is not None else ""
            raise ConfigError(
                f"[cost_to_serve] {key}: expected a number >= 0{limit} (got {value!r})"
            )
        return float(value)

    basis = section.get("financing_from", "invoice_date")
    if basis not in ("invoice_date", "due_date"):
        raise ConfigError(
            f'[cost_to_serve] financing_from: expected "invoice_date" or '
            f'"due_date" (got {basis!r})'
        )
    categories = section.get("categories", DEFAULT_CATEGORIES)
    if not isinstance(categories, dict) or set(categories) - set(COST_COMPONENTS):
        raise ConfigError(
            f"[cost_to_serve] categories: expected a table whose keys are among "
            f"{', '.join(COST_COMPONENTS[:-1])} with lists of words "
            f"(got {categories!r})"
        )
    words = tuple(
        (component, tuple(_norm(w) for w in categories[component]))
        for component in COST_COMPONENTS
        if component in categories
    )
    return Settings(
        handling_cost_per_document=number("handling_cost_per_document", 0.0),
        return_cost_per_document=number("return_cost_per_document", 0.0),
        cost_of_capital=number("cost_of_capital", 0.0, 1.0),
        financing_from=basis,
        categories=words,
    )


def _norm(text: str) -> str:
    return _SPACES.sub("", str(text)).casefold()


def cost_component(categories: pd.Series, cfg: Settings) -> pd.Series:
    """The component (COST_COMPONENTS) of each category text; blank → other_costs."""
    unique = pd.Series(categories.astype("string").dropna().unique())
    found = {}
    for text in unique:
        normal = _norm(text)
        found[text] = next(
            (
                component
                for component, words in cfg.categories
                if any(w and w in normal for w in words)
            ),
            "other_costs",
        )
    return categories.astype("string").map(found).fillna("other_costs")


# ----------------------------------------------------------------- costs export


@dataclass
class CostBase:
    """A costs export as arrays: partner position, day, amount, component index."""

    partner: np.ndarray
    day: np.ndarray
    amount: np.ndarray
    component: np.ndarray


def cost_base(
    costs: pd.DataFrame, ids: pd.Index, cfg: Settings, notes: list[str]
) -> CostBase | None:
    """The usable rows of a costs export (partner known, dated, with an amount).

    Rows left out are counted in ``notes`` (code costs_not_used).
    """
    if costs is None or len(costs) == 0:
        return None
    partner = ids.get_indexer(costs["partner_id"].astype("string"))
    day = day_numbers(costs["cost_date"])
    amount = pd.to_numeric(costs["amount"], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    keep = (partner >= 0) & (day != _NO_DAY) & ~np.isnan(amount)
    if (~keep).sum():
        notes.append(
            f"costs_not_used: {int((~keep).sum())} rows of the costs export have no "
            "known partner, date or amount and were left out"
        )
    category = costs.get("category")
    if category is None:
        category = pd.Series(pd.NA, index=costs.index, dtype="string")
    component = cost_component(category, cfg).map(
        {name: i for i, name in enumerate(COST_COMPONENTS)}
    )
    return CostBase(
        partner=partner[keep].astype(np.int64),
        day=day[keep],
        amount=amount[keep],
        component=component.to_numpy(dtype=np.int64)[keep],
    )


def cost_sums(base: CostBase | None, n: int, start, end) -> dict[str, np.ndarray]:
    """COST_COMPONENTS per partner of the costs dated start..end (NaN without an
    export: the figure is unknown, not 0)."""
    if base is None:
        return {key: np.full(n, np.nan) for key in COST_COMPONENTS}
    chosen = (base.day >= day_number(start)) & (base.day <= day_number(end))
    out = {}
    for index, key in enumerate(COST_COMPONENTS):
        rows = chosen & (base.component == index)
        out[key] = np.bincount(base.partner[rows], base.amount[rows], n)
    return out


# -------------------------------------------------------------------- financing


@dataclass
class OpenPieces:
    """Stretches during which an amount was owed: [start, end) in day numbers."""

    partner: np.ndarray
    start: np.ndarray
    end: np.ndarray
    amount: np.ndarray


def open_pieces(
    receivables: pd.DataFrame, ids: pd.Index, due: pd.Series, basis: str
) -> OpenPieces:
    """When each invoice's money was owed, from ``basis`` (invoice or due date).

    Rules:
    - the whole amount is owed from the basis date until the settled date;
    - a part not covered by settled_amount stays owed after it (still open);
    - an invoice never settled is owed until today (open-ended);
    - a settled_amount with no settled date (a balance snapshot) leaves only the
      rest owed, from the basis date on;
    - invoices without the basis date, or without a partner, are left out.
    """
    partner = ids.get_indexer(receivables["partner_id"].astype("string"))
    column = "invoice_date" if basis == "invoice_date" else None
    start = day_numbers(receivables[column] if column else due)
    amount = pd.to_numeric(receivables["amount"], errors="coerce").to_numpy(
        dtype=float, na_value=np.nan
    )
    settled_amount = (
        pd.to_numeric(receivables["settled_amount"], errors="coerce").to_numpy(
            dtype=float, na_value=np.nan
        )
        if "settled_amount" in receivables
        else np.full(len(receivables), np.nan)
    )
    settled_day = (
        day_numbers(receivables["settled_date"])
        if "settled_date" in receivables
        else np.full(len(receivables), _NO_DAY)
    )
    has_settled_day = settled_day != _NO_DAY
    paid = np.where(
        np.isnan(settled_amount), np.where(has_settled_day, amount, 0.0), settled_amount
    )
    rest = amount - paid
    usable = (partner >= 0) & (start != _NO_DAY) & ~np.isnan(amount)

    first_end = np.where(has_settled_day, settled_day, _INFINITY)
    first_amount = np.where(has_settled_day, amount, rest)
    second = usable & has_settled_day & (np.abs(rest) > 1e-9)
    return OpenPieces(
        partner=np.concatenate([partner[usable], partner[second]]).astype(np.int64),
        start=np.concatenate([start[usable], settled_day[second]]),
        end=np.concatenate([first_end[usable], np.full(second.sum(), _INFINITY)]),
        amount=np.concatenate([first_amount[usable], rest[second]]),
    )


def amount_days(pieces: OpenPieces | None, n: int, start, end) -> np.ndarray:
    """Σ amount × days owed within start..end per partner (NaN without pieces)."""
    if pieces is None:
        return np.full(n, np.nan)
    low, high = day_number(start), day_number(end) + 1
    days = np.minimum(pieces.end, high) - np.maximum(pieces.start, low)
    days = np.clip(days, 0, None)
    return np.bincount(pieces.partner, pieces.amount * days, n)


def serve_costs(
    *,
    n: int,
    n_documents: np.ndarray,
    n_return_docs: np.ndarray,
    costs: dict[str, np.ndarray],
    amount_days_owed: np.ndarray,
    cfg: Settings,
) -> dict[str, np.ndarray]:
    """SERVE_KEYS per partner of one window.

    cost_to_serve sums the components that are known (a component with no data is
    NaN and left out of the sum; the notes say which ones had no data).
    """
    out = dict(costs)
    out["handling_cost"] = n_documents * cfg.handling_cost_per_document
    out["return_cost"] = n_return_docs * cfg.return_cost_per_document
    out["financing_cost"] = amount_days_owed * cfg.cost_of_capital / 365.0
    parts = np.vstack([out[key] for key in SERVE_KEYS[:-1]])
    out["cost_to_serve"] = np.nansum(parts, axis=0) if n else np.zeros(0)
    return out
