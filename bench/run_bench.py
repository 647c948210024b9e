"""Time `ledgerflow run` end to end, beside the time python-calamine needs to load the
same sheet (the reference of issue 8), on the Online Retail workbook and on generated
sales exports of 100,000 to 1,000,000 lines.

Each run is a child process; its wall time is measured here and its peak memory is the
maxrss the kernel reports for it (and any child it waited for) through os.wait4. With
psutil installed, the summed RSS of the whole process tree is also sampled.

    /work/venv/bin/python bench/run_bench.py                    # everything
    /work/venv/bin/python bench/run_bench.py --cases retail
    /work/venv/bin/python bench/run_bench.py --cases synthetic --lines 100000 250000

Generated exports, outputs, logs and a JSON of the figures go to bench/results/
(git-ignored). Speed is measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import shutil
import subprocess
import sys
import threading
import time
from datetime import date, datetime
from pathlib import Path

import numpy as np
import xlsxwriter

from ledgerflow import __version__, demo

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SHARED = Path(os.environ.get("LEDGERFLOW_SHARED", REPO.parent / "shared"))
RETAIL = SHARED / "data" / "uci-online-retail" / "derived" / "Online Retail.xlsx"
CASES = ["tiny", "retail", "synthetic"]
EXCEL_EPOCH = date(1899, 12, 30)
# Bumped whenever synthetic_export changes, so that a kept export is not reused.
GENERATOR = "g2"

# Loads every cell of one sheet and prints the seconds it took (interpreter start and
# imports excluded); run as a child so that its memory is measured apart.
CALAMINE_LOAD = """
import sys, time
start = time.perf_counter()
from python_calamine import CalamineWorkbook
book = CalamineWorkbook.from_path(sys.argv[1])
rows = book.get_sheet_by_name(sys.argv[2]).to_python()
print(time.perf_counter() - start, len(rows))
"""


# ----------------------------------------------------------------- measuring


class TreeSampler:
    """Peak summed RSS of a process and its descendants (only with psutil)."""

    def __init__(self, pid: int, every: float = 0.2):
        self.peak_bytes: int | None = None
        try:
            import psutil
        except ImportError:
            return
        self.peak_bytes = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._sample, args=(psutil, pid, every), daemon=True
        )
        self._thread.start()

    def _sample(self, psutil, pid: int, every: float) -> None:
        try:
            root = psutil.Process(pid)
        except psutil.Error:
            return
        while not self._stop.is_set():
            try:
                procs = [root, *root.children(recursive=True)]
                total = 0
                for proc in procs:
                    with contextlib.suppress(psutil.Error):  # ended meanwhile
                        total += proc.memory_info().rss
                self.peak_bytes = max(self.peak_bytes, total)
            except psutil.Error:
                return
            self._stop.wait(every)

    def stop(self) -> int | None:
        if self.peak_bytes is not None:
            self._stop.set()
            self._thread.join()
        return self.peak_bytes


def measure(command: list[str], log_path: Path, cwd: Path) -> dict:
    """Run ``command``; its wall seconds, exit code, peak RSS (MiB) and stdout."""
    with log_path.open("wb") as log:
        start = time.perf_counter()
        proc = subprocess.Popen(command, cwd=cwd, stdout=log, stderr=subprocess.STDOUT)
        sampler = TreeSampler(proc.pid)
        _, status, usage = os.wait4(proc.pid, 0)
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        tree = sampler.stop()
    return {
        "seconds": round(seconds, 2),
        "exit_code": proc.returncode,
        "peak_mib": round(usage.ru_maxrss / 1024, 1),  # Linux reports KiB
        "tree_peak_mib": round(tree / 2**20, 1) if tree else None,
        "log": str(log_path),
        "stdout": log_path.read_text("utf-8", errors="replace"),
    }


def calamine_reference(path: Path, sheet: str, log_path: Path) -> dict:
    """Seconds python-calamine needs to load every cell of ``sheet``."""
    result = measure(
        [sys.executable, "-c", CALAMINE_LOAD, str(path), sheet], log_path, BENCH
    )
    if result["exit_code"] != 0:
        return {"error": result["stdout"].strip().splitlines()[-1:]}
    load_seconds, rows = result["stdout"].split()
    return {
        "seconds": round(float(load_seconds), 2),
        "rows": int(rows),
        "peak_mib": result["peak_mib"],
    }


def ledgerflow_command() -> list[str]:
    """The installed `ledgerflow` script beside this Python, else the module's main."""
    script = Path(sys.executable).with_name("ledgerflow")
    if script.exists():
        return [str(script)]
    return [sys.executable, "-m", "ledgerflow.cli"]


