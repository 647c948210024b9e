"""Reading alone, side by side: ledgerflow's read_file against the bare loads of the
same sheet by python-calamine and fastexcel (issue 3's target: at most twice
calamine's time; issue 8's: twice the fastest reader's).

    /work/venv/bin/python bench/read_bench.py                 # Online Retail
    /work/venv/bin/python bench/read_bench.py FILE.xlsx --repeat 3

read_file runs twice per round: row by row (``[read] columnar_min_rows`` out of
reach, python-calamine's rows of objects) and column-wise (the setting at 0,
fastexcel's Arrow columns). Each measurement runs in a fresh child process, in turn,
so none profits from another's warm caches. Speed is measured here, never asserted
in tests.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
from pathlib import Path

RETAIL = (
    Path(__file__).resolve().parents[2]
    / "shared/data/uci-online-retail/derived/Online Retail.xlsx"
)

CALAMINE = """
import sys, time
start = time.perf_counter()
from python_calamine import CalamineWorkbook
book = CalamineWorkbook.from_path(sys.argv[1])
rows = book.get_sheet_by_index(0).to_python()
print(time.perf_counter() - start, len(rows))
"""

FASTEXCEL = """
import sys, time
start = time.perf_counter()
import fastexcel
sheet = fastexcel.read_excel(sys.argv[1]).load_sheet(0, header_row=None)
batch = sheet.to_arrow()
print(time.perf_counter() - start, batch.num_rows)
"""

LEDGERFLOW = """
import sys, time
from pathlib import Path
from ledgerflow.config import load_config
from ledgerflow.read import read_file
config = load_config()
config.setdefault("read", {})["columnar_min_rows"] = int(sys.argv[2])
start = time.perf_counter()
result = read_file(Path(sys.argv[1]), config)
rows = sum(t.rows_read for t in result.tables)
print(time.perf_counter() - start, rows)
"""


ROW_WISE = 10**12  # columnar_min_rows out of reach
COLUMN_WISE = 0


def timed(script: str, path: Path, *args: object) -> tuple[float, int]:
    """Seconds (imports excluded) and rows, from a fresh child process."""
    out = subprocess.run(
        [sys.executable, "-c", script, str(path), *map(str, args)],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    return float(out[0]), int(out[1])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file", nargs="?", default=str(RETAIL), help="xlsx to read")
    parser.add_argument("--repeat", type=int, default=2, help="rounds (2)")
    args = parser.parse_args(argv)
    path = Path(args.file)
    times: dict[str, list[float]] = {
        "calamine": [],
        "fastexcel": [],
        "rows": [],
        "columns": [],
    }
    for round_no in range(1, args.repeat + 1):
        seconds, rows = timed(CALAMINE, path)
        times["calamine"].append(seconds)
        bare, _ = timed(FASTEXCEL, path)
        times["fastexcel"].append(bare)
        by_rows, read = timed(LEDGERFLOW, path, ROW_WISE)
        times["rows"].append(by_rows)
        by_columns, read_too = timed(LEDGERFLOW, path, COLUMN_WISE)
        times["columns"].append(by_columns)
        if read_too != read:
            print(f"rows read differ: {read:,} row by row, {read_too:,} column-wise")
        print(
            f"round {round_no}: calamine {seconds:.1f} s ({rows:,} rows), fastexcel "
            f"{bare:.1f} s, read_file row by row {by_rows:.1f} s, column-wise "
            f"{by_columns:.1f} s ({read:,} rows read)"
        )
    median = {key: statistics.median(values) for key, values in times.items()}
    fastest = min(median["calamine"], median["fastexcel"])
    print(
        f"{path.name}: median calamine {median['calamine']:.1f} s, fastexcel "
        f"{median['fastexcel']:.1f} s; read_file row by row {median['rows']:.1f} s "
        f"(ratio {median['rows'] / fastest:.2f}), column-wise "
        f"{median['columns']:.1f} s (ratio {median['columns'] / fastest:.2f}; "
        f"{median['rows'] / median['columns']:.2f}x faster); ratios against the "
        "fastest bare load, target <= 2"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
