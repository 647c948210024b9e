"""How fast the table writer (ledgerflow.report.workbook) turns frames into xlsx.

    /work/venv/bin/python bench/write_bench.py                      # generated frame
    /work/venv/bin/python bench/write_bench.py --rows 5000 --cols 30 --repeat 3
    /work/venv/bin/python bench/write_bench.py --frames DIR         # captured frames
    /work/venv/bin/python bench/write_bench.py --module OLD.py      # another copy
    /work/venv/bin/python bench/write_bench.py --capture DIR -- run --input IN \\
        --output OUT --no-store --no-archive

The generated case is a 5,000-row x 30-column frame with every column kind the
writer meets (Float64 and Int64 amounts with NA, float64 with NaN and inf, Hangul and
ASCII text in Arrow-backed "string" columns, codes, dates, flags), a highlight column
and a total row. ``--capture DIR`` runs ``ledgerflow`` in this process (the arguments
after ``--``) and pickles every SheetSpec the workbooks of that run were given, one
file per workbook; ``--frames DIR`` then writes those same specs again with
``write_workbook`` (table sheets only: free layouts drawn with ``write_cell`` are not
captured). ``--module PATH`` times another copy of workbook.py (an older one saved
outside the repository) in the same session, and ``--compare PATH`` writes every case
with both and says whether the bytes are the same.

For each case it prints the seconds spent adding the sheets (our per-cell work) and
closing the workbook (xlsxwriter's XML and zip), the best of ``--repeat`` runs; wall
seconds, or with ``--cpu`` this process's CPU seconds (steadier on a shared machine).
Speed is measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import importlib.util
import pickle
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ledgerflow import labels
from ledgerflow.report import workbook as current

CREATED = dt.date(2026, 11, 30)
# the column kinds of a generated frame, in turn (30 columns: each kind 3-6 times)
KIND_CYCLE = [
    "text",
    "money",
    "int",
    "text",
    "money",
    "date",
    "percent",
    "number",
    "money",
    "bool",
]


def load_module(path: Path):
    """workbook.py at ``path`` imported under a name of its own; it shares this
    module's spec classes, so pickled or generated specs mean the same to both."""
    spec = importlib.util.spec_from_file_location(f"_bench_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    for name in ("SheetSpec", "ColumnSum", "Ratio", "PageSetup", "ConditionalFormat"):
        setattr(module, name, getattr(current, name))
    return module


def generated_specs(rows: int, cols: int) -> list:
    """One SheetSpec of ``rows`` x ``cols`` mixed columns (fixed seed)."""
    rng = np.random.default_rng(8)
    keys_by_kind: dict[str, list[str]] = {}
    for key, entry in labels._catalogue().entries["columns"].items():
        keys_by_kind.setdefault(str(entry.get("kind", "text")), []).append(key)
    data: dict[str, pd.Series] = {}
    total: dict[str, object] = {}
    used: list[str] = []
    for index in range(cols):
        kind = KIND_CYCLE[index % len(KIND_CYCLE)]
        key = keys_by_kind[kind][sum(k == kind for k in used)]
        used.append(kind)
        missing = rng.random(rows) < 0.05
        if kind == "text":
            names = [f"거래처 {n:05d}" if n % 3 else f"{n:06d}" for n in range(rows)]
            series = pd.Series(names, dtype="string")
        elif kind == "money":
            series = pd.Series(np.round(rng.normal(1e6, 3e6, rows)), dtype="Float64")
        elif kind == "int":
            series = pd.Series(rng.integers(-5, 500, rows), dtype="Int64")
        elif kind == "date":
            days = pd.to_timedelta(rng.integers(0, 700, rows), "D")
            series = pd.Series(pd.Timestamp("2025-01-01") + days)
        elif kind == "bool":
            series = pd.Series(rng.random(rows) < 0.3, dtype="boolean")
        else:  # plain floats with NaN and a few infinities
            values = rng.normal(0.1, 0.2, rows)
            values[rng.random(rows) < 0.001] = np.inf
            series = pd.Series(values)
        series[missing] = None
        data[key] = series
        if kind == "money":
            total[key] = current.ColumnSum(float(series.sum()))
    frame = pd.DataFrame(data)
    highlight = pd.Series(rng.random(rows) < 0.1)
    return [
        current.SheetSpec(
            "partner_master", frame, list(data), highlight=highlight, total=total
        )
    ]


def time_write(module, specs: list, path: Path, clock=time.perf_counter):
    """Seconds adding the sheets and closing the workbook, by ``clock``."""
    start = clock()
    with module.open_workbook(
        path, lang="ko", created=CREATED, cells=module.table_cells(specs)
    ) as writer:
        for spec in specs:
            writer.add_sheet(spec)
        added = clock()
    closed = clock()
    return added - start, closed - added


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def cases(args) -> dict[str, list]:
    found: dict[str, list] = {}
    if args.frames:
        for file in sorted(Path(args.frames).glob("*.pkl")):
            with file.open("rb") as handle:
                found[file.stem] = pickle.load(handle)["specs"]
    else:
        name = f"generated-{args.rows}x{args.cols}"
        found[name] = generated_specs(args.rows, args.cols)
    return found


def capture(folder: Path, argv: list[str]) -> int:
    """Run ledgerflow with ``argv`` here; pickle each workbook's SheetSpecs."""
    from ledgerflow.cli import main

    folder.mkdir(parents=True, exist_ok=True)
    seen: dict[str, list] = {}
    add_sheet, close = current.WorkbookWriter.add_sheet, current._close

    def recording_add(self, spec):
        seen.setdefault(self.workbook.filename, []).append(spec)
        return add_sheet(self, spec)

    def recording_close(workbook, path):
        close(workbook, path)
        specs = seen.pop(workbook.filename, [])
        if specs:
            with (folder / f"{Path(path).stem}.pkl").open("wb") as handle:
                pickle.dump({"path": str(path), "specs": specs}, handle)

    current.WorkbookWriter.add_sheet = recording_add
    current._close = recording_close
    try:
        return main(argv)
    finally:
        current.WorkbookWriter.add_sheet, current._close = add_sheet, close


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--cols", type=int, default=30)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--frames", help="folder of pickles made by --capture")
    parser.add_argument("--module", help="time this copy of workbook.py instead")
    parser.add_argument("--compare", help="check bytes against this workbook.py")
    parser.add_argument("--capture", help="run ledgerflow and pickle its specs here")
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="CPU seconds of this process instead of wall seconds (busy machines)",
    )
    parser.add_argument("argv", nargs="*", help="ledgerflow arguments (--capture)")
    args = parser.parse_args()
    if args.capture:
        return capture(Path(args.capture), args.argv)

    module = load_module(Path(args.module)) if args.module else current
    other = load_module(Path(args.compare)) if args.compare else None
    clock = time.process_time if args.cpu else time.perf_counter
    totals = [0.0, 0.0]
    differ = 0
    with tempfile.TemporaryDirectory() as work:
        for name, specs in cases(args).items():
            path = Path(work) / f"{name}.xlsx"
            best = min(
                (time_write(module, specs, path, clock) for _ in range(args.repeat)),
                key=sum,
            )
            totals[0] += best[0]
            totals[1] += best[1]
            cells = module.table_cells(specs)
            line = f"{name:32s} {cells:>9,d} cells  add {best[0]:7.3f} s  "
            line += f"close {best[1]:7.3f} s"
            if other is not None:
                mine = digest(path)
                # the same file name: it is the document title
                theirs_path = Path(work) / "other" / path.name
                theirs_path.parent.mkdir(exist_ok=True)
                time_write(other, specs, theirs_path)
                same = digest(theirs_path) == mine
                differ += not same
                line += "  same bytes" if same else "  BYTES DIFFER"
            print(line, flush=True)
    print(f"{'total':42s}  add {totals[0]:7.3f} s  close {totals[1]:7.3f} s")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
