"""After the workbooks are written: summary, artifacts, encrypted copies, mail, archive.

The flow calls ``share_run`` before it writes run.json (so run.json lists what was
shared) and ``archive_run`` last, once everything else succeeded: a run that fails
leaves its inputs in input/ for the next attempt.
"""

from __future__ import annotations

import logging
import unicodedata
from pathlib import Path

from ledgerflow import archive, encrypt, mail, summary
from ledgerflow.read import list_inputs

log = logging.getLogger(__name__)


def share_run(
    run: dict,
    out_dir: Path,
    written: list[Path],
    profitability,
    n_partners: int,
    config: dict,
    lang: str,
) -> dict:
    """Write summary.md, publish artifacts, encrypt and mail as configured.

    Returns ``{"outputs": [names added to the run's outputs], "summary": path,
    "shared": [paths], "mailed_to": [addresses]}``; ``run`` is not changed.
    """
    figures = summary.headline_figures(
        run, profitability.month_total, profitability.ytd_total, n_partners
    )
    settings = config["mail"]
    shared = mail.chosen_attachments(list(written), settings["attach"])
    added: list[str] = []
    if settings["encrypt"]:
        password = encrypt.password_from_env(settings["encrypt_password_env"])
        shared = encrypt.encrypt_copies(shared, password)
        added += [f"{encrypt.SHARED_FOLDER}/{p.name}" for p in shared]
    added.append(summary.SUMMARY_NAME)
    shown = {**run, "outputs": [*run["outputs"], *added]}
    text = summary.render_markdown(shown, figures, lang)
    path = summary.write_summary(out_dir, text)
    summary.publish_artifacts(shown, figures, out_dir, lang)
    mailed: list[str] = []
    if settings["enabled"]:
        message = mail.build_message(settings, run["period"], shared, text)
        mail.send(settings, message)
        mailed = list(settings["recipients"])
    return {"outputs": added, "summary": path, "shared": shared, "mailed_to": mailed}


def handled_inputs(run: dict, input_dir: Path) -> list[archive.Handled]:
    """The files now in ``input_dir`` that the run read, with its verdict on each.

    A file is matched by NFC name and SHA-256, so a file replaced after it was read
    is not among them (it stays for the next run).
    """
    by_key = {(e["name"], e["sha256"]): e for e in run["inputs"]}
    handled = []
    for path in list_inputs(Path(input_dir)):
        name = unicodedata.normalize("NFC", path.name)
        digest = archive.file_sha256(path)
        entry = by_key.get((name, digest))
        if entry is None:
            continue
        refused = entry.get("refused")
        reason = (refused.get("reason") or refused.get("rule")) if refused else None
        handled.append(archive.Handled(path, digest, reason))
    return handled


def archive_run(run: dict, input_dir: Path) -> list[archive.Moved]:
    """Move the inputs ``run`` read to archive/<period>/ or rejected/."""
    return archive.archive_inputs(
        handled_inputs(run, input_dir), Path(input_dir), run["period"]
    )
