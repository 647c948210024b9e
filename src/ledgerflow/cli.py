"""The `ledgerflow` command: run the monthly job, make demo data, inspect inputs.

The CLI checks what it can cheaply (arguments, config, an empty input folder) before it
starts Prefect, because starting Prefect costs seconds and a typo should not.
"""

from __future__ import annotations

import argparse
import contextlib
import logging
import os
import sys
from pathlib import Path

from ledgerflow import __version__
from ledgerflow.config import USER_CONFIG_NAME
from ledgerflow.errors import ConfigError, LedgerflowError, UsageError

EXIT_OK, EXIT_INCOMPLETE, EXIT_USAGE, EXIT_FAILED = 0, 1, 2, 3


def _prefect_environment(state_dir: Path) -> None:
    """Keep Prefect's files with the project and give its first start enough time.

    Without a server Prefect starts a temporary one whose first start migrates a
    SQLite database (over a minute on a fresh machine, ../shared/cases/20), so the
    startup timeout is raised; analytics are off unless the user turned them on.
    """
    home = (state_dir / "prefect").resolve()
    home.mkdir(parents=True, exist_ok=True)  # Prefect does not create it reliably
    os.environ.setdefault("PREFECT_HOME", str(home))
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "180")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    # Prefect's per-task "Finished in state Completed()" lines drown the summary the
    # CLI prints; PREFECT_LOGGING_LEVEL=INFO brings them back.
    os.environ.setdefault("PREFECT_LOGGING_LEVEL", "WARNING")


def _run_settings():
    """Prefect settings for the one flow run of `ledgerflow run` (a context manager).

    Flow-run heartbeats are off: Prefect's heartbeat thread sleeps in one-second
    steps and every flow run waits for it at its end (up to a second a run, a third
    of Prefect's fixed cost against a running server), and a run in a terminal that
    ends with its process needs no crash detection. Set
    PREFECT_FLOWS_HEARTBEAT_FREQUENCY (seconds, at least 30) to keep them, e.g. for
    a server automation that marks runs without heartbeats as crashed.
    """
    if os.environ.get("PREFECT_FLOWS_HEARTBEAT_FREQUENCY"):
        return contextlib.nullcontext()
    from prefect.settings import temporary_settings

    return temporary_settings(updates={"flows.heartbeat_frequency": None})


def _config_path(args: argparse.Namespace) -> Path | None:
    """The settings file: --config (which must exist), else ./ledgerflow.toml if any.

    A --config that names no file is an error: silently running on the defaults
    would hide a typo in the path.
    """
    if getattr(args, "config", None):
        path = Path(args.config)
        if not path.is_file():
            raise ConfigError(f"{path}: no such settings file; check the --config path")
        return path
    default = Path(USER_CONFIG_NAME)
    return default if default.is_file() else None


def _load_flow_module(name: str):
    from ledgerflow.paths import load_flow_module

    return load_flow_module(name)


def _with_task_runner(flow, workers: int, address: str | None):
    """``flow`` on Prefect's Dask task runner for --workers / --dask-address.

    Only the per-file read and validate tasks are submitted to the runner; the rest
    of the flow runs in this process. Without either option the flow is unchanged
    (one file after another, in this process).
    """
    if not workers and not address:
        return flow
    try:
        from prefect_dask import DaskTaskRunner
    except ImportError as exc:
        raise UsageError(
            "--workers and --dask-address need prefect-dask and dask.distributed; "
            "install them with: pip install prefect-dask 'dask[distributed]'"
        ) from exc
    if address:
        return flow.with_options(task_runner=DaskTaskRunner(address=address))
    cluster = {
        "n_workers": workers,
        "threads_per_worker": 1,  # reading holds the GIL: processes, not threads
        "processes": True,
        "host": "127.0.0.1",  # a local cluster listens on loopback only
        "dashboard_address": "127.0.0.1:0",  # any free port, loopback only
    }
    return flow.with_options(task_runner=DaskTaskRunner(cluster_kwargs=cluster))


