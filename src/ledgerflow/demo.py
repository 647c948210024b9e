"""Deterministic Korean demo exports: a partner list, sales lines and receivables.

``generate_demo`` writes what a small Korean wholesaler's ERP would export for two
years, shaped the way real exports are (title rows, a 합계 row, codes with leading
zeros, CP949 CSV with CRLF) so that ``ledgerflow run`` has something realistic to read
on a fresh machine. Every file is the same byte for byte for the same arguments: one
numpy ``default_rng(seed)`` draws everything in a fixed order and the workbooks carry
a fixed creation date.

Glossary: 거래처 partner, 매출 sales, 공급가액 supply amount (VAT excluded), 부가세
VAT, 합계 total, 원가 cost, 미수금 receivable, 사업자등록번호 business registration
number (BRN), 대표자 representative, 업태/종목 business type/item.

Everything in the files is invented: names are drawn from syllable lists, phone numbers
sit in the unused 010-0000-xxxx / 02-000-xxxx ranges, e-mail addresses use the
reserved example.com / example.co.kr domains.
"""

from __future__ import annotations

import csv
import io
import logging
import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter

from ledgerflow.brn import brn_check_digit
from ledgerflow.errors import OutputError, UsageError
from ledgerflow.period import Period

log = logging.getLogger(__name__)

DEFAULT_SEED = 20261204

PARTNER_FILE = "거래처목록.xlsx"
PARTNER_SHEET = "거래처"
SALES_FILE = "매출내역_{year}.xlsx"
SALES_SHEET = "매출내역"
RECEIVABLES_FILE = "미수금현황.csv"

PARTNER_HEADER = [
    "거래처코드",
    "거래처명",
    "사업자등록번호",
    "대표자",
    "업태",
    "종목",
    "주소",
    "우편번호",
    "전화",
    "이메일",
    "종업원수",
]
SALES_HEADER = [
    "일자",
    "전표번호",
    "거래처코드",
    "거래처명",
    "품목코드",
    "품목명",
    "수량",
    "단가",
    "공급가액",
    "부가세",
    "합계",
    "원가",
]
# Columns of the sales export that the 합계 row totals (unit prices are not summed).
SALES_TOTALLED = ["수량", "공급가액", "부가세", "합계", "원가"]
SALES_TITLE_ROWS = 3
SALES_TOTAL_LABEL = "합  계"
RECEIVABLES_HEADER = [
    "거래처코드",
    "거래처명",
    "계산서번호",
    "발행일",
    "만기일",
    "금액",
    "입금일",
    "입금액",
]

# Sales lines per partner listed, over the whole span (300 partners -> about 30,000).
LINES_PER_PARTNER = 100
# The deliberately bad sales rows, so that the rejects workbook has content.
BAD_SALES_ROWS = [
    "missing_code",
    "text_qty",
    "vat_mismatch",
    "missing_code",
    "vat_mismatch",
]
BAD_QTY_TEXT = "abc"
BAD_VAT_OFFSET = 1_000

# ------------------------------------------------------------------ vocabularies

# Vocabularies read better as space-separated words than as long literals.
_ROOTS = (  # noqa: SIM905
    "한빛 대성 삼우 동양 세진 미래 태광 성원 대한 신일 극동 한솔 유진 금강 동아 "
    "경인 서해 백두 청솔 새한 일신 대림 우성 하나 제일 광명 동진 보성 영진 현성 "
    "진흥 삼정 대영 한양 성진 화신 동방 천일 정우 은성 대명 신성 태양 명성 상록 "
    "푸른 한결 가온 누리 다온 해솔 새론 라온 으뜸 세광 영신 대원 금성 한울 고려"
).split()
_SURNAMES = "김 이 박 최 정 강 조 윤 장 임 한 오 서 신 권 황 안 송 류 홍".split()  # noqa: SIM905
# Rough shares of the commonest surnames, in percent.
_SURNAME_WEIGHTS = np.array(
    [21, 15, 8, 5, 4, 2, 2, 2, 2, 2, 1.5, 1.5, 1.5, 1.5, 1, 1, 1, 1, 1, 1]
)
_GIVEN_FIRST = "민 서 지 현 준 영 성 정 수 승 동 재 상 진 우 경 태 은 혜 광".split()  # noqa: SIM905
_GIVEN_SECOND = "호 수 진 민 우 영 희 석 훈 철 숙 아 연 준 혁 기 식 환 미 원".split()  # noqa: SIM905

