"""A user sees which files were not read again: run.json marks them and the console
line of each such file says so."""

from __future__ import annotations

from pathlib import Path

from ledgerflow import cli, demo


def _export(folder: Path, name: str, day: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    supply = 1000 * day
    line = (
        f"2026-11-0{day},2026110{day}-0001,0012{day},(주)가게{day},A001,볼트,"
        f"{day},1000,{supply},{supply // 10},{supply + supply // 10},{supply // 2}"
    )
    header = ",".join(demo.SALES_HEADER)
    (folder / name).write_text(f"{header}\r\n{line}\r\n", encoding="utf-8")


def test_the_second_run_marks_the_unchanged_file_as_taken_from_the_store(
    tmp_path, capsys
):
    module = cli._load_flow_module("monthly_partner_report")
    source, out = tmp_path / "in", tmp_path / "out"
    _export(source, "a.csv", 1)
    first = module.report_month(str(source), str(out), None, "ko", None)
    _export(source, "b.csv", 2)
    second = module.report_month(str(source), str(out), None, "ko", None)

    assert [(i["name"], i["from_store"]) for i in first["inputs"]] == [("a.csv", False)]
    assert [(i["name"], i["from_store"]) for i in second["inputs"]] == [
        ("a.csv", True),
        ("b.csv", False),
    ]
    cli._print_summary(second, "ko", out)
    shown = capsys.readouterr().out.splitlines()
    a_line = next(line for line in shown if line.strip().startswith("a.csv"))
    b_line = next(line for line in shown if line.strip().startswith("b.csv"))
    assert a_line.endswith("(변경 없음: 저장된 결과 사용)")
    assert "저장" not in b_line