def _cmd_run(args: argparse.Namespace) -> int:
    from ledgerflow.config import load_config
    from ledgerflow.period import Period
    from ledgerflow.read import list_archived, list_inputs

    input_dir, output_dir = Path(args.input), Path(args.output)
    if args.period:
        Period.parse(args.period)  # a bad period fails here, before Prefect starts
    config_path = _config_path(args)
    load_config(config_path)  # a bad config fails here too
    if not input_dir.is_dir():
        print(f"{input_dir}: no such folder; create it and drop exports into it")
        return EXIT_USAGE
    if not list_inputs(input_dir) and not list_archived(input_dir):
        print(
            f"{input_dir}: no exports to read (xlsx, xlsm, xls, csv, txt); drop "
            "files there, or run `ledgerflow demo` to create demo data"
        )
        return EXIT_INCOMPLETE

    if args.workers < 0:
        raise UsageError(f"--workers {args.workers}: give 1 or more worker processes")
    _prefect_environment(Path(".ledgerflow"))
    flow_module = _load_flow_module("monthly_partner_report")
    flow = _with_task_runner(
        flow_module.monthly_partner_report, args.workers, args.dask_address
    )
    with _run_settings():
        summary = flow(
            input_dir=str(input_dir),
            output_dir=str(output_dir),
            period=args.period,
            lang=args.lang,
            config_path=str(config_path) if config_path else None,
            archive=args.archive,
            use_store=not args.no_store,
        )
    lang = args.lang or load_config(config_path)["run"]["lang"]
    return _print_summary(summary, lang, output_dir)


def _cmd_serve(args: argparse.Namespace) -> int:
    """Register the scheduled deployments on a persistent server and run them."""
    import datetime as dt

    from ledgerflow import schedule
    from ledgerflow.config import load_config

    config_path = _config_path(args)
    config = load_config(config_path)
    settings = config["schedule"]
    _prefect_environment(Path(".ledgerflow"))
    api_url = schedule.check_server()  # before anything registers
    now = dt.datetime.now(dt.UTC)
    for name in ("monthly_cron", "annual_cron"):
        if settings[name]:
            runs = schedule.next_runs(settings[name], settings["timezone"], now)
            shown = ", ".join(r.isoformat(timespec="minutes") for r in runs)
            print(f"{name} {settings[name]!r} ({settings['timezone']}): next {shown}")
    deployments = schedule.build_deployments(
        config,
        input_dir=args.input,
        output_dir=args.output,
        config_path=str(config_path) if config_path else None,
        monthly_flow=_load_flow_module("monthly_partner_report").monthly_partner_report,
        annual_flow=_load_flow_module("annual_evaluation").annual_evaluation,
    )
    print(f"serving {len(deployments)} deployments on {api_url}; stop with Ctrl+C")
    schedule.serve_forever(deployments)
    return EXIT_OK


def _cmd_watch(args: argparse.Namespace) -> int:
    """Poll --input and run the monthly flow on each new batch of exports."""
    from ledgerflow import watch
    from ledgerflow.config import load_config

    config_path = _config_path(args)
    config = load_config(config_path)
    settings = config["watch"]
    input_dir, output_dir = Path(args.input), Path(args.output)
    if not input_dir.is_dir():
        print(f"{input_dir}: no such folder; create it and drop exports into it")
        return EXIT_USAGE
    archive = config["archive"]["watch"] if args.archive is None else args.archive
    _prefect_environment(Path(".ledgerflow"))
    flow_module = _load_flow_module("monthly_partner_report")

    def run_once() -> dict:
        summary = flow_module.monthly_partner_report(
            input_dir=str(input_dir),
            output_dir=str(output_dir),
            lang=args.lang,
            config_path=str(config_path) if config_path else None,
            archive=archive,
        )
        _print_summary(summary, args.lang or config["run"]["lang"], output_dir)
        return summary

    watcher = watch.Watcher(
        input_dir=input_dir,
        state_dir=output_dir / ".state",
        runner=run_once,
        batcher=watch.Batcher(settings["settle_seconds"], settings["debounce_seconds"]),
        archive=archive,
        lang=args.lang or config["run"]["lang"],
    )
    print(f"watching {input_dir} every {settings['poll_seconds']} s; stop with Ctrl+C")
    try:
        watcher.loop(settings["poll_seconds"], max_runs=1 if args.once else None)
    except KeyboardInterrupt:
        print("stopped")
    return EXIT_OK