# (업태, 종목, words that end a company name, categories bought: main, secondary)
_SECTORS = [
    ("제조업", "전자부품", ["전자", "테크", "일렉트릭", "디스플레이"], ("EL", "PK")),
    ("제조업", "금속가공제품", ["정밀", "기계", "메탈", "공업"], ("MT", "TL")),
    ("제조업", "식료품", ["식품", "푸드", "제과"], ("PK", "OF")),
    ("도매 및 소매업", "산업용품", ["상사", "유통", "통상", "무역"], ("TL", "MT")),
    ("건설업", "기계설비공사", ["건설", "이앤씨", "설비", "건업"], ("PL", "TL")),
    ("정보통신업", "소프트웨어 개발", ["시스템", "정보기술", "네트웍스"], ("OF", "EL")),
    ("운수 및 창고업", "화물운송", ["물류", "로지스틱스", "운송"], ("PK", "OF")),
]
_SECTOR_WEIGHTS = np.array([18, 20, 10, 22, 12, 10, 8], dtype=float)
# Sole proprietors: shop-like names, no legal form.
_SOLE_WORDS = ["상회", "상사", "철물", "기업", "산업", "종합상사"]

# (시/도, 구/군 list, postcode range, weight)
_REGIONS = [
    (
        "서울특별시",
        ["강남구", "서초구", "송파구", "영등포구", "구로구", "금천구", "마포구"],
        (1000, 8999),
        30,
    ),
    (
        "경기도",
        ["수원시 영통구", "성남시 분당구", "안산시 단원구", "시흥시", "화성시"],
        (10000, 18999),
        28,
    ),
    ("인천광역시", ["남동구", "서구", "연수구", "부평구"], (21000, 23999), 6),
    ("부산광역시", ["사상구", "강서구", "해운대구", "부산진구"], (46000, 49999), 6),
    ("대구광역시", ["달서구", "북구", "수성구"], (41000, 43999), 4),
    ("광주광역시", ["광산구", "북구"], (61000, 62999), 2),
    ("대전광역시", ["유성구", "대덕구", "서구"], (34000, 35999), 3),
    ("울산광역시", ["남구", "울주군", "북구"], (44000, 45999), 3),
    ("충청남도", ["천안시 서북구", "아산시", "당진시"], (31000, 33999), 4),
    ("충청북도", ["청주시 흥덕구", "음성군", "진천군"], (27000, 29999), 3),
    ("경상남도", ["창원시 성산구", "김해시", "양산시"], (50000, 53999), 5),
    ("경상북도", ["구미시", "포항시 남구", "경산시"], (36000, 40999), 3),
    ("전북특별자치도", ["전주시 덕진구", "군산시", "익산시"], (54000, 56999), 1),
    ("전라남도", ["여수시", "순천시", "광양시"], (57000, 59999), 1),
    ("강원특별자치도", ["원주시", "춘천시"], (24000, 26999), 1),
]

# Item catalogue: category -> (code prefix, typical cost ratio, [(name, list price)]).
_CATALOGUE = {
    "EL": (
        0.72,
        [
            ("LED 모듈 12V", 4_800),
            ("SMD 커넥터 20P", 350),
            ("전원 어댑터 24V 2A", 9_500),
            ("PCB 기판 2층 100x80", 3_200),
            ("온습도 센서 모듈", 12_000),
            ("리튬 배터리 팩 3.7V", 15_800),
            ("DC 팬 80mm", 4_200),
            ("터미널 블록 10P", 1_150),
            ("USB-C 케이블 1m", 2_300),
            ("릴레이 모듈 4CH", 7_600),
        ],
    ),
    "MT": (
        0.78,
        [
            ("육각 볼트 M8x30", 85),
            ("육각 너트 M8", 32),
            ("평와셔 M8", 18),
            ("스테인리스 강판 1.2T", 48_000),
            ("알루미늄 프로파일 40x40", 12_500),
            ("앵글 브라켓 50mm", 640),
            ("스프링 와셔 M10", 27),
            ("환봉 SUS304 20mm", 23_000),
            ("체인 10mm (m)", 5_400),
            ("블라인드 리벳 4mm", 12),
        ],
    ),
    "PK": (
        0.80,
        [
            ("골판지 박스 (대)", 1_250),
            ("골판지 박스 (중)", 880),
            ("OPP 테이프 48mm", 1_100),
            ("스트레치 필름 500mm", 14_500),
            ("에어캡 롤 1m", 21_000),
            ("PE 비닐봉투 (대)", 95),
            ("목재 팔레트", 18_000),
            ("스티로폼 완충재", 2_600),
            ("라벨 스티커 A4", 6_800),
            ("크라프트 지대 25kg", 420),
        ],
    ),
    "TL": (
        0.68,
        [
            ("드릴 비트 세트 13pcs", 23_000),
            ("충전 드라이버", 89_000),
            ("코팅 작업장갑 (10켤레)", 8_500),
            ("안전모", 12_800),
            ("줄자 5m", 6_200),
            ("절단석 4인치", 1_050),
            ("육각렌치 세트", 11_500),
            ("멀티탭 6구", 15_900),
            ("방진 마스크 (20매)", 19_800),
            ("알루미늄 사다리 3단", 72_000),
        ],
    ),
    "PL": (
        0.74,
        [
            ("PVC 배관 50A (4m)", 11_800),
            ("볼밸브 25A", 16_400),
            ("동관 15A (m)", 8_900),
            ("엘보 50A", 1_370),
            ("보온재 25T", 4_300),
            ("배관 행거 50A", 2_150),
            ("게이트 밸브 50A", 58_000),
            ("압력계 10kg", 24_500),
            ("플렉시블 호스 300mm", 6_700),
            ("실리콘 실란트", 5_300),
        ],
    ),
    "OF": (
        0.85,
        [
            ("A4 복사용지 (박스)", 26_500),
            ("토너 카트리지 (흑백)", 68_000),
            ("볼펜 (12입)", 4_800),
            ("파일 바인더", 3_300),
            ("물티슈 (100매)", 2_100),
            ("종이컵 (1000개)", 19_500),
            ("생수 2L (6병)", 5_900),
            ("커피믹스 (100개)", 16_800),
            ("청소용 세제 4L", 9_600),
            ("화장지 (30롤)", 21_900),
        ],
    ),
}

