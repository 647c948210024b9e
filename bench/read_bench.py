"""Reading alone, side by side: ledgerflow's read_file against python-calamine's bare
load of the same sheet (issue 3's target: at most twice calamine's time).

    /work/venv/bin/python bench/read_bench.py                 # Online Retail
    /work/venv/bin/python bench/read_bench.py FILE.xlsx --repeat 3

Each measurement runs in a fresh child process, alternating the two, so neither
profits from the other's warm caches. Speed is measured here, never asserted in tests.
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

LEDGERFLOW = """
import sys, time
from pathlib import Path
from ledgerflow.config import load_config
from ledgerflow.read import read_file
config = load_config()
start = time.perf_counter()
result = read_file(Path(sys.argv[1]), config)
rows = sum(t.rows_read for t in result.tables)
print(time.perf_counter() - start, rows)
"""


def timed(script: str, path: Path) -> tuple[float, int]:
    """Seconds (imports excluded for both) and rows, from a fresh child process."""
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)],
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
    calamine, ours = [], []
    for round_no in range(1, args.repeat + 1):
        seconds, rows = timed(CALAMINE, path)
        calamine.append(seconds)
        mine, read = timed(LEDGERFLOW, path)
        ours.append(mine)
        print(
            f"round {round_no}: calamine {seconds:.1f} s ({rows:,} rows incl. header)"
            f", read_file {mine:.1f} s ({read:,} rows read), ratio {mine / seconds:.2f}"
        )
    ratio = statistics.median(ours) / statistics.median(calamine)
    print(
        f"{path.name}: median calamine {statistics.median(calamine):.1f} s, "
        f"read_file {statistics.median(ours):.1f} s, ratio {ratio:.2f} (target <= 2)"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