def _print_summary(summary: dict, lang: str, output_dir: Path) -> int:
    """The run in ``lang``: each file's row account, what was written, where to look.

    Outputs are listed relative to the month folder, which is named once.
    """
    from ledgerflow.labels import phrase

    refused = [i for i in summary["inputs"] if i.get("refused")]
    print(f"ledgerflow: {phrase(summary['period_reason'], lang)}: {summary['period']}")
    for note in summary.get("period_notes", []):
        code, _, detail = note.partition(": ")
        print(f"  ! {phrase(code, lang)}: {detail}")
    for entry in summary["inputs"]:
        rows = entry["rows"]
        if entry.get("refused"):
            reason = entry["refused"]["reason"]
            print("  " + phrase("cli_refused", lang, file=entry["name"], reason=reason))
        else:
            line = phrase("cli_rows", lang, file=entry["name"], **rows)
            if entry.get("from_store"):
                line += " " + phrase("cli_from_store", lang)
            print("  " + line)
    month_dir = output_dir / str(summary["period"])
    print(phrase("cli_wrote_in", lang, folder=month_dir))
    for out in summary["outputs"]:
        print(f"  {out}")
    if refused:
        rejects = [o for o in summary["outputs"] if Path(o).name.startswith("rejects_")]
        where = month_dir / rejects[0] if rejects else month_dir
        print(phrase("cli_refused_total", lang, count=len(refused), path=where))
        return EXIT_INCOMPLETE
    return EXIT_OK


def _cmd_demo(args: argparse.Namespace) -> int:
    from ledgerflow.demo import generate_demo

    folder = Path(args.input)
    before = {p: _identity(p) for p in folder.glob("*")} if folder.is_dir() else {}
    kept = 0
    for path in generate_demo(folder, overwrite=args.overwrite):
        # a file already there with the same content is left alone, not rewritten
        if path in before and before[path] == _identity(path):
            kept += 1
            print(f"  kept {path} (the same demo content was already there)")
        else:
            print(f"  wrote {path}")
    if kept:
        print(
            f"{kept} file(s) kept as they were; a demo file you changed is replaced "
            "only with `ledgerflow demo --overwrite`"
        )
    print(f"demo data in {args.input}; next: ledgerflow run")
    return EXIT_OK


def _identity(path: Path) -> tuple[int, int]:
    """Inode and modification time: both change when a file is replaced."""
    stat = path.stat()
    return stat.st_ino, stat.st_mtime_ns


def _cmd_profiles(args: argparse.Namespace) -> int:
    from ledgerflow.read import load_profiles

    for profile in load_profiles():
        print(f"{profile.name:28} {profile.kind:12} {profile.label}")
    return EXIT_OK


