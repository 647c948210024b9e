"""English partner lists: Northwind's customers.csv, whose addresses hold unquoted
commas, read without shifting the fields after the address."""

from __future__ import annotations

import csv

import pandas as pd

from ledgerflow.config import load_config
from ledgerflow.read import read_file


def test_northwind_customers_rejoin_split_addresses(shared_data):
    path = shared_data / "northwind" / "customers.csv"
    (table,) = read_file(path, load_config()).tables
    assert table.kind == "partners" and table.profile == "generic_en_partners"

    # Second method: the raw lines, with the known 11 header fields; a row with one
    # field too many has its address split in two at the comma.
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    width = len(rows[0])
    expected = {}
    for row in rows[1:]:
        extra = len(row) - width
        address = ",".join(row[4 : 5 + extra])
        expected[row[0]] = (address, row[8 + extra], row[7 + extra])
    assert sum(len(r) > width for r in rows[1:]) == 24

    frame = table.frame.set_index("partner_code")
    assert len(frame) == len(expected) == 91
    for code, (address, country, postcode) in expected.items():
        assert frame.loc[code, "address"] == address
        assert frame.loc[code, "region"] == country
        if postcode in ("", "NULL"):
            assert frame.loc[code, "postcode"] is pd.NA
        else:
            assert frame.loc[code, "postcode"] == postcode
    assert frame.loc["BLONP", "address"] == "24, place Kléber"
    assert frame.loc["BLONP", "postcode"] == "67000"
    # Austrian 4-digit postcodes are not padded as if they were Korean.
    assert frame.loc["ERNSH", "postcode"] == "8010"
