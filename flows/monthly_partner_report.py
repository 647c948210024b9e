"""Prefect flow `monthly-partner-report`: exports in input/ -> workbooks in output/.

Only wiring lives here: each task body calls a stage function from src/ledgerflow/.
Tasks are not cached (NO_CACHE): a cache keyed on paths would return stale figures
after a file is corrected in place (../shared/cases/19), and the stages are cheap
compared with reading, which is kept per file content by the store (issue 8).

Task runs cost Prefect work (state events, a thread hop), so the files are read in one
task, `read-validate-files`, unless the flow runs on a parallel task runner (Dask,
`--workers`), where each file is its own `read-validate-file` task. Called outside a
flow run, report_month runs the same stages as plain functions (no Prefect at all):
bench/perf_bench.py times Prefect's share of a run that way.

Run it with `ledgerflow run`, or `python flows/monthly_partner_report.py --input ...`.
"""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import cloudpickle
from prefect import flow, get_run_logger, task
from prefect.cache_policies import NO_CACHE
from prefect.context import FlowRunContext
from prefect.task_runners import ThreadPoolTaskRunner
from prefect.utilities.annotations import quote

from ledgerflow import (
    assemble,
    contacts,
    decisions,
    evaluation,
    handover,
    insights,
    master,
    metrics,
    publish,
    read,
    runinfo,
    runlock,
    schedule,
    store,
    validate,
)
from ledgerflow.config import load_config

if __name__ in sys.modules and __name__ != "__main__":
    # Loaded from its file under a made-up name (paths.load_flow_module) that Dask
    # workers cannot import: send the task functions to them by value instead.
    cloudpickle.register_pickle_by_value(sys.modules[__name__])

log = logging.getLogger(__name__)


def _call(stage, *args, **kwargs):
    """``stage`` as a task run inside a flow run, as the plain function outside one.

    Arguments wrapped in quote() (here or as a value of a dict argument) reach the
    stage unwrapped; Prefect does not walk through them. It walks every other
    argument twice per task run, looking for futures and upstream results: the
    settings are hundreds of values and the files' reject records can be hundreds of
    thousands (Online Retail), which no task's inputs need to show.
    """
    if FlowRunContext.get() is not None:
        return stage(*args, **kwargs)
    return stage.fn(
        *(_unquote(a) for a in args), **{k: _unquote(v) for k, v in kwargs.items()}
    )


def _unquote(value):
    if isinstance(value, quote):
        return value.unquote()
    if isinstance(value, dict):
        return {k: _unquote(v) for k, v in value.items()}
    return value


def _read_all(paths: list[Path], config: dict, schemas: dict, kept) -> list:
    """(outcome, from_store) of each file, in the order of ``paths``.

    Outside a flow run: plain calls. On the default runner (one thread): one task
    for every file, as each task run costs Prefect work and the files are read one
    after another anyway. On a parallel runner (Dask): one task per file, submitted
    together so the workers read them side by side. Paths are absolute: Dask workers
    may run in another working folder.
    """
    paths = [p.absolute() for p in paths]
    context = FlowRunContext.get()
    if context is None:
        return [store.read_validated(p, config, schemas, kept) for p in paths]
    if isinstance(context.task_runner, ThreadPoolTaskRunner):
        return read_validate_files(paths, quote(config), quote(schemas), quote(kept))
    # Not quoted: a quote() sent to a Dask worker arrives there as a plain tuple.
    futures = [read_validate_file.submit(p, config, schemas, kept) for p in paths]
    return [future.result() for future in futures]


def _peak_mib() -> float | None:
    """The peak resident memory of this process so far, in MiB (None on Windows)."""
    try:
        import resource
    except ImportError:
        return None
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss  # KiB; bytes on macOS
    return round(peak / (2**20 if sys.platform == "darwin" else 2**10), 1)


# ----------------------------------------------------------------------------- Extract


@task(name="read-validate-file", cache_policy=NO_CACHE)
def read_validate_file(path: Path, config: dict, schemas: dict, kept):
    # From the store when it holds these bytes under these rules, else read (the
    # store's key is the content's SHA-256, so a file corrected in place is re-read).
    return store.read_validated(path, config, schemas, kept)


@task(name="read-validate-files", cache_policy=NO_CACHE)
def read_validate_files(paths: list[Path], config: dict, schemas: dict, kept):
    # The files of a run one after another in one task run (see _read_all).
    return [store.read_validated(p, config, schemas, kept) for p in paths]


# --------------------------------------------------------------------------- Transform


@task(name="build-master", cache_policy=NO_CACHE)
def build_master(partners, sales, receivables, registry_path: Path, config: dict):
    previous = master.load_id_registry(registry_path)
    return master.build_master(partners, sales, receivables, previous, config)


@task(name="profitability", cache_policy=NO_CACHE)
def profitability(sales, receivables, master_frame, period, config: dict, costs=None):
    return metrics.profitability(
        sales, receivables, master_frame, period, config, costs=costs
    )