def _cmd_check(args: argparse.Namespace) -> int:
    """Read one file and say what ledgerflow makes of it, without writing anything.

    Exit 0 when every row would be used, 1 when rows would be rejected or the file
    refused, 2 when the path names no file (or a folder).
    """
    from ledgerflow import labels, validate
    from ledgerflow.config import load_config
    from ledgerflow.read import read_file

    config = load_config(_config_path(args))
    lang = args.lang or config["run"]["lang"]

    def say(key: str, **values) -> None:
        print(labels.phrase(key, lang, **values))

    path = Path(args.file)
    if path.is_dir():
        say("check_is_folder", path=path)
        return EXIT_USAGE
    if not path.exists():
        say("check_no_such_file", path=path)
        return EXIT_USAGE
    if path.name.startswith("~$"):
        # Excel's lock file of an open workbook: runs skip it; say what it is
        say("check_lock_file", path=path.name, workbook=path.name[2:])
        return EXIT_USAGE
    file_read = read_file(path, config)
    if file_read.refused:
        refused = file_read.refused
        print(f"{file_read.name}: {labels.reason(refused.rule, lang, refused.detail)}")
        return EXIT_INCOMPLETE
    if file_read.encoding:
        # utf-8-sig -> UTF-8 (BOM): the name a person knows from their editor
        encoding = file_read.encoding.upper().replace("-SIG", " (BOM)")
        say("check_text_file", file=file_read.name, encoding=encoding)
    else:
        say("check_workbook", file=file_read.name, format=file_read.format)
    for sheet, state in file_read.ignored_sheets:
        key = _SHEET_STATES.get(state, "")
        shown = labels.phrase(key, lang) if labels.has("phrases", key) else state
        say("check_sheet_ignored", sheet=sheet, state=shown)
    worst = EXIT_OK
    for table in file_read.tables:
        result = validate.validate_table(table, config)
        say(
            "check_table_sheet" if table.sheet else "check_table",
            sheet=table.sheet,
            kind=labels.phrase(f"kind_{table.kind}", lang)
            if labels.has("phrases", f"kind_{table.kind}")
            else table.kind,
            profile=table.profile,
            header=table.header_row,
            read=table.rows_read,
            used=len(result.used),
            skipped=len(table.skipped),
            rejected=result.rejected_rows,
        )
        for r in result.rejects[: args.limit]:
            where = _check_where(r.row, r.column, lang)
            value = labels.phrase("check_value", lang, value=r.value)
            value = "" if r.value is None else f" ({value})"
            print(f"    {where}{labels.reason(r.rule, lang, r.detail)}{value}")
        _more(len(result.rejects), args.limit, "check_more_rejects", lang)
        for s in table.skipped[: args.limit]:
            where = _check_where(s.row, None, lang)
            print(f"    {where}{labels.reason(s.rule, lang, s.detail)}")
        _more(len(table.skipped), args.limit, "check_more_skipped", lang)
        if result.rejected_rows:
            worst = EXIT_INCOMPLETE
    return worst


# why read_file left a sheet out (FileRead.ignored_sheets) -> phrase key
_SHEET_STATES = {
    "hidden": "sheet_state_hidden",
    "veryHidden": "sheet_state_very_hidden",
    "empty": "sheet_state_empty",
    "no matching header": "sheet_state_no_header",
}


def _check_where(row: int | None, column: str | None, lang: str) -> str:
    """ "row 14, 공급가액: " / "14행, 공급가액: "; nothing for what has no place."""
    from ledgerflow import labels

    if column and labels.has("columns", column):
        column = labels.label(column, lang)
    parts = []
    if row is not None:
        parts.append(labels.phrase("check_row", lang, row=row))
    if column:
        parts.append(column)
    return ", ".join(parts) + ": " if parts else ""


