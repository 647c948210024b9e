"""Seconds of the compute stages between reading and writing (issue 8).

    /work/venv/bin/python bench/compute_bench.py INPUT_DIR [--repeat N]
    /work/venv/bin/python bench/compute_bench.py INPUT_DIR --save ref.pkl
    /work/venv/bin/python bench/compute_bench.py INPUT_DIR --check ref.pkl

The input folder is read and validated once (through the store, kept under
``--cache``, default /tmp/ledgerflow-compute-bench/<folder name>), and the outcomes are
pickled there; later runs load the pickle and time only what the flow
(flows/monthly_partner_report.py ``report_month``) does between reading and writing:
combining the files' tables, the partner master and partner IDs, profitability,
contact figures, the evaluation (customers and suppliers), purchase insights and the
contact history, called with the same arguments as the flow.

``--save`` pickles every stage's result; ``--check`` compares them with a pickle saved
before a change, exactly (frames with ``assert_frame_equal(check_exact=True)``), and
says which result differs. Speed is measured here, never asserted in tests.
"""

from __future__ import annotations

import argparse
import dataclasses
import pickle
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

from ledgerflow import (
    assemble,
    contacts,
    decisions,
    evaluation,
    insights,
    master,
    metrics,
    read,
    store,
    validate,
)
from ledgerflow.config import load_config

KINDS = [
    "sales_lines",
    "receivables",
    "partners",
    "purchases",
    "assessments",
    "costs",
    "contacts_log",
]


def load_outcomes(input_dir: Path, cache: Path) -> list:
    """The folder's outcomes as the flow has them after reading (pickled in cache)."""
    pickled = cache / "outcomes.pkl"
    if pickled.exists():
        with pickled.open("rb") as handle:
            return pickle.load(handle)
    config = load_config(None)
    config.setdefault("store", {})["location"] = str(cache / "store")
    kept = store.open_store(config, cache)
    schemas = validate.load_table_schemas()
    paths = read.list_archived(input_dir) + read.list_inputs(input_dir)
    paths = [p for p in paths if not decisions.is_decision_workbook(p)]
    loaded = [
        store.read_validated(p.absolute(), config, schemas, kept)[0] for p in paths
    ]
    outcomes = assemble.drop_repeated_files(loaded)
    cache.mkdir(parents=True, exist_ok=True)
    with pickled.open("wb") as handle:
        pickle.dump(outcomes, handle)
    return outcomes


class Clock:
    """Wall and CPU seconds per named step, summed over repeats.

    CPU seconds (this process only) are the steadier figure on a shared machine.
    """

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def __call__(self, name: str, func, *args, **kwargs):
        start, cpu = time.perf_counter(), time.process_time()
        out = func(*args, **kwargs)
        self.seconds[name] = self.seconds.get(name, 0.0) + time.perf_counter() - start
        self.cpu[name] = self.cpu.get(name, 0.0) + time.process_time() - cpu
        return out


def run_stages(outcomes: list, clock: Clock, state: Path) -> dict:
    """What report_month computes between reading and writing; results by name."""
    config = load_config(None)
    t = clock
    frames = {k: t(f"combine.{k}", assemble.combine, outcomes, k) for k in KINDS}
    sales = frames["sales_lines"]
    receivables = frames["receivables"]
    purchases = frames["purchases"]
    dated = sales if len(sales) else purchases
    chosen, _why = assemble.choose_period(None, dated, receivables)
    coverage = t("period_notes", assemble.period_notes, chosen, dated)

    if not config["master"]["as_of"]:
        config["master"]["as_of"] = str(chosen.end.date())
    previous = master.load_id_registry(state / "partner_ids.csv")
    result = t(
        "master.build_master",
        master.build_master,
        frames["partners"],
        sales,
        receivables,
        previous,
        config,
    )
    attached = {}
    for kind in ["sales_lines", "receivables", "assessments", "costs", "contacts_log"]:
        attached[kind] = t(
            f"master.attach_partner_ids.{kind}",
            assemble.attach_partner_ids,
            frames[kind],
            result.code_map,
        )
    purchases = t(
        "master.supplier_ids", evaluation.supplier_ids, purchases, result.code_map
    )
    sales = attached["sales_lines"]
    receivables = attached["receivables"]

    profit = t(
        "metrics.profitability",
        metrics.profitability,
        sales,
        receivables,
        result.master,
        chosen,
        config,
        costs=attached["costs"],
    )
    profit.notes[:0] = coverage
    touch = t(
        "contacts.contact_summary",
        contacts.contact_summary,
        attached["contacts_log"],
        result.master,
        chosen,
    )
    result.master = t(
        "contacts.with_summary",
        contacts.with_summary,
        result.master,
        touch,
        contacts.SUMMARY_KEYS,
    )
    if profit.detail is not None:
        month = profit.detail.windows["month"]
        profit.detail.windows["month"] = t(
            "contacts.with_summary",
            contacts.with_summary,
            month,
            touch,
            contacts.SHARED_KEYS,
        )
    decision_log = t(
        "decisions.update_log", decisions.update_log, state / "decisions.csv", []
    )
    judged = {
        "assessments": attached["assessments"],
        "decisions": decision_log,
        "asof": chosen.end,
    }
    scored = t(
        "evaluation.evaluate",
        evaluation.evaluate,
        sales,
        receivables,
        result.master,
        chosen.year,
        config,
        previous=None,
        **judged,
    )
    suppliers = None
    if len(purchases):
        suppliers = t(
            "evaluation.evaluate.suppliers",
            evaluation.evaluate,
            purchases,
            None,
            result.master,
            chosen.year,
            config,
            side="supplier",
            previous=None,
            **judged,
        )
    patterns = t(
        "insights.compute_insights",
        insights.compute_insights,
        sales,
        result.master,
        chosen,
        config,
        receivables,
    )
    result.master = t(
        "insights.master_with_tags",
        insights.master_with_tags,
        result.master,
        patterns.tags,
    )
    history = t(
        "contacts.contact_history", contacts.contact_history, frames["contacts_log"]
    )
    return {
        "frames": frames,
        "attached": attached,
        "purchases": purchases,
        "master": result,
        "profit": profit,
        "touch": touch,
        "scored": scored,
        "suppliers": suppliers,
        "insights": patterns,
        "history": history,
    }


