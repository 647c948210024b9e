"""The figures of issue 8 that run_bench.py does not take: the fastest reader, Prefect's
fixed cost with and without a running server, the incremental month, partner matching
at 50,000 partners, and the memory of each stage.

    /work/venv/bin/python bench/perf_bench.py                     # everything
    /work/venv/bin/python bench/perf_bench.py --cases readers --lines 100000 250000
    /work/venv/bin/python bench/perf_bench.py --cases incremental --month-lines 20000
    /work/venv/bin/python bench/perf_bench.py --cases master --partners 5000 50000
    /work/venv/bin/python bench/perf_bench.py --cases prefect

It reuses run_bench.py's measuring (child processes, wall time, peak RSS) and its
generated exports (bench/results/synthetic-<lines>-*-input/). Results go to
bench/results/perf-<timestamp>.json. Speed is measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from concurrent.futures import ProcessPoolExecutor
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

import run_bench as rb
from ledgerflow import demo, tables
from ledgerflow.config import load_config

CASES = ["readers", "prefect", "incremental", "master"]

# Loads every cell of one sheet with fastexcel (Rust calamine underneath, Arrow out).
FASTEXCEL_LOAD = """
import sys, time
start = time.perf_counter()
import fastexcel
reader = fastexcel.read_excel(sys.argv[1])
sheet = reader.load_sheet_by_name(sys.argv[2], header_row=None)
table = sheet.to_arrow()
print(time.perf_counter() - start, table.num_rows)
"""

# The fixed cost of a run, in one process: imports, then the flow's body as plain
# functions (ledgerflow without Prefect; the first pays what the stages load on first
# use) and as the Prefect flow with the settings `ledgerflow run` uses, first once each,
# then REPEAT times in turns so that a change of the machine's load hits both alike.
# Prints one JSON line: wall and CPU seconds of each step.
FIXED_COST_PROBE = """
import json, sys, time
from pathlib import Path

def clock():
    return time.perf_counter(), time.process_time()

steps = {}
def step(name, since):
    wall, cpu = clock()
    steps.setdefault(name, []).append(
        {"wall": round(wall - since[0], 3), "cpu": round(cpu - since[1], 3)}
    )
    return wall, cpu

began = time.time()
mark = clock()
from ledgerflow import cli
cli._prefect_environment(Path(".ledgerflow"))  # before Prefect reads its settings
mark = step("import_cli", mark)
import prefect
mark = step("import_prefect", mark)
from ledgerflow.paths import load_flow_module
module = load_flow_module("monthly_partner_report")
mark = step("import_ledgerflow", mark)
source, out, repeat = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
order = ["plain_first", "prefect_first"] + ["plain", "prefect"] * repeat
for n, name in enumerate(order):
    target = str(out / f"{n}-{name}")
    if name.startswith("plain"):
        module.report_month(source, target, None, None, None, use_store=False)
    else:
        with cli._run_settings():
            module.monthly_partner_report(
                input_dir=source, output_dir=target, archive=False, use_store=False
            )
    mark = step(name, mark)