@task(name="evaluate", cache_policy=NO_CACHE)
def evaluate(sales, receivables, master_frame, year: int, config: dict, **extra):
    return evaluation.evaluate(sales, receivables, master_frame, year, config, **extra)


@task(name="insights", cache_policy=NO_CACHE)
def purchase_insights(sales, master_frame, period, config: dict, receivables):
    return insights.compute_insights(sales, master_frame, period, config, receivables)


# -------------------------------------------------------------------------------- Load


@task(name="write-workbooks", cache_policy=NO_CACHE)
def write_workbooks(plan: dict) -> list[Path]:
    return publish.write_all(**plan)


@task(name="archive-inputs", cache_policy=NO_CACHE)
def archive_inputs(summary: dict, input_dir: str) -> int:
    return len(handover.archive_run(summary, Path(input_dir)))


@task(name="share-run", cache_policy=NO_CACHE)
def share_run(summary, out_dir, written, profit, n_partners, config, lang) -> dict:
    return handover.share_run(
        summary, out_dir, written, profit, n_partners, config, lang
    )


# One file after another by default; `ledgerflow run --workers N` or --dask-address
# swap in Prefect's DaskTaskRunner (cli.py), which reads files in parallel.
@flow(
    name="monthly-partner-report",
    log_prints=False,
    task_runner=ThreadPoolTaskRunner(max_workers=1),
)
def monthly_partner_report(
    input_dir: str = "input",
    output_dir: str = "output",
    period: str | None = None,
    lang: str | None = None,
    config_path: str | None = None,
    archive: bool | None = None,
    use_store: bool = True,
) -> dict:
    """Read every export in input_dir and write the month's workbooks and run.json.

    period "scheduled": the month before the run's scheduled start (schedule.py).
    The output folder's run lock is held throughout (runlock.py); archive (None =
    the config's archive.run) moves the inputs read out of input_dir at the end.
    use_store False reads every file again, without the store (store.py).
    """
    config = load_config(Path(config_path) if config_path else None)
    period = schedule.resolve_period(period, config)
    state_dir = Path(output_dir) / ".state"
    with runlock.run_lock(state_dir, config["schedule"]["lock_wait_seconds"]):
        summary = report_month(
            input_dir, output_dir, period, lang, config_path, use_store
        )
        if config["archive"]["run"] if archive is None else archive:
            archive_inputs(summary, input_dir)
    return summary