# Payment terms: the due date of an invoice issued on its month's last day.
_TERMS = ["next_month_end", "days_30", "days_60"]
_TERMS_WEIGHTS = np.array([0.55, 0.3, 0.15])
# Payer habits: days paid after the due date (low, high) and share never paid. Prompt
# payers are never late, so a partner's late share reflects its habit.
_PAYERS = {
    "prompt": ((-7, 0), 0.0),
    "late": ((8, 75), 0.0),
    "bad": ((30, 160), 0.3),
}
_PAYER_WEIGHTS = np.array([0.72, 0.22, 0.06])


# ------------------------------------------------------------------ public API


def generate_demo(
    folder: Path,
    *,
    seed: int = DEFAULT_SEED,
    partners: int = 300,
    months: int = 24,
    end: str = "2026-11",
    overwrite: bool = False,
) -> list[Path]:
    """Write the demo exports into ``folder`` and return their paths.

    Business rules of the generated data:

    - 거래처목록.xlsx: one row per partner, codes are 5-digit text (00123); BRNs carry
      valid check digits except two typos on purpose (the partners on the 6th row
      under the header and on row ``partners // 2 + 1`` under it); the last row is a
      duplicate of an existing partner under a new code, same BRN, name spelt another
      way (it has sales of its own in the last months).
    - 매출내역_<year>.xlsx, one per calendar year touched by the ``months`` months
      ending ``end``: three title rows, the header, lines sorted by date, then a
      ``합  계`` row totalling 수량, 공급가액, 부가세, 합계 and 원가 exactly as Excel's
      SUM would (text cells ignored). 부가세 = floor(공급가액 × 0.1) on the absolute
      amount, so a return (negative 수량) carries minus the VAT of what it reverses.
      Five rows are bad on purpose: two without 거래처코드, one with 수량 ``abc``,
      two whose 부가세 is 1,000 off (their 합계 still adds up).
    - 미수금현황.csv (CP949, CRLF): one tax invoice per partner code and month with a
      positive total, issued on the month's last day, due by the partner's terms
      (end of the following month, or 30 or 60 days); settled as the partner's habit
      says (prompt, late or bad); anything settled after the last day of ``end`` is
      shown unpaid (입금일 and 입금액 blank).

    A file already in ``folder`` with other content is not replaced unless
    ``overwrite`` is true; nothing is written then (the check comes first).
    """
    if partners < 20:
        raise UsageError(f"demo: partners={partners}: need at least 20 partners")
    if not 1 <= months <= 120:
        raise UsageError(f"demo: months={months}: expected 1 to 120 months")
    last = Period.parse(end)
    span = _months_ending(last, months)

    rng = np.random.default_rng(seed)
    catalogue = item_catalogue(rng)
    partner_frame = partner_list(rng, partners)
    lines = sales_lines(rng, partner_frame, catalogue, span)
    invoices = receivables(rng, lines, partner_frame, as_of=last.end)
    lines = _spoil_sales_rows(rng, lines)

    created = datetime(last.end.year, last.end.month, last.end.day, 18, 0, 0)
    files: dict[str, bytes] = {
        PARTNER_FILE: partners_workbook(partner_frame, created),
    }
    for year, year_lines in lines.groupby(lines["doc_date"].dt.year, sort=True):
        first = max(span[0].start, pd.Timestamp(year, 1, 1))
        final = min(last.end, pd.Timestamp(year, 12, 31))
        name = SALES_FILE.format(year=year)
        files[name] = sales_workbook(year_lines, first, final, created)
    files[RECEIVABLES_FILE] = receivables_csv(invoices)

    paths = _write_all(Path(folder), files, overwrite)
    log.info(
        "demo %s: %d partners, %d sales lines, %d invoices in %d files",
        folder,
        len(partner_frame),
        len(lines),
        len(invoices),
        len(paths),
    )
    return paths


# ------------------------------------------------------------------ frames