def run_case(
    name: str, input_dir: Path, work: Path, reference: dict | None, again: bool = False
) -> dict:
    """`ledgerflow run` on ``input_dir``, with the run.json timings if there are any.

    A first run starts from an empty output folder, so its store (kept under the
    output folder) is empty too; ``again`` runs once more on that folder, when every
    file can be taken from the store (the incremental case of issue 8).
    """
    output_dir = work / f"{name}-output"
    if not again:
        shutil.rmtree(output_dir, ignore_errors=True)
    command = [
        *ledgerflow_command(),
        "run",
        "--input",
        str(input_dir),
        "--output",
        str(output_dir),
        "--no-archive",  # the bench's inputs stay where they are
    ]
    if again:
        name = f"{name} again"
    # cwd = results/: Prefect keeps its state in results/.ledgerflow between runs.
    result = measure(command, work / f"{name.replace(' ', '-')}.log", work)
    result["case"] = name
    result["reference"] = reference
    runs = sorted(output_dir.glob("*/run.json"))
    if runs:
        info = json.loads(runs[-1].read_text("utf-8"))
        result["run_json"] = str(runs[-1])
        result["timings"] = info.get("timings")
        result["rows_read"] = sum(
            (entry.get("rows") or {}).get("read", 0) for entry in info.get("inputs", [])
        )
    return result


# ----------------------------------------------------------------- inputs


def tiny_input(work: Path) -> Path:
    """Five sales lines: the fixed cost of a run (imports, Prefect, writing)."""
    folder = work / "tiny-input"
    folder.mkdir(parents=True, exist_ok=True)
    lines = [",".join(demo.SALES_HEADER)]
    for day in range(1, 6):
        supply = 1000 * day
        lines.append(
            f"2026-11-0{day},2026110{day}-0001,0012{day},(주)벤치{day},A001,볼트,"
            f"{day},1000,{supply},{supply // 10},{supply + supply // 10},{supply // 2}"
        )
    (folder / "sales.csv").write_text("\r\n".join(lines) + "\r\n", encoding="utf-8")
    return folder


def retail_input(work: Path, source: Path) -> Path:
    """A folder holding only a symlink to the Online Retail workbook (no copy)."""
    if not source.is_file():
        raise SystemExit(f"{source}: Online Retail workbook not found; set --retail")
    folder = work / "retail-input"
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / source.name
    if link.is_symlink() or link.exists():
        link.unlink()
    link.symlink_to(source)
    return folder