# ------------------------------------------------------------------ comparing


def compare(old, new, where: str, problems: list[str]) -> None:
    """Exact comparison of two results; each difference appended to problems."""
    if isinstance(old, pd.DataFrame):
        try:
            pd.testing.assert_frame_equal(old, new, check_exact=True)
        except AssertionError as error:
            problems.append(f"{where}: {str(error)[:600]}")
    elif isinstance(old, pd.Series):
        try:
            pd.testing.assert_series_equal(old, new, check_exact=True)
        except AssertionError as error:
            problems.append(f"{where}: {str(error)[:600]}")
    elif dataclasses.is_dataclass(old) and not isinstance(old, type):
        if type(old) is not type(new):
            problems.append(f"{where}: {type(old)} != {type(new)}")
            return
        for f in dataclasses.fields(old):
            compare(
                getattr(old, f.name),
                getattr(new, f.name),
                f"{where}.{f.name}",
                problems,
            )
    elif isinstance(old, dict):
        if list(old) != list(new):
            problems.append(f"{where}: keys {list(old)} != {list(new)}")
            return
        for key in old:
            compare(old[key], new[key], f"{where}[{key!r}]", problems)
    elif isinstance(old, list | tuple):
        if len(old) != len(new):
            problems.append(f"{where}: length {len(old)} != {len(new)}")
            return
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            compare(a, b, f"{where}[{i}]", problems)
    elif isinstance(old, np.ndarray):
        if not np.array_equal(old, new):
            problems.append(f"{where}: arrays differ")
    else:
        try:
            same = bool(old == new) or (old is None and new is None)
        except (TypeError, ValueError):
            same = repr(old) == repr(new)
        if not same and not (pd.isna(old) is True and pd.isna(new) is True):
            problems.append(f"{where}: {old!r} != {new!r}")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("input", type=Path)
    parser.add_argument("--cache", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--save", type=Path, default=None)
    parser.add_argument("--check", type=Path, default=None)
    args = parser.parse_args(argv)
    cache = args.cache or Path(tempfile.gettempdir()) / (
        "ledgerflow-compute-bench/" + args.input.resolve().name
    )
    start = time.perf_counter()
    outcomes = load_outcomes(args.input, cache)
    print(f"loaded {args.input} in {time.perf_counter() - start:.1f} s")
    clock = Clock()
    results = None
    for _ in range(args.repeat):
        with tempfile.TemporaryDirectory() as state:
            results = run_stages(outcomes, clock, Path(state))
    # The flow's stages: "validate" combines tables, "master" includes attaching
    # partner IDs; "metrics" is everything else up to writing.
    groups: dict[str, list[float]] = {}
    print(f"  {'step':40s} {'wall s':>8s} {'cpu s':>8s}")
    for name, seconds in clock.seconds.items():
        cpu = clock.cpu[name]
        stage = "master" if name.startswith("master.") else "metrics"
        if name.startswith("combine.") or name == "period_notes":
            stage = "validate"
        total = groups.setdefault(stage, [0.0, 0.0])
        total[0] += seconds / args.repeat
        total[1] += cpu / args.repeat
        print(f"  {name:40s} {seconds / args.repeat:8.2f} {cpu / args.repeat:8.2f}")
    for stage, (seconds, cpu) in groups.items():
        print(f"{stage:42s} {seconds:8.2f} {cpu:8.2f}")
    if args.save:
        with args.save.open("wb") as handle:
            pickle.dump(results, handle)
        print(f"results saved to {args.save}")
    if args.check:
        with args.check.open("rb") as handle:
            reference = pickle.load(handle)
        problems: list[str] = []
        compare(reference, results, "results", problems)
        for problem in problems:
            print("DIFFERS", problem)
        print("identical" if not problems else f"{len(problems)} differences")
        return 1 if problems else 0
    return 0


if __name__ == "__main__":
    sys.exit(main())