def item_catalogue(rng: np.random.Generator) -> pd.DataFrame:
    """The 60 items sold, with list price and cost ratio (cost / list price)."""
    rows = []
    for category, (ratio, items) in _CATALOGUE.items():
        noise = rng.uniform(-0.06, 0.06, len(items))
        for number, ((name, price), delta) in enumerate(
            zip(items, noise, strict=True), start=1
        ):
            code = f"{category}{number:03d}"
            rows.append((code, name, category, price, round(ratio + delta, 3)))
    return pd.DataFrame(
        rows, columns=["item_code", "item_name", "category", "list_price", "cost_ratio"]
    )


def partner_list(rng: np.random.Generator, count: int) -> pd.DataFrame:
    """``count`` invented partners plus one duplicate, with their trading habits.

    Besides the columns of the partner export (English names), each row carries the
    hidden habits that drive the other files: ``weight`` (share of sales, heavily
    skewed), ``first_month``/``last_month`` as fractions of the span (new and dormant
    partners), ``price_factor`` (discount off list price; two partners sell below
    cost), ``categories`` bought, ``terms`` and ``payer``.
    """
    codes = np.sort(rng.choice(np.arange(1, 10 * count + 1), count, replace=False))
    is_sole = rng.random(count) < 0.2
    sectors = rng.choice(
        len(_SECTORS), count, p=_SECTOR_WEIGHTS / _SECTOR_WEIGHTS.sum()
    )
    regions = rng.choice(len(_REGIONS), count, p=_weights([r[3] for r in _REGIONS]))
    weight = rng.lognormal(0.0, 1.3, count)
    top = np.argsort(-weight)[:5]
    weight[top] *= rng.uniform(1.5, 3, len(top))

    rows = []
    taken: set[str] = set()
    for i in range(count):
        sector = _SECTORS[sectors[i]]
        region = _REGIONS[regions[i]]
        root, word, name = _company_name(rng, sector, bool(is_sole[i]), taken)
        brn = _brn(rng, bool(is_sole[i]))
        if rng.random() < 0.05:
            brn = brn.replace("-", "")
        district = region[1][rng.integers(len(region[1]))]
        postcode = f"{rng.integers(region[2][0], region[2][1] + 1):05d}"
        code = f"{codes[i]:05d}"
        phone, email = _contacts(rng, code, bool(is_sole[i]))
        employees = (
            int(rng.integers(1, 10))
            if is_sole[i]
            else int(
                np.clip(rng.lognormal(np.log(25 * weight[i] ** 0.5), 0.6), 5, 3000)
            )
        )
        rows.append(
            {
                "partner_code": code,
                "partner_name": name,
                "brn": brn,
                "representative": _person(rng),
                "business_type": "도매 및 소매업" if is_sole[i] else sector[0],
                "business_item": "산업용품" if is_sole[i] else sector[1],
                "address": f"{region[0]} {district}",
                "postcode": postcode,
                "phone": phone,
                "email": email,
                "employees": employees,
                "root": root,
                "word": word,
                "categories": sector[3],
                "is_sole": bool(is_sole[i]),
            }
        )
    frame = pd.DataFrame(rows)
    frame["weight"] = weight

    # Activity: 10 % never bought, 8 % dormant lately, 8 % new; the rest all along.
    state = rng.choice(4, count, p=[0.74, 0.10, 0.08, 0.08])
    frame["first_month"] = np.where(state == 3, rng.uniform(0.55, 0.92, count), 0.0)
    frame["last_month"] = np.where(state == 2, rng.uniform(0.35, 0.7, count), 1.0)
    frame["has_sales"] = state != 1
    frame.loc[top, ["first_month", "last_month", "has_sales"]] = [0.0, 1.0, True]

    # Prices: a discount off list, deeper for big partners; two sell below cost.
    discount = rng.uniform(0.0, 0.12, count) + np.where(weight > 4, 0.06, 0.0)
    frame["price_factor"] = 1.0 - discount
    mid = np.flatnonzero((weight > 0.8) & (weight < 3) & frame["has_sales"])
    loss = rng.choice(mid, min(2, len(mid)), replace=False)
    frame.loc[loss, "price_factor"] = 0.62
    frame["terms"] = rng.choice(_TERMS, count, p=_TERMS_WEIGHTS)
    frame["payer"] = rng.choice(list(_PAYERS), count, p=_PAYER_WEIGHTS)

    # Two BRN typos on purpose: the check digit is off by one.
    for index in (5, count // 2):
        frame.loc[index, "brn"] = _break_check_digit(frame.loc[index, "brn"])

    return pd.concat(
        [frame, _duplicate_of(rng, frame, avoid={5, count // 2, *loss})],
        ignore_index=True,
    )


def sales_lines(
    rng: np.random.Generator,
    partners: pd.DataFrame,
    catalogue: pd.DataFrame,
    span: Sequence[Period],
) -> pd.DataFrame:
    """Sales and return lines for the months of ``span``, sorted by date.

    Rules: documents per partner and month are Poisson around the partner's weight,
    with a seasonal swing (a December peak, a summer dip); a document has 1-8 lines of
    the partner's usual items; quantities are larger for cheap items; about 2.5 % of
    lines are returned partly, 2 to 20 days later, as a separate document.
    """
    items = catalogue.reset_index(drop=True)
    by_category = {c: np.flatnonzero(items["category"] == c) for c in _CATALOGUE}
    dup_source, dup_since = _duplicate_link(partners, len(span))
    active = partners["has_sales"].to_numpy()
    weights = partners["weight"].to_numpy() * active
    docs_per_month = LINES_PER_PARTNER * (len(partners) - 1) / len(span) / 2.4
    rate = docs_per_month * weights / weights.sum()
    season = 1 + 0.15 * np.cos((np.arange(12) - 11) * np.pi / 6)

    # Typical quantity of a line: larger for cheap items.
    typical = np.log(np.clip(150_000 / items["list_price"].to_numpy(), 1, 400))
    weekdays = [_weekdays(month) for month in span]
    records = []  # (date, partner index, item index, qty, unit price, document)
    doc_id = 0
    for p in np.flatnonzero(active):
        row = partners.iloc[p]
        first = int(row["first_month"] * len(span))
        last = int(np.ceil(row["last_month"] * len(span)))
        usual = _usual_items(rng, row["categories"], by_category)
        prices = _partner_prices(rng, items, row["price_factor"])
        for m in range(first, max(last, first + 1)):
            count = rng.poisson(rate[p] * season[span[m].month - 1])
            days = weekdays[m]
            for _ in range(count):
                when = days[rng.integers(len(days))]
                owner = p
                if dup_source == p and m >= dup_since and rng.random() < 0.35:
                    owner = len(partners) - 1
                n_lines = min(1 + rng.poisson(1.4), 8, len(usual))
                chosen = rng.choice(usual, n_lines, replace=False)
                qty = np.maximum(1, np.round(rng.lognormal(typical[chosen], 0.7)))
                for item, q in zip(chosen, qty.astype(int).tolist(), strict=True):
                    records.append((when, owner, item, q, prices[item], doc_id))
                doc_id += 1

    lines = pd.DataFrame(
        records, columns=["doc_date", "partner", "item", "qty", "unit_price", "doc"]
    )
    lines = pd.concat([lines, _returns(rng, lines, span[-1].end, doc_id)])
    return _finish_lines(rng, lines, partners, items)


def receivables(
    rng: np.random.Generator,
    lines: pd.DataFrame,
    partners: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
) -> pd.DataFrame:
    """One tax invoice per partner code and month, with its settlement as at ``as_of``.

    Rules: amount = the month's 합계 (VAT included) when positive; issued on the
    month's last day; due by the partner's terms; paid a number of days after the due
    date drawn from the partner's payer habit (bad payers also leave some invoices
    unpaid for good); about 3 % of payments are partial (half, rounded to 1,000 원);
    a payment dated after ``as_of`` has not happened yet, so the invoice shows unpaid.
    """
    month = lines["doc_date"].dt.to_period("M")
    totals = (
        lines.groupby([lines["partner_code"], month], sort=True)["total_amount"]
        .sum()
        .reset_index()
    )
    totals = totals[totals["total_amount"] > 0]
    info = partners.set_index("partner_code")[["partner_name", "terms", "payer"]]
    info = info.to_dict("index")

    rows = []
    for seq, (code, period, amount) in enumerate(totals.itertuples(index=False), 1):
        issued = period.to_timestamp(how="end").normalize()
        partner = info[code]
        due = _due_date(issued, partner["terms"])
        (low, high), never = _PAYERS[partner["payer"]]
        paid = due + pd.Timedelta(days=int(rng.integers(low, high + 1)))
        paid = max(paid, issued)
        settled = int(amount)
        if rng.random() < never:
            paid = None
        elif rng.random() < 0.03:
            settled = int(round(amount / 2, -3))
        if paid is not None and paid > as_of:
            paid = None
        rows.append(
            {
                "partner_code": code,
                "partner_name": partner["partner_name"],
                "invoice_no": f"{issued:%Y%m%d}-{seq:06d}",
                "invoice_date": issued,
                "due_date": due,
                "amount": int(amount),
                "settled_date": paid,
                "settled_amount": settled if paid is not None else None,
            }
        )
    return pd.DataFrame(rows)


# ------------------------------------------------------------------ file writers


def partners_workbook(partners: pd.DataFrame, created: datetime) -> bytes:
    """The partner export (sheet 거래처, header on row 1) as xlsx bytes."""
    out = io.BytesIO()
    book = _workbook(out, "거래처 목록", created)
    sheet = book.add_worksheet(PARTNER_SHEET)
    head = book.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1})
    sheet.write_row(0, 0, PARTNER_HEADER, head)
    fields = [
        "partner_code",
        "partner_name",
        "brn",
        "representative",
        "business_type",
        "business_item",
        "address",
        "postcode",
        "phone",
        "email",
    ]
    for r, row in enumerate(partners.itertuples(index=False), start=1):
        for c, name in enumerate(fields):
            value = getattr(row, name)
            if value:
                sheet.write_string(r, c, value)
        sheet.write_number(r, len(fields), row.employees)
    for c, width in enumerate([10, 24, 15, 8, 16, 16, 24, 9, 15, 28, 9]):
        sheet.set_column(c, c, width)
    sheet.freeze_panes(1, 0)
    sheet.autofilter(0, 0, len(partners), len(PARTNER_HEADER) - 1)
    book.close()
    return out.getvalue()


def sales_workbook(
    lines: pd.DataFrame, first: pd.Timestamp, last: pd.Timestamp, created: datetime
) -> bytes:
    """One year's sales export (three title rows, header, lines, 합계 row) as bytes."""
    out = io.BytesIO()
    book = _workbook(out, "매출 내역", created)
    sheet = book.add_worksheet(SALES_SHEET)
    title = book.add_format({"bold": True, "font_size": 14, "align": "center"})
    head = book.add_format({"bold": True, "bg_color": "#D9D9D9", "border": 1})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    money = book.add_format({"num_format": "#,##0"})
    total_fmt = book.add_format({"bold": True, "num_format": "#,##0", "top": 1})

    last_col = len(SALES_HEADER) - 1
    sheet.merge_range(0, 0, 0, last_col, "매출 내역", title)
    sheet.write_string(1, 0, f"조회기간 : {first:%Y-%m-%d} ~ {last:%Y-%m-%d}")
    sheet.write_string(2, 0, "(단위 : 원)")
    header_row = SALES_TITLE_ROWS
    sheet.write_row(header_row, 0, SALES_HEADER, head)

    totals = dict.fromkeys(SALES_TOTALLED, 0)
    r = header_row
    for r, row in enumerate(lines.itertuples(index=False), start=header_row + 1):
        sheet.write_datetime(r, 0, row.doc_date.to_pydatetime(), day)
        sheet.write_string(r, 1, row.doc_no)
        if row.partner_code:
            sheet.write_string(r, 2, row.partner_code)
        sheet.write_string(r, 3, row.partner_name)
        sheet.write_string(r, 4, row.item_code)
        sheet.write_string(r, 5, row.item_name)
        if isinstance(row.qty, str):
            sheet.write_string(r, 6, row.qty)
        else:
            sheet.write_number(r, 6, row.qty, money)
            totals["수량"] += row.qty
        sheet.write_number(r, 7, row.unit_price, money)
        values = (row.supply_amount, row.vat_amount, row.total_amount, row.cost_amount)
        for c, value in enumerate(values, start=8):
            sheet.write_number(r, c, value, money)
        for name, value in zip(SALES_TOTALLED[1:], values, strict=True):
            totals[name] += value

    # The 합계 row, as the ERP prints it under the last line.
    r += 1
    sheet.write_string(r, 0, SALES_TOTAL_LABEL, total_fmt)
    for name, value in totals.items():
        sheet.write_number(r, SALES_HEADER.index(name), value, total_fmt)
    for c, width in enumerate([11, 14, 10, 24, 10, 24, 9, 10, 13, 12, 13, 13]):
        sheet.set_column(c, c, width)
    sheet.freeze_panes(header_row + 1, 0)
    sheet.autofilter(header_row, 0, r - 1, last_col)
    book.close()
    return out.getvalue()


def receivables_csv(invoices: pd.DataFrame) -> bytes:
    """The receivables export as Korean Windows Excel saves CSV: CP949, CRLF."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\r\n", quoting=csv.QUOTE_MINIMAL)
    writer.writerow(RECEIVABLES_HEADER)
    for row in invoices.itertuples(index=False):
        paid = row.settled_date is not None and not pd.isna(row.settled_date)
        writer.writerow(
            [
                row.partner_code,
                row.partner_name,
                row.invoice_no,
                f"{row.invoice_date:%Y-%m-%d}",
                f"{row.due_date:%Y-%m-%d}",
                f"{row.amount:,}",
                f"{row.settled_date:%Y-%m-%d}" if paid else "",
                f"{int(row.settled_amount):,}" if paid else "",
            ]
        )
    return text.getvalue().encode("cp949")


# ------------------------------------------------------------------ helpers


def _months_ending(last: Period, count: int) -> list[Period]:
    span = [last]
    while len(span) < count:
        span.append(span[-1].previous())
    return span[::-1]


def _weights(values: Sequence[float]) -> np.ndarray:
    array = np.asarray(values, dtype=float)
    return array / array.sum()


def _weekdays(month: Period) -> list[pd.Timestamp]:
    days = pd.date_range(month.start, month.end, freq="D")
    return list(days[days.day_of_week < 5])


def _company_name(
    rng: np.random.Generator, sector: tuple, is_sole: bool, taken: set[str]
) -> tuple[str, str, str]:
    """A unique invented name, with the legal-form spellings real lists mix."""
    words = _SOLE_WORDS if is_sole else sector[2]
    for attempt in range(200):
        root = _ROOTS[rng.integers(len(_ROOTS))]
        word = words[rng.integers(len(words))]
        if attempt >= 50:  # crowded vocabulary (large bench lists): number it
            root = f"{root}{attempt}"
        if is_sole:
            name = f"{root}{word}"
        else:
            form = rng.choice(5, p=[0.45, 0.2, 0.15, 0.1, 0.1])
            name = [
                f"(주){root}{word}",
                f"주식회사 {root}{word}",
                f"㈜{root}{word}",
                f"{root}{word}(주)",
                f"{root}{word} 주식회사",
            ][form]
        if f"{root}{word}" not in taken:
            taken.add(f"{root}{word}")
            return root, word, name
    raise RuntimeError("demo: ran out of company names")  # unreachable in practice


def _person(rng: np.random.Generator) -> str:
    surname = _SURNAMES[rng.choice(len(_SURNAMES), p=_weights(_SURNAME_WEIGHTS))]
    first = _GIVEN_FIRST[rng.integers(len(_GIVEN_FIRST))]
    second = _GIVEN_SECOND[rng.integers(len(_GIVEN_SECOND))]
    return f"{surname}{first}{second}"


def _brn(rng: np.random.Generator, is_sole: bool) -> str:
    """A BRN with a valid check digit: office code, kind (81/86 = company), serial."""
    office = int(rng.integers(101, 900))
    kind = int(rng.integers(10, 80)) if is_sole else int(rng.choice([81, 81, 81, 86]))
    serial = int(rng.integers(0, 10_000))
    first_nine = f"{office:03d}{kind:02d}{serial:04d}"
    return f"{office:03d}-{kind:02d}-{serial:04d}{brn_check_digit(first_nine)}"


def _break_check_digit(brn: str) -> str:
    return brn[:-1] + str((int(brn[-1]) + 1) % 10)


def _contacts(rng: np.random.Generator, code: str, is_sole: bool) -> tuple[str, str]:
    if is_sole:
        phone = f"010-0000-{rng.integers(0, 10_000):04d}"
        email = f"shop{code}@example.com"
    else:
        phone = f"02-000-{rng.integers(0, 10_000):04d}"
        box = ["sales", "info", "account", "order"][rng.integers(4)]
        domain = "example.co.kr" if rng.random() < 0.6 else "example.com"
        email = f"{box}{code}@{domain}"
    if rng.random() < 0.04:
        email = ""
    return phone, email


def _duplicate_of(
    rng: np.random.Generator, frame: pd.DataFrame, avoid: set[int]
) -> pd.DataFrame:
    """The same company registered again under a new code, its name spelt otherwise."""
    # Preferably a mid-size company trading all along, so both codes carry sales.
    usable = ~frame.index.isin(list(avoid)) & frame["brn"].str.contains("-")
    steady = (frame["first_month"] == 0.0) & (frame["last_month"] == 1.0)
    mid_size = (frame["weight"] > 0.5) & (frame["weight"] < 3)
    company = ~frame["is_sole"] & frame["has_sales"]
    for wanted in (company & steady & mid_size, company & steady, company, usable):
        candidates = np.flatnonzero(usable & wanted)
        if len(candidates):
            break
    source = int(rng.choice(candidates))
    twin = frame.iloc[[source]].copy()
    root, word = twin.iloc[0]["root"], twin.iloc[0]["word"]
    original = twin.iloc[0]["partner_name"]
    variant = f"{root} {word} 주식회사"
    if variant.replace(" ", "") == original.replace(" ", ""):
        variant = f"㈜ {root}{word}"
    last_code = int(frame["partner_code"].max())
    twin["partner_code"] = f"{last_code + int(rng.integers(5, 50)):05d}"
    twin["partner_name"] = variant
    twin["duplicate_of"] = source
    twin["has_sales"] = False  # its lines come from the source's documents
    twin["weight"] = 0.0
    return twin


def _duplicate_link(partners: pd.DataFrame, months: int) -> tuple[int, int]:
    """The partner whose documents move partly to the duplicate, and from when."""
    if "duplicate_of" not in partners:
        return -1, months
    return int(partners["duplicate_of"].iloc[-1]), max(0, months - 6)


def _usual_items(
    rng: np.random.Generator, categories: tuple[str, str], by_category: dict
) -> np.ndarray:
    main = rng.choice(by_category[categories[0]], rng.integers(4, 9), replace=False)
    extra = rng.choice(by_category[categories[1]], rng.integers(1, 5), replace=False)
    return np.concatenate([main, extra])


def _partner_prices(
    rng: np.random.Generator, items: pd.DataFrame, factor: float
) -> np.ndarray:
    """Agreed unit prices: list × factor × a little noise; whole 10 원 from 1,000 원."""
    raw = items["list_price"].to_numpy() * factor * rng.uniform(0.97, 1.03, len(items))
    return np.where(raw >= 1000, np.round(raw, -1), np.maximum(np.round(raw), 1))


def _returns(
    rng: np.random.Generator, lines: pd.DataFrame, last_day: pd.Timestamp, doc_id: int
) -> pd.DataFrame:
    """Part of about 2.5 % of lines returned 2-20 days later, one document each."""
    picked = lines[rng.random(len(lines)) < 0.025].copy()
    picked["doc_date"] = picked["doc_date"] + pd.to_timedelta(
        rng.integers(2, 21, len(picked)), unit="D"
    )
    picked["qty"] = -rng.integers(1, picked["qty"].to_numpy() + 1)
    picked = picked[picked["doc_date"] <= last_day]
    picked["doc"] = np.arange(doc_id, doc_id + len(picked))
    return picked


def _finish_lines(
    rng: np.random.Generator,
    lines: pd.DataFrame,
    partners: pd.DataFrame,
    items: pd.DataFrame,
) -> pd.DataFrame:
    """Amounts, names and document numbers (YYYYMMDD-nnnn, in order within a day)."""
    docs = lines.drop_duplicates("doc")[["doc", "doc_date"]].copy()
    docs["shuffle"] = rng.random(len(docs))
    docs = docs.sort_values(["doc_date", "shuffle"], kind="stable")
    docs["seq"] = docs.groupby("doc_date").cumcount() + 1
    docs["doc_no"] = (
        docs["doc_date"].dt.strftime("%Y%m%d") + "-" + docs["seq"].map("{:04d}".format)
    )
    docs["order"] = np.arange(len(docs))
    lines = lines.merge(docs[["doc", "doc_no", "order"]], on="doc")
    lines = lines.sort_values(["order", "item"], kind="stable").reset_index(drop=True)

    qty = lines["qty"].to_numpy(dtype=np.int64)
    price = lines["unit_price"].to_numpy(dtype=np.int64)
    supply = qty * price
    vat = np.sign(supply) * (np.abs(supply) // 10)
    unit_cost = (items["list_price"] * items["cost_ratio"]).to_numpy()[lines["item"]]
    cost = np.sign(qty) * np.round(np.abs(qty) * unit_cost).astype(np.int64)

    out = pd.DataFrame(
        {
            "doc_date": lines["doc_date"],
            "doc_no": lines["doc_no"],
            "partner_code": partners["partner_code"].to_numpy()[lines["partner"]],
            "partner_name": partners["partner_name"].to_numpy()[lines["partner"]],
            "item_code": items["item_code"].to_numpy()[lines["item"]],
            "item_name": items["item_name"].to_numpy()[lines["item"]],
            "qty": qty,
            "unit_price": price,
            "supply_amount": supply,
            "vat_amount": vat,
            "total_amount": supply + vat,
            "cost_amount": cost,
        }
    )
    return out


def _spoil_sales_rows(rng: np.random.Generator, lines: pd.DataFrame) -> pd.DataFrame:
    """Spoil a handful of sales lines the way exports go wrong (see BAD_SALES_ROWS)."""
    lines = lines.astype({"partner_code": object, "qty": object})
    candidates = np.flatnonzero(lines["qty"].to_numpy(dtype=float) > 0)
    picked = rng.choice(candidates, len(BAD_SALES_ROWS), replace=False)
    for index, kind in zip(picked, BAD_SALES_ROWS, strict=True):
        if kind == "missing_code":
            lines.at[index, "partner_code"] = None
        elif kind == "text_qty":
            lines.at[index, "qty"] = BAD_QTY_TEXT
        else:
            vat = lines.at[index, "vat_amount"] + BAD_VAT_OFFSET
            lines.at[index, "vat_amount"] = vat
            lines.at[index, "total_amount"] = lines.at[index, "supply_amount"] + vat
    return lines


def _due_date(issued: pd.Timestamp, terms: str) -> pd.Timestamp:
    if terms == "next_month_end":
        return (issued + pd.offsets.MonthEnd(1)).normalize()
    return issued + pd.Timedelta(days=30 if terms == "days_30" else 60)


def _workbook(out: io.BytesIO, title: str, created: datetime) -> xlsxwriter.Workbook:
    """An in-memory workbook with fixed properties, so its bytes never vary."""
    book = xlsxwriter.Workbook(out, {"in_memory": True})
    book.set_properties(
        {"title": title, "author": "ledgerflow demo", "created": created}
    )
    return book


def _write_all(folder: Path, files: dict[str, bytes], overwrite: bool) -> list[Path]:
    """Write every file, or none if one would replace different content."""
    folder.mkdir(parents=True, exist_ok=True)
    clashes = [
        name
        for name, data in files.items()
        if (folder / name).exists() and (folder / name).read_bytes() != data
    ]
    if clashes and not overwrite:
        raise OutputError(
            f"{folder}: {', '.join(clashes)} already exist with other content; "
            "move them away, or regenerate with overwrite "
            "(`ledgerflow demo --overwrite`)"
        )
    paths = []
    for name, data in files.items():
        path = folder / name
        if not (path.exists() and path.read_bytes() == data):
            partial = folder / f".{name}.part"
            partial.write_bytes(data)
            os.replace(partial, path)
        paths.append(path)
    return paths