def synthetic_export(path: Path, lines: int, seed: int, partners: int = 5000) -> None:
    """A one-year sales export of ``lines`` lines in 12 columns, like the demo's.

    Written with xlsxwriter's constant_memory mode, row by row: three title rows, the
    header, the lines sorted by date (documents of 1-8 lines for one partner, partners
    skewed as in the demo, about 2 % returns), then the 합계 row.
    """
    rng = np.random.default_rng(seed)
    items = demo.item_catalogue(rng)
    people = demo.partner_list(rng, partners)

    # Documents first (a day and a partner each), then their lines.
    calendar = np.arange("2025-12-01", "2026-12-01", dtype="datetime64[D]")
    days = calendar[np.is_busday(calendar)]
    per_doc = np.minimum(1 + rng.poisson(1.5, lines), 8)
    doc_count = int(np.searchsorted(np.cumsum(per_doc), lines)) + 1
    per_doc = per_doc[:doc_count]
    per_doc[-1] -= per_doc.sum() - lines
    weight = people["weight"].to_numpy() / people["weight"].sum()
    doc_partner = rng.choice(len(people), doc_count, p=weight)
    doc_day = np.sort(rng.integers(0, len(days), doc_count))
    doc_seq = np.arange(doc_count) - np.searchsorted(doc_day, doc_day) + 1

    partner = np.repeat(doc_partner, per_doc)
    day = np.repeat(doc_day, per_doc)
    seq = np.repeat(doc_seq, per_doc)
    # Distinct items within a document (7 × position, 60 items), so that no line is an
    # exact duplicate of another (ledgerflow rejects those).
    doc_start = np.repeat(np.cumsum(per_doc) - per_doc, per_doc)
    position = np.arange(lines) - doc_start
    first_item = np.repeat(rng.integers(0, len(items), doc_count), per_doc)
    item = (first_item + 7 * position) % len(items)
    list_price = items["list_price"].to_numpy()[item]
    typical = np.log(np.clip(150_000 / list_price, 1, 400))
    qty = np.maximum(1, np.round(rng.lognormal(typical, 0.7))).astype(np.int64)
    qty[rng.random(lines) < 0.02] *= -1
    factor = people["price_factor"].to_numpy()[partner]
    price = np.round(list_price * factor, -1).astype(np.int64)
    price = np.where(list_price < 1000, np.round(list_price * factor), price)
    price = np.maximum(price, 1).astype(np.int64)
    supply = qty * price
    vat = np.sign(supply) * (np.abs(supply) // 10)
    unit_cost = (items["list_price"] * items["cost_ratio"]).to_numpy()[item]
    cost = (np.sign(qty) * np.round(np.abs(qty) * unit_cost)).astype(np.int64)

    serial = (days - np.datetime64(EXCEL_EPOCH)).astype(int)[day].tolist()
    stamp = [d.astype(datetime).strftime("%Y%m%d") for d in days]
    doc_no = [
        f"{stamp[d]}-{s:05d}" for d, s in zip(day.tolist(), seq.tolist(), strict=True)
    ]
    codes = people["partner_code"].to_numpy()[partner].tolist()
    names = people["partner_name"].to_numpy()[partner].tolist()
    item_codes = items["item_code"].to_numpy()[item].tolist()
    item_names = items["item_name"].to_numpy()[item].tolist()
    numbers = [a.tolist() for a in (qty, price, supply, vat, supply + vat, cost)]

    partial = path.with_name(f".{path.name}.part")
    book = xlsxwriter.Workbook(str(partial), {"constant_memory": True})
    book.set_properties({"created": datetime(2026, 12, 1)})
    sheet = book.add_worksheet(demo.SALES_SHEET)
    day_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    money = book.add_format({"num_format": "#,##0"})
    sheet.write_string(0, 0, "매출 내역")
    sheet.write_string(1, 0, "조회기간 : 2025-12-01 ~ 2026-11-30")
    sheet.write_string(2, 0, "(단위 : 원)")
    sheet.write_row(3, 0, demo.SALES_HEADER)
    write_number, write_string = sheet.write_number, sheet.write_string
    for i in range(lines):
        r = i + 4
        write_number(r, 0, serial[i], day_fmt)
        write_string(r, 1, doc_no[i])
        write_string(r, 2, codes[i])
        write_string(r, 3, names[i])
        write_string(r, 4, item_codes[i])
        write_string(r, 5, item_names[i])
        for c, column in enumerate(numbers, start=6):
            write_number(r, c, column[i], money)
    r = lines + 4
    write_string(r, 0, demo.SALES_TOTAL_LABEL)
    for c, column in zip(
        (6, 8, 9, 10, 11), (qty, supply, vat, supply + vat, cost), strict=True
    ):
        write_number(r, c, int(column.sum()), money)
    book.close()
    os.replace(partial, path)


def synthetic_input(work: Path, lines: int, seed: int) -> Path:
    """A folder with one generated export of ``lines`` lines (kept for later runs)."""
    folder = work / f"synthetic-{lines}-{GENERATOR}-input"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"매출내역_{lines}.xlsx"
    if not path.exists():
        print(f"generating {path.name} ({lines:,} lines) ...", flush=True)
        start = time.perf_counter()
        synthetic_export(path, lines, seed)
        print(f"  generated in {time.perf_counter() - start:.1f} s", flush=True)
    return folder


# ----------------------------------------------------------------- reporting


def machine() -> dict:
    cpu = platform.processor() or platform.machine()
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.exists():
        for line in cpuinfo.read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    memory = ""
    meminfo = Path("/proc/meminfo")
    if meminfo.exists():
        kib = int(meminfo.read_text().split("MemTotal:")[1].split()[0])
        memory = f"{kib / 2**20:.1f} GiB"
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": memory,
        "python": platform.python_version(),
        "system": platform.platform(),
        "ledgerflow": __version__,
    }