def report_month(
    input_dir: str,
    output_dir: str,
    period: str | None,
    lang: str | None,
    config_path: str | None,
    use_store: bool = True,
) -> dict:
    """The body of the flow: read, validate, master, metrics, workbooks, run.json."""
    logger = get_run_logger() if FlowRunContext.get() else log
    timings: dict[str, float] = {}
    peak_mib: dict[str, float | None] = {}  # peak RSS of this process after a stage
    started = time.perf_counter()
    config = load_config(Path(config_path) if config_path else None)
    lang = lang or config["run"]["lang"]

    # Archived months first: history that earlier runs moved away; a new drop of the
    # same bytes is then the repeat, counted once (assemble.drop_repeated_files).
    paths = read.list_archived(Path(input_dir)) + read.list_inputs(Path(input_dir))
    # Filled-in evaluation workbooks carry decisions, not data (decisions.py).
    decided = [p for p in paths if decisions.is_decision_workbook(p)]
    paths = [p for p in paths if p not in decided]
    logger.info("input %s: %d files to read", input_dir, len(paths))
    schemas = validate.load_table_schemas()
    kept = store.open_store(config, Path(output_dir)) if use_store else None
    loaded = _read_all(paths, config, schemas, kept)
    outcomes = assemble.drop_repeated_files([outcome for outcome, _ in loaded])
    logger.info(
        "input %s: %d of %d files taken from the store",
        input_dir,
        sum(from_store for _, from_store in loaded),
        len(loaded),
    )
    # "read" is reading and validating (or taking from the store); "validate" is
    # what is left: combining the files' tables.
    timings["read"] = time.perf_counter() - started
    peak_mib["read"] = _peak_mib()

    mark = time.perf_counter()
    sales = assemble.combine(outcomes, "sales_lines")
    receivables = assemble.combine(outcomes, "receivables")
    partners = assemble.combine(outcomes, "partners")
    purchases = assemble.combine(outcomes, "purchases")
    assessments = assemble.combine(outcomes, "assessments")
    costs = assemble.combine(outcomes, "costs")
    contact_log = assemble.combine(outcomes, "contacts_log")
    timings["validate"] = time.perf_counter() - mark
    peak_mib["validate"] = _peak_mib()

    dated = sales if len(sales) else purchases
    chosen, why = assemble.choose_period(period, dated, receivables)
    coverage = assemble.period_notes(chosen, dated) + assemble.overlap_notes(sales)
    logger.info("period %s (%s) %s", chosen, why, "; ".join(coverage))
    out_dir = Path(output_dir)
    registry = out_dir / ".state" / "partner_ids.csv"

    mark = time.perf_counter()
    if not config["master"]["as_of"]:
        # Partner status is judged at the end of the reported month, not "today".
        config["master"]["as_of"] = str(chosen.end.date())
    result = _call(build_master, partners, sales, receivables, registry, quote(config))
    sales = assemble.attach_partner_ids(sales, result.code_map)
    receivables = assemble.attach_partner_ids(receivables, result.code_map)
    assessments = assemble.attach_partner_ids(assessments, result.code_map)
    costs = assemble.attach_partner_ids(costs, result.code_map)
    contact_log = assemble.attach_partner_ids(contact_log, result.code_map)
    purchases = evaluation.supplier_ids(purchases, result.code_map)
    timings["master"] = time.perf_counter() - mark
    peak_mib["master"] = _peak_mib()

    mark = time.perf_counter()
    profit = _call(
        profitability,
        sales,
        receivables,
        result.master,
        chosen,
        quote(config),
        costs=costs,
    )
    profit.notes[:0] = coverage
    # Contact figures: all four in the master, the counts only in the shared month.
    touch = contacts.contact_summary(contact_log, result.master, chosen)
    result.master = contacts.with_summary(result.master, touch, contacts.SUMMARY_KEYS)
    if profit.detail is not None:
        month = profit.detail.windows["month"]
        profit.detail.windows["month"] = contacts.with_summary(
            month, touch, contacts.SHARED_KEYS
        )
    state = out_dir / ".state"
    decision_log = decisions.update_log(
        state / "decisions.csv", decisions.read_all(decided)
    )
    judged = {
        "assessments": assessments,
        "decisions": decision_log,
        "asof": chosen.end,
    }
    last_year = state / f"evaluation_{chosen.year - 1}.csv"
    scored = _call(
        evaluate,
        sales,
        receivables,
        result.master,
        chosen.year,
        quote(config),
        previous=decisions.load_scorecard(last_year),
        **judged,
    )
    suppliers = None
    if len(purchases):
        last_year = state / f"evaluation_suppliers_{chosen.year - 1}.csv"
        suppliers = _call(
            evaluate,
            purchases,
            None,
            result.master,
            chosen.year,
            quote(config),
            side="supplier",
            previous=decisions.load_scorecard(last_year),
            **judged,
        )
    patterns = _call(
        purchase_insights, sales, result.master, chosen, quote(config), receivables
    )
    result.master = insights.master_with_tags(result.master, patterns.tags)
    timings["metrics"] = time.perf_counter() - mark
    peak_mib["metrics"] = _peak_mib()

    mark = time.perf_counter()
    written = _call(
        write_workbooks,
        {
            "out_dir": out_dir / str(chosen),
            "period": chosen,
            "period_reason": why,
            "lang": lang,
            "master_result": result,
            "profitability": profit,
            "evaluation": scored,
            "suppliers": suppliers,
            "insights": patterns,
            "outcomes": quote(outcomes),
            "contacts": contacts.contact_history(contact_log),
            "sales": sales,
            "settings": config["output"],
        },
    )
    master.save_id_registry(result, registry)
    decisions.save_scorecard(
        state / f"evaluation_{chosen.year}.csv", scored.scorecard, chosen.year
    )
    if suppliers is not None:
        decisions.save_scorecard(
            state / f"evaluation_suppliers_{chosen.year}.csv",
            suppliers.scorecard,
            chosen.year,
        )
    timings["write"] = time.perf_counter() - mark
    peak_mib["write"] = _peak_mib()
    timings["total"] = time.perf_counter() - started

    summary = publish.run_summary(chosen, why, outcomes, written, timings)
    summary["period_notes"] = coverage
    # Say which files were not read again (unchanged bytes, taken from the store);
    # summary["inputs"] is in the order of ``loaded``.
    for entry, (_, from_store) in zip(summary["inputs"], loaded, strict=True):
        entry["from_store"] = from_store
    summary["outputs"] += _call(
        share_run,
        quote(summary),
        out_dir / str(chosen),
        written,
        profit,
        len(result.master),
        quote(config),
        lang,
    )["outputs"]
    summary["peak_mib"] = peak_mib
    runinfo.write_run_json(out_dir / str(chosen) / "run.json", summary)
    logger.info(
        "period %s: %d files, %d refused, %d rows rejected; outputs in %s",
        chosen,
        len(outcomes),
        sum(o.read.refused is not None for o in outcomes),
        sum(o.rows_rejected for o in outcomes),
        out_dir / str(chosen),
    )
    return summary


if __name__ == "__main__":
    from ledgerflow.cli import main

    sys.exit(main(["run", *sys.argv[1:]]))