print(json.dumps({"steps": steps, "began": began, "ended": time.time()}))
"""
PROBE_REPEAT = 3


# ----------------------------------------------------------------- readers


def reader_reference(path: Path, sheet: str, work: Path) -> dict:
    """Seconds python-calamine and fastexcel need to load ``sheet``; the fastest."""
    out = {"calamine": rb.calamine_reference(path, sheet, work / "perf-calamine.log")}
    result = rb.measure(
        [sys.executable, "-c", FASTEXCEL_LOAD, str(path), sheet],
        work / "perf-fastexcel.log",
        work,
    )
    if result["exit_code"] == 0:
        seconds, rows = result["stdout"].split()[-2:]
        out["fastexcel"] = {
            "seconds": round(float(seconds), 2),
            "rows": int(rows),
            "peak_mib": result["peak_mib"],
        }
    else:
        out["fastexcel"] = {"error": result["stdout"].strip().splitlines()[-1:]}
    timed = {k: v["seconds"] for k, v in out.items() if "seconds" in v}
    out["fastest"] = min(timed, key=timed.get) if timed else None
    return out


def stage_lines(result: dict) -> list[str]:
    """Seconds and peak MiB of each stage, from the run.json of a run."""
    if "run_json" not in result:
        return [f"no run.json; see {result['log']}"]
    info = json.loads(Path(result["run_json"]).read_text("utf-8"))
    timings, peaks = info.get("timings", {}), info.get("peak_mib", {})
    lines = []
    for stage, seconds in timings.items():
        peak = peaks.get(stage)
        memory = f", peak {peak:7.0f} MiB" if isinstance(peak, int | float) else ""
        lines.append(f"{stage:<10} {seconds:8.1f} s{memory}")
    return lines


def readers_case(lines_list: list[int], work: Path, seed: int) -> list[dict]:
    """`ledgerflow run --no-store` on each generated export beside the readers."""
    results = []
    for lines in lines_list:
        folder = rb.synthetic_input(work, lines, seed)
        path = next(folder.glob("*.xlsx"))
        ref = reader_reference(path, demo.SALES_SHEET, work)
        run = rb.run_case(f"perf-synthetic-{lines}", folder, work, None)
        fastest = ref.get(ref["fastest"]) if ref["fastest"] else None
        total = (run.get("timings") or {}).get("total")
        print(
            f"\n{lines:,} lines: ledgerflow run {run['seconds']:.1f} s wall "
            f"(flow {total} s), peak {run['peak_mib']:.0f} MiB, exit {run['exit_code']}"
        )
        for name in ("calamine", "fastexcel"):
            got = ref[name]
            if "seconds" in got:
                print(
                    f"  {name:<10} load {got['seconds']:7.1f} s, "
                    f"peak {got['peak_mib']:6.0f} MiB, {got['rows']:,} rows"
                )
            else:
                print(f"  {name:<10} failed: {got.get('error')}")
        if fastest and isinstance(total, int | float):
            print(
                f"  ratio: flow {total / fastest['seconds']:.1f}x, wall "
                f"{run['seconds'] / fastest['seconds']:.1f}x the fastest reader "
                f"({ref['fastest']})"
            )
        for line in stage_lines(run):
            print(f"    {line}")
        results.append(
            {"case": "readers", "lines": lines, "run": run, "reference": ref}
        )
    return results


# ----------------------------------------------------------------- prefect


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def prefect_server(work: Path):
    """A Prefect server on loopback for the duration; yields its API URL."""
    port = _free_port()
    home = work / ".perf-server-home"
    home.mkdir(parents=True, exist_ok=True)
    env = dict(
        os.environ,
        PREFECT_HOME=str(home),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
    )
    prefect = Path(sys.executable).with_name("prefect")
    log = (work / "perf-prefect-server.log").open("wb")
    proc = subprocess.Popen(
        [str(prefect), "server", "start", "--host", "127.0.0.1", "--port", str(port)],
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}/api"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            with (
                contextlib.suppress(OSError),
                urllib.request.urlopen(f"{url}/health", timeout=2) as answer,
            ):
                if answer.status == 200:
                    break
            if proc.poll() is not None:
                raise SystemExit(f"prefect server stopped; see {log.name}")
            time.sleep(1)
        else:
            raise SystemExit("prefect server did not start within 300 s")
        yield url
    finally:
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(30)
        if proc.poll() is None:
            proc.kill()
        log.close()


def fixed_cost_probe(folder: Path, work: Path, mode: str) -> dict:
    """FIXED_COST_PROBE in a child: median wall and CPU seconds of each step."""
    out = work / f"perf-probe-{mode}-output"
    shutil.rmtree(out, ignore_errors=True)
    repeat = str(PROBE_REPEAT)
    started = time.time()
    result = rb.measure(
        [sys.executable, "-c", FIXED_COST_PROBE, str(folder), str(out), repeat],
        work / f"perf-probe-{mode}.log",
        work,
    )
    lines = [x for x in result["stdout"].splitlines() if x.startswith("{")]
    if result["exit_code"] != 0 or not lines:
        return {"error": f"exit {result['exit_code']}; see {result['log']}"}
    probe = json.loads(lines[-1])
    steps = probe["steps"]
    median = {
        name: {k: float(np.median([t[k] for t in times])) for k in ("wall", "cpu")}
        for name, times in steps.items()
    }
    return {
        "steps": median,
        "all_steps": steps,
        "wall": result["seconds"],
        # to the probe's first line; from its last line to the process's end
        "start": round(probe["began"] - started, 3),
        "exit": round(started + result["seconds"] - probe["ended"], 3),
    }


def fixed_cost_lines(mode: str, probe: dict, runs: list[dict]) -> list[str]:
    """The fixed cost of a run, each part apart (README: "The fixed cost")."""
    if "error" in probe:
        return [f"\n{mode}: probe failed: {probe['error']}"]
    st = probe["steps"]

    def part(label: str, key: str) -> str:
        return (
            f"  {label:<42} {st[key]['wall']:6.2f} s wall, {st[key]['cpu']:6.2f} s CPU"
        )

    def over(key: str, unit: str) -> float:
        return st[key][unit] - st["plain"][unit]

    fixed = st["import_prefect"]["wall"] + over("prefect_first", "wall")
    fixed_cpu = st["import_prefect"]["cpu"] + over("prefect_first", "cpu")
    out = [
        f"\n{mode}:",
        f"  {'interpreter start':<42} {probe['start']:6.2f} s wall",
        part("import ledgerflow.cli", "import_cli"),
        part("import prefect", "import_prefect"),
        part("import the flow (ledgerflow, pandas, ...)", "import_ledgerflow"),
        part("flow body plain, first in the process", "plain_first"),
        part(f"flow body plain (median of {PROBE_REPEAT})", "plain"),
        part("flow via Prefect, first in the process", "prefect_first"),
        part(f"flow via Prefect (median of {PROBE_REPEAT})", "prefect"),
        f"  Prefect orchestration = via Prefect - plain: first in the process "
        f"{over('prefect_first', 'wall'):5.2f} s wall "
        f"({over('prefect_first', 'cpu'):5.2f} CPU), later runs "
        f"{over('prefect', 'wall'):5.2f} s ({over('prefect', 'cpu'):5.2f} CPU)",
        f"  {'exit (Prefect sends what it holds)':<42} {probe['exit']:6.2f} s wall",
        f"  FIXED COST OF PREFECT for one `ledgerflow run` = import prefect + "
        f"first orchestration = {fixed:5.2f} s wall ({fixed_cpu:5.2f} s CPU)",
    ]
    for r in runs:
        total = (r.get("timings") or {}).get("total") or 0.0
        out.append(
            f"  `ledgerflow run` {r['case']:<26} wall {r['seconds']:6.2f} s, flow "
            f"{total:5.2f} s, outside the flow {r['seconds'] - total:5.2f} s, exit "
            f"{r['exit_code']}"
        )
    return out


def prefect_case(work: Path) -> list[dict]:
    """Fixed cost of a run on 5 lines: temporary server vs a running server.

    For each: the probe (imports, the body plain vs via Prefect in one process),
    then `ledgerflow run` twice (wall - the flow's own total = outside the flow).
    """
    folder = rb.tiny_input(work)
    # "temporary" must not reach a server the environment names; put it back after.
    users_api = os.environ.pop("PREFECT_API_URL", None)
    bare = rb.measure([sys.executable, "-c", "pass"], work / "perf-bare.log", work)
    help_ = rb.measure(
        [*rb.ledgerflow_command(), "--help"], work / "perf-help.log", work
    )
    results = {"interpreter": bare["seconds"], "help": help_["seconds"]}
    lines = [
        "\nPrefect's fixed cost (5 sales lines; wall = elapsed, CPU = this "
        "process's own):",
        f"  bare interpreter start {bare['seconds']:.2f} s; `ledgerflow --help` "
        f"{help_['seconds']:.2f} s",
    ]
    for mode in ("temporary", "server"):
        server = prefect_server(work) if mode == "server" else contextlib.nullcontext()
        with server as url:
            if url:
                os.environ["PREFECT_API_URL"] = url
            try:
                probe = fixed_cost_probe(folder, work, mode)
                runs = [
                    rb.run_case(f"perf-tiny-{mode}{suffix}", folder, work, None)
                    for suffix in ("-first", "")
                ]
            finally:
                os.environ.pop("PREFECT_API_URL", None)
        label = (
            "temporary server (no PREFECT_API_URL)"
            if mode == "temporary"
            else "a running server (`prefect server start` on loopback)"
        )
        lines += fixed_cost_lines(label, probe, runs)
        results[mode] = {"probe": probe, "runs": runs}
    if users_api:
        os.environ["PREFECT_API_URL"] = users_api
    print("\n".join(lines))
    return [{"case": "prefect", **results}]


# ------------------------------------------------------------- incremental


def _partners(rng: np.random.Generator, count: int) -> pd.DataFrame:
    """``count`` partners with distinct codes, names and valid BRNs (vectorised)."""
    roots = np.array(["한빛", "으뜸", "하나", "대한", "미래", "서울", "동방", "새한"])
    words = np.array(["상사", "물산", "테크", "산업", "유통", "물류", "전자", "건설"])
    forms = np.array(["(주)", "㈜", "주식회사 ", ""])
    i = np.arange(count)
    names = [
        f"{forms[a]}{roots[b]}{words[c]}{n}"
        for a, b, c, n in zip(
            rng.integers(0, len(forms), count),
            rng.integers(0, len(roots), count),
            rng.integers(0, len(words), count),
            i,
            strict=True,
        )
    ]
    nine = [f"{d:09d}" for d in rng.integers(100_000_000, 999_999_999, count)]
    brns = [f"{n}{demo.brn_check_digit(n)}" for n in nine]
    return pd.DataFrame(
        {
            "partner_code": [f"{n + 1:05d}" for n in i],
            "partner_name": names,
            "brn": brns,
            "weight": rng.pareto(1.2, count) + 0.05,
        }
    )


def month_export(
    path: Path, month: pd.Period, lines: int, people: pd.DataFrame, seed: int
) -> None:
    """One month's sales export in the 12 columns of the demo (title rows, 합계)."""
    rng = np.random.default_rng(seed)
    items = demo.item_catalogue(rng)
    days = pd.bdate_range(month.start_time, month.end_time)
    serial = (days - pd.Timestamp(rb.EXCEL_EPOCH)).days.to_numpy()
    day = np.sort(rng.integers(0, len(days), lines))
    weight = people["weight"].to_numpy() / people["weight"].sum()
    who = rng.choice(len(people), lines, p=weight)
    item = rng.integers(0, len(items), lines)
    qty = rng.integers(1, 50, lines)
    price = np.round(items["list_price"].to_numpy()[item], -1).astype(np.int64) + 10
    supply = qty * price
    vat = supply // 10
    cost = np.round(supply * items["cost_ratio"].to_numpy()[item]).astype(np.int64)
    partial = path.with_name(f".{path.name}.part")
    book = xlsxwriter.Workbook(str(partial), {"constant_memory": True})
    book.set_properties({"created": datetime(2026, 12, 1)})
    sheet = book.add_worksheet(demo.SALES_SHEET)
    day_fmt = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_string(0, 0, "매출 내역")
    sheet.write_string(
        1, 0, f"조회기간 : {days[0]:%Y-%m-%d} ~ {month.end_time:%Y-%m-%d}"
    )
    sheet.write_string(2, 0, "(단위 : 원)")
    sheet.write_row(3, 0, demo.SALES_HEADER)
    codes = people["partner_code"].to_numpy()[who].tolist()
    names = people["partner_name"].to_numpy()[who].tolist()
    item_codes = items["item_code"].to_numpy()[item].tolist()
    item_names = items["item_name"].to_numpy()[item].tolist()
    numbers = [a.tolist() for a in (qty, price, supply, vat, supply + vat, cost)]
    stamp = f"{month.start_time:%Y%m}"
    for n in range(lines):
        r = n + 4
        sheet.write_number(r, 0, int(serial[day[n]]), day_fmt)
        sheet.write_string(r, 1, f"{stamp}-{n + 1:06d}")
        sheet.write_string(r, 2, codes[n])
        sheet.write_string(r, 3, names[n])
        sheet.write_string(r, 4, item_codes[n])
        sheet.write_string(r, 5, item_names[n])
        for c, column in enumerate(numbers, start=6):
            sheet.write_number(r, c, column[n])
    sheet.write_string(lines + 4, 0, demo.SALES_TOTAL_LABEL)
    for c, column in zip(
        (6, 8, 9, 10, 11), (qty, supply, vat, supply + vat, cost), strict=True
    ):
        sheet.write_number(lines + 4, c, int(column.sum()))
    book.close()
    os.replace(partial, path)


MONTHS = pd.period_range("2024-11", periods=25, freq="M")
# A year of the mid-size company (1,000,000 lines) in monthly exports.
MONTH_LINES = 1_000_000 // 12


def month_exports(work: Path, month_lines: int, seed: int, jobs: int) -> Path:
    """The 25 monthly exports of ``month_lines`` lines, written once and kept.

    They are kept in results/perf-months-<lines>/ (each month's file is written
    under a temporary name and renamed when complete, so an interrupted run leaves
    no half file); months already there are not written again. ``jobs`` processes
    write months side by side.
    """
    source = work / f"perf-months-{month_lines}"
    source.mkdir(parents=True, exist_ok=True)
    people = _partners(np.random.default_rng(seed), 5000)
    todo = [
        (source / f"매출내역_{month}.xlsx", month, seed + k)
        for k, month in enumerate(MONTHS)
        if not (source / f"매출내역_{month}.xlsx").exists()
    ]
    started = time.perf_counter()
    if jobs > 1 and len(todo) > 1:
        with ProcessPoolExecutor(min(jobs, len(todo))) as pool:
            waiting = [
                pool.submit(month_export, path, month, month_lines, people, s)
                for path, month, s in todo
            ]
            for done in waiting:
                done.result()
    else:
        for path, month, s in todo:
            month_export(path, month, month_lines, people, s)
    print(
        f"\n25 monthly exports of {month_lines:,} lines in {source}: "
        f"{len(todo)} written in {time.perf_counter() - started:.0f} s"
    )
    return source


def incremental_pair(source: Path, work: Path, mode: str) -> dict:
    """The first run on 24 months (empty store), then again with month 25 added."""
    folder = work / f"perf-incremental-{mode}-input"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir()
    for month in MONTHS[:24]:
        name = f"매출내역_{month}.xlsx"
        (folder / name).symlink_to(source / name)
    name = f"perf-incremental-{mode}"
    store_dir = work / f"{name}-output" / ".state" / "store"
    # Untimed: a first start of Prefect (its database, a new server's first client)
    # must not be counted in the first run.
    rb.run_case(f"perf-warm-up-{mode}", rb.tiny_input(work), work, None)
    first = rb.run_case(name, folder, work, None)  # a new output folder and store
    first["store_entries"] = len(list(store_dir.rglob("meta.json")))
    latest = f"매출내역_{MONTHS[24]}.xlsx"
    (folder / latest).symlink_to(source / latest)
    second = rb.run_case(name, folder, work, None, again=True)
    # 25 entries: month 25 was read, the other 24 came from the store; 49 would
    # mean the parsing rules (e.g. the code) changed between the runs.
    second["store_entries"] = len(list(store_dir.rglob("meta.json")))
    return {"mode": mode, "first": first, "second": second}


def incremental_case(
    work: Path, month_lines: int, seed: int, jobs: int, modes: list[str]
) -> list[dict]:
    """24 months processed, then one new month dropped: second run vs first.

    Each of ``modes``: "temporary" (Prefect's temporary server, no
    PREFECT_API_URL) and "server" (a `prefect server start` on loopback).
    """
    source = month_exports(work, month_lines, seed, jobs)
    users_api = os.environ.pop("PREFECT_API_URL", None)
    pairs = []
    try:
        for mode in modes:
            server = prefect_server(work) if mode == "server" else None
            with server or contextlib.nullcontext() as url:
                if url:
                    os.environ["PREFECT_API_URL"] = url
                try:
                    pairs.append(incremental_pair(source, work, mode))
                finally:
                    os.environ.pop("PREFECT_API_URL", None)
    finally:
        if users_api:
            os.environ["PREFECT_API_URL"] = users_api
    print(
        f"\nincremental, 24 months of {month_lines:,} lines "
        f"({24 * month_lines:,} lines, 5,000 partners), then month 25 added:"
    )
    for pair in pairs:
        first, second = pair["first"], pair["second"]
        share = second["seconds"] / first["seconds"]
        print(
            f"  {pair['mode']:<9}: first run {first['seconds']:7.1f} s wall, with "
            f"month 25 {second['seconds']:6.1f} s = {share:.3f} of the first "
            "(target <= 0.20)"
        )
        for label, run in (("first", first), ("second", second)):
            total = (run.get("timings") or {}).get("total")
            print(
                f"    {label}: exit {run['exit_code']}, flow {total} s, peak "
                f"{run['peak_mib']:.0f} MiB, store entries after it "
                f"{run['store_entries']}"
            )
            for line in stage_lines(run):
                print(f"      {line}")
        if second["store_entries"] != 25:
            print(
                f"    ! {second['store_entries']} store entries, not 25: the parsing "
                "rules (the code or settings) changed between the two runs, so every "
                "file was read again; run the case again"
            )
    return [{"case": "incremental", "month_lines": month_lines, "pairs": pairs}]


# ------------------------------------------------------------------ master


def master_frames(count: int, seed: int) -> tuple[pd.DataFrame, ...]:
    """A partner list of ``count`` partners and one sales line per partner.

    A tenth of the lines name their partner another way (the legal form written
    out) and carry no code, so that matching by name has work to do.
    """
    rng = np.random.default_rng(seed)
    people = _partners(rng, count)
    partners = pd.DataFrame(
        {c: pd.Series([pd.NA] * count, dtype="string") for c in tables.PARTNERS}
    )
    for column in ("partner_code", "partner_name", "brn"):
        partners[column] = people[column].astype("string")
    partners["credit_limit"] = partners["credit_limit"].astype("Float64")
    partners["founded_date"] = pd.Series(pd.NaT, index=partners.index)
    partners["source_file"] = pd.Series("거래처목록.xlsx", index=partners.index)
    partners["source_sheet"] = pd.Series("거래처", index=partners.index)
    partners["source_row"] = np.arange(2, count + 2)
    partners["source_file"] = partners["source_file"].astype("string")
    partners["source_sheet"] = partners["source_sheet"].astype("string")

    sales = pd.DataFrame(
        {c: pd.Series([pd.NA] * count, dtype="string") for c in tables.SALES_LINES}
    )
    renamed = rng.random(count) < 0.1
    names = people["partner_name"].str.replace("(주)", "주식회사 ", regex=False)
    sales["partner_code"] = people["partner_code"].where(~renamed).astype("string")
    sales["partner_name"] = names.astype("string")
    for column in ("doc_date", "promised_date", "delivered_date"):
        sales[column] = pd.Timestamp("2026-11-02")
    for column in ("qty", "unit_price", "supply_amount", "vat_amount"):
        sales[column] = pd.array(np.full(count, 1000.0), dtype="Float64")
    for column in ("total_amount", "cost_amount"):
        sales[column] = pd.array(np.full(count, 1100.0), dtype="Float64")
    sales["doc_no"] = pd.array([f"D{n:07d}" for n in range(count)], dtype="string")
    sales["source_file"] = pd.array(["매출내역.xlsx"] * count, dtype="string")
    sales["source_sheet"] = pd.array(["매출내역"] * count, dtype="string")
    sales["source_row"] = np.arange(5, count + 5)
    receivables = tables.empty_table("receivables")
    return partners, sales, receivables


def master_case(counts: list[int], seed: int) -> list[dict]:
    """master.build_master at each partner count; seconds per 1,000 partners."""
    from ledgerflow import master

    config = load_config(None)
    config["master"]["as_of"] = "2026-11-30"
    results = []
    print("\npartner matching (master.build_master):")
    for count in counts:
        frames = master_frames(count, seed)
        start = time.perf_counter()
        result = master.build_master(*frames, None, config)
        seconds = time.perf_counter() - start
        print(
            f"  {count:>7,} partners: {seconds:6.1f} s "
            f"({seconds / count * 1000:.3f} s per 1,000), "
            f"{len(result.master):,} partners in the master"
        )
        results.append({"case": "master", "partners": count, "seconds": seconds})
    return results


# ------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", nargs="+", choices=CASES, default=CASES)
    parser.add_argument(
        "--lines", nargs="+", type=int, default=[100_000, 250_000], help="readers"
    )
    parser.add_argument(
        "--month-lines",
        type=int,
        default=MONTH_LINES,
        help=f"incremental: lines per month ({MONTH_LINES}: a million a year)",
    )
    parser.add_argument(
        "--modes",
        nargs="+",
        choices=["temporary", "server"],
        default=["temporary", "server"],
        help="incremental: Prefect's temporary server, a running server, or both",
    )
    parser.add_argument(
        "--jobs",
        type=int,
        default=min(2, os.cpu_count() or 1),
        help="processes writing the monthly exports side by side",
    )
    parser.add_argument(
        "--generate-only",
        action="store_true",
        help="write the monthly exports of --month-lines (and nothing else); start "
        "it early, as a million lines a year take minutes to write",
    )
    parser.add_argument(
        "--partners", nargs="+", type=int, default=[5_000, 50_000], help="master"
    )
    parser.add_argument("--results", type=Path, default=rb.BENCH / "results")
    parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED)
    args = parser.parse_args(argv)

    work = args.results.resolve()
    work.mkdir(parents=True, exist_ok=True)
    # Prefect's state for these runs (the temporary server's database) apart from a
    # project's and from run_bench.py's: another bench sharing that SQLite file can
    # hold its temporary server's start for minutes.
    home = work / ".perf-prefect-home"
    home.mkdir(exist_ok=True)  # Prefect does not create it reliably (cli.py)
    os.environ["PREFECT_HOME"] = str(home)
    info = rb.machine()
    print("machine: " + ", ".join(f"{k} {v}" for k, v in info.items()))
    results: list[dict] = []
    if args.generate_only:
        month_exports(work, args.month_lines, args.seed, args.jobs)
        return 0
    if "prefect" in args.cases:
        results += prefect_case(work)
    if "readers" in args.cases:
        results += readers_case(args.lines, work, args.seed)
    if "incremental" in args.cases:
        results += incremental_case(
            work, args.month_lines, args.seed, args.jobs, args.modes
        )
    if "master" in args.cases:
        results += master_case(args.partners, args.seed)

    def plain(value):
        if isinstance(value, dict):
            return {k: plain(v) for k, v in value.items() if k != "stdout"}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    out = work / f"perf-{stamp}.json"
    out.write_text(
        json.dumps(
            {"machine": info, "date": str(date.today()), "results": plain(results)},
            indent=2,
            ensure_ascii=False,
            default=str,
        ),
        encoding="utf-8",
    )
    print(f"\nfigures saved to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