def print_result(result: dict) -> None:
    ref = result.get("reference") or {}
    ratio = ""
    if ref.get("seconds"):
        ratio = f"  ratio {result['seconds'] / ref['seconds']:.1f}x calamine"
    tree = result.get("tree_peak_mib")
    print(
        f"{result['case']:>18}: ledgerflow run {result['seconds']:8.1f} s, "
        f"peak {result['peak_mib']:7.0f} MiB"
        + (f" (tree {tree:.0f} MiB)" if tree else "")
        + f", exit {result['exit_code']}"
    )
    if ref.get("seconds") is not None:
        print(
            f"{'':>18}  calamine load  {ref['seconds']:8.1f} s, "
            f"peak {ref['peak_mib']:7.0f} MiB, {ref['rows']:,} rows{ratio}"
        )
    elif ref.get("error"):
        print(f"{'':>18}  calamine load failed: {ref['error']}")
    timings = result.get("timings")
    if isinstance(timings, dict) and isinstance(timings.get("total"), int | float):
        # What the flow does not see: interpreter, imports, Prefect start and stop.
        outside = result["seconds"] - timings["total"]
        print(f"{'':>18}    outside the flow (start-up, Prefect) {outside:.1f} s")
    if timings:
        for stage, value in timings.items():
            print(f"{'':>18}    {stage:<12} {json.dumps(value)}")
    elif "run_json" in result:
        print(f"{'':>18}    run.json has no timings")
    else:
        print(f"{'':>18}    no run.json written; see {result['log']}")
        for line in result["stdout"].strip().splitlines()[-3:]:
            print(f"{'':>18}    | {line}")


def print_growth(results: list[dict]) -> None:
    """Per 100,000 lines, net of the fixed cost, so that linear growth shows flat."""
    synthetic = sorted(
        (r for r in results if "lines" in r and not r["case"].endswith("again")),
        key=lambda r: r["lines"],
    )
    if len(synthetic) < 2:
        return
    base = next((r for r in results if r["case"] == "tiny"), None)
    base_mib = base["peak_mib"] if base else 0.0
    above = f"above the tiny run ({base_mib:.0f} MiB)" if base else "(no tiny run)"
    print(
        "\ngrowth (synthetic), per 100,000 lines: flow seconds (run.json total) "
        f"and peak MiB {above}"
    )
    for r in synthetic:
        per = 100_000 / r["lines"]
        total = (r.get("timings") or {}).get("total")
        flow = f"{total * per:6.2f} s" if isinstance(total, int | float) else "     ? s"
        print(
            f"  {r['lines']:>9,} lines: wall {r['seconds']:7.1f} s, flow {flow}, "
            f"{(r['peak_mib'] - base_mib) * per:7.1f} MiB"
        )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", choices=CASES, default=CASES)
    parser.add_argument(
        "--lines",
        nargs="+",
        type=int,
        default=[1_000_000],
        help="lines of each generated export (default 1000000; issue 8 also asks "
        "for 100000 and 250000)",
    )
    parser.add_argument("--retail", type=Path, default=RETAIL, help="Online Retail")
    parser.add_argument("--results", type=Path, default=BENCH / "results")
    parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
    parser.add_argument(
        "--no-reference", action="store_true", help="skip the calamine load timing"
    )
    parser.add_argument(
        "--again",
        action="store_true",
        help="run retail and synthetic cases a second time on the same output "
        "folder (files unchanged: taken from the store)",
    )
    args = parser.parse_args(argv)

    work = args.results.resolve()
    work.mkdir(parents=True, exist_ok=True)
    info = machine()
    print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))

    results = []
    if "tiny" in args.cases:
        # Twice: the first start of Prefect may migrate its database.
        for label in ("tiny-first", "tiny"):
            results.append(run_case(label, tiny_input(work), work, None))
            print_result(results[-1])
    if "retail" in args.cases:
        folder = retail_input(work, args.retail.resolve())
        ref = None
        if not args.no_reference:
            ref = calamine_reference(
                args.retail.resolve(), "Online Retail", work / "retail-calamine.log"
            )
        results.append(run_case("retail", folder, work, ref))
        print_result(results[-1])
        if args.again:
            results.append(run_case("retail", folder, work, ref, again=True))
            print_result(results[-1])
    if "synthetic" in args.cases:
        for lines in args.lines:
            folder = synthetic_input(work, lines, args.seed)
            ref = None
            if not args.no_reference:
                path = next(folder.glob("*.xlsx"))
                log = work / f"synthetic-{lines}-calamine.log"
                ref = calamine_reference(path, demo.SALES_SHEET, log)
            results.append(run_case(f"synthetic-{lines}", folder, work, ref))
            results[-1]["lines"] = lines
            print_result(results[-1])
            if args.again:
                results.append(
                    run_case(f"synthetic-{lines}", folder, work, ref, again=True)
                )
                print_result(results[-1])
    print_growth(results)

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = work / f"bench-{stamp}.json"
    for result in results:
        result.pop("stdout", None)
    out.write_text(
        json.dumps({"machine": info, "results": results}, indent=2, ensure_ascii=False),
        encoding="utf-8",
    )
    print(f"\nfigures saved to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