def _more(count: int, limit: int, key: str, lang: str) -> None:
    from ledgerflow.labels import phrase

    if count > limit:
        print("    " + phrase(key, lang, count=count - limit))


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ledgerflow",
        description="Merge partner, sales and receivables exports into a partner "
        "master and management workbooks.",
    )
    parser.add_argument("--version", action="version", version=__version__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser(
        "run",
        help="run the monthly-partner-report flow on a folder of exports",
        description="Read every export in --input, write the month's workbooks and "
        "run.json to --output/<YYYY-MM>/. Exit 0 when every file was used, 1 when a "
        "file was refused or nothing was found, 2 on a usage error (a bad option, "
        "period or setting), 3 when the outputs could not be written.",
    )
    run.add_argument("--input", default="input", help="folder of exports (input)")
    run.add_argument("--output", default="output", help="folder for outputs (output)")
    run.add_argument(
        "--period",
        help="month to report, YYYY-MM (default: the latest month with sales lines)",
    )
    run.add_argument("--lang", choices=["ko", "en"], help="workbook labels (ko)")
    run.add_argument("--config", help="settings file (default: ./ledgerflow.toml)")
    run.add_argument(
        "--workers",
        type=int,
        default=0,
        metavar="N",
        help="read and validate the files in parallel on a local Dask cluster of N "
        "worker processes (default: one file after another in this process)",
    )
    run.add_argument(
        "--dask-address",
        metavar="tcp://HOST:PORT",
        help="read and validate the files on this running Dask scheduler; its "
        "workers must see the input and output folders at the same paths",
    )
    run.add_argument(
        "--no-store",
        action="store_true",
        help="read every file again, neither taking unchanged files from the store "
        "(output/.state/store) nor writing to it",
    )
    run.add_argument(
        "--archive",
        action=argparse.BooleanOptionalAction,
        help="move the inputs read to input/archive/<YYYY-MM>/ (refused ones to "
        "input/rejected/) after the run (default: archive.run in the config, off)",
    )
    run.set_defaults(handler=_cmd_run)

    serve = sub.add_parser(
        "serve",
        help="register the monthly and annual schedules on a Prefect server and run "
        "them (needs `prefect server start` and PREFECT_API_URL)",
        description="Register the deployments monthly (day 1, 07:00 Asia/Seoul) and "
        "annual (January) with their cron schedules from [schedule] in the config, "
        "then keep running and execute their runs. Refuses to start without a "
        "reachable Prefect server.",
    )
    serve.add_argument("--input", default="input", help="folder of exports (input)")
    serve.add_argument("--output", default="output", help="folder for outputs (output)")
    serve.add_argument("--config", help="settings file (default: ./ledgerflow.toml)")
    serve.set_defaults(handler=_cmd_serve)

    watch = sub.add_parser(
        "watch",
        help="poll --input and run when new or changed exports have landed",
        description="Look at --input every [watch] poll_seconds; once files have "
        "stopped growing and nothing changed for debounce_seconds, run the monthly "
        "flow once for the batch. The same content is never run twice.",
    )
    watch.add_argument("--input", default="input", help="folder of exports (input)")
    watch.add_argument("--output", default="output", help="folder for outputs (output)")
    watch.add_argument("--config", help="settings file (default: ./ledgerflow.toml)")
    watch.add_argument("--lang", choices=["ko", "en"], help="workbook labels (ko)")
    watch.add_argument(
        "--archive",
        action=argparse.BooleanOptionalAction,
        help="move inputs out of --input after each run (default: archive.watch "
        "in the config, on)",
    )
    watch.add_argument(
        "--once", action="store_true", help="stop after the first run (for scripts)"
    )
    watch.set_defaults(handler=_cmd_watch)

    demo = sub.add_parser(
        "demo",
        help="write a deterministic set of Korean demo exports into --input",
        description="Write a partner list, yearly sales workbooks and a receivables "
        "csv for made-up partners into --input (always the same files). A file "
        "already there with the same content is kept; one you changed is replaced "
        "only with --overwrite. Then run `ledgerflow run`.",
    )
    demo.add_argument("--input", default="input", help="folder to write (input)")
    demo.add_argument(
        "--overwrite", action="store_true", help="replace demo files already there"
    )
    demo.set_defaults(handler=_cmd_demo)

    profiles = sub.add_parser(
        "profiles",
        help="list the export formats recognised",
        description="List the export layouts (profiles in schemas/profiles/) that "
        "ledgerflow recognises: name, the kind of table it gives, and a label. A "
        "file whose header matches none is refused; add a profile for it.",
    )
    profiles.set_defaults(handler=_cmd_profiles)

    check = sub.add_parser(
        "check",
        help="read one file and report what would be used or rejected",
        description="Read one export as `ledgerflow run` would and print, per "
        "sheet, the table found and its rows: read = used + skipped + rejected, "
        "then the first rejected and skipped rows with their reasons. Writes "
        "nothing. Exit 0 when every row would be used, 1 when rows would be "
        "rejected or the file refused, 2 when the path names no file (or a folder) "
        "or an option is wrong.",
    )
    check.add_argument("file", help="the export to check")
    check.add_argument("--lang", choices=["ko", "en"], help="message language (ko)")
    check.add_argument("--config", help="settings file")
    check.add_argument(
        "--limit",
        type=count,
        default=20,
        help="rejected rows and skipped rows to print, each (20)",
    )
    check.set_defaults(handler=_cmd_check)
    return parser


def count(text: str) -> int:
    """A whole number of 0 or more (argparse turns the ValueError into exit 2)."""
    number = int(text)
    if number < 0:
        raise ValueError(text)
    return number


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    try:
        return args.handler(args)
    except LedgerflowError as exc:
        # Expected problems (a bad period, config or output folder) get one line,
        # not a traceback.
        print(f"ledgerflow: {exc}", file=sys.stderr)
        return EXIT_USAGE if isinstance(exc, ValueError) else EXIT_FAILED


if __name__ == "__main__":
    sys.exit(main())
