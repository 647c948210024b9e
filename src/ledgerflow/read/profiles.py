"""Source profiles: what one export format looks like, read from schemas/profiles/.

A profile is a TOML file; a user adds a format by adding a file, no code. Keys:

- ``name`` (unique), ``kind`` (sales_lines | receivables | partners), ``label``.
- ``date_order``: "YMD" (default), "MDY" for US exports, "DMY" for day-first ones.
- ``[fields]``: canonical field -> list of header aliases. Headers and aliases are
  compared after ``normalise_header`` (NFKC, casefold, no spaces or punctuation), so
  "거래처 코드", "거래처코드" and "거래처-코드" are one name. An alias ending in
  ``#N`` matches only the N-th column of that name (Hometax lists 상호 twice: the
  supplier's, then the buyer's). The first alias that a sheet has wins.
- ``[match]``: ``required``: entries that must all be found, each a field or
  alternatives "a|b"; ``fingerprint``: header texts that must all be present (for an
  export whose own headers identify it, e.g. ECOUNT's "일자-No."); ``priority``
  breaks ties between profiles that match equally well (higher wins).
- ``[fixed]``: field -> a constant for every row (e.g. currency = "KRW").
- ``[layout]``: optional overrides of the shared layout rules in ``_layout.toml``
  (control-row, subtotal and footer patterns).

Files whose name starts with "_" are shared settings, not profiles.
"""

from __future__ import annotations

import logging
import re
import tomllib
import unicodedata
from dataclasses import dataclass, field
from pathlib import Path

from ledgerflow import paths, tables
from ledgerflow.errors import ProfileError

logger = logging.getLogger(__name__)

LAYOUT_FILE = "_layout.toml"
DATE_ORDERS = ("YMD", "MDY", "DMY")
_OCCURRENCE = re.compile(r"^(?P<name>.*?)#(?P<n>[1-9])$")
_NOT_WORD = re.compile(r"[\W_]+")


def normalise_header(text: object) -> str:
    """A header as compared with aliases: NFKC, casefold, letters and digits only.

    "Invoice No." -> "invoiceno", "거래처 코드" -> "거래처코드", "（주）" -> "주".
    """
    if text is None:
        return ""
    folded = unicodedata.normalize("NFKC", str(text)).casefold()
    return _NOT_WORD.sub("", folded)


@dataclass(frozen=True)
class Alias:
    """One header alias: its normalised text and which occurrence (1-based) it needs."""

    key: str
    occurrence: int | None = None
    text: str = ""  # as written in the profile, for messages


@dataclass
class Profile:
    """One export format (see the module docstring for the TOML keys)."""

    name: str
    kind: str
    label: str
    fields: dict[str, list[Alias]]
    required: list[list[str]] = field(default_factory=list)
    fingerprint: list[str] = field(default_factory=list)
    fingerprint_text: list[str] = field(default_factory=list)
    priority: int = 0
    date_order: str = "YMD"
    fixed: dict[str, object] = field(default_factory=dict)
    layout: dict[str, list[str]] = field(default_factory=dict)
    source: Path | None = None

    def describe_required(self) -> str:
        """The required entries as a person reads them ("a or b, c")."""
        return ", ".join(" or ".join(group) for group in self.required)

    def aliases_of(self, field_name: str) -> str:
        """A field's first few aliases, for messages ("거래처코드/매출처코드")."""
        return "/".join(a.text or a.key for a in self.fields.get(field_name, [])[:3])


def _parse_alias(text: str, where: str) -> Alias:
    if not isinstance(text, str) or not text.strip():
        raise ProfileError(f"{where}: an alias must be non-empty text (got {text!r})")
    match = _OCCURRENCE.match(text.strip())
    if match:
        return Alias(normalise_header(match["name"]), int(match["n"]), text.strip())
    return Alias(normalise_header(text), None, text.strip())


def profile_from_dict(data: dict, source: Path | None = None) -> Profile:
    """Build and check one profile; ProfileError names the file and the bad key."""
    where = source.name if source else "profile"
    for key in ("name", "kind", "fields"):
        if key not in data:
            raise ProfileError(f"{where}: missing key {key!r}; see schemas/profiles/")
    kind = data["kind"]
    if kind not in tables.KINDS:
        known = ", ".join(tables.KINDS)
        raise ProfileError(f"{where}: kind {kind!r} is unknown; use one of {known}")
    columns = tables.KINDS[kind]

    fields: dict[str, list[Alias]] = {}
    for name, aliases in data["fields"].items():
        if name not in columns:
            raise ProfileError(
                f"{where}: field {name!r} is not a column of {kind}; "
                f"known: {', '.join(columns)}"
            )
        if isinstance(aliases, str):
            aliases = [aliases]
        fields[name] = [_parse_alias(a, f"{where}: fields.{name}") for a in aliases]

    match = data.get("match", {})
    required = [str(entry).split("|") for entry in match.get("required", [])]
    for group in required:
        for name in group:
            if name not in fields:
                raise ProfileError(
                    f"{where}: match.required names {name!r}, which has no aliases "
                    "in [fields]"
                )
    order = data.get("date_order", "YMD")
    if order not in DATE_ORDERS:
        raise ProfileError(f"{where}: date_order must be one of {DATE_ORDERS}")
    fixed = dict(data.get("fixed", {}))
    for name in fixed:
        if name not in columns:
            raise ProfileError(
                f"{where}: fixed field {name!r} is not a column of {kind}"
            )
    return Profile(
        name=str(data["name"]),
        kind=kind,
        label=str(data.get("label", data["name"])),
        fields=fields,
        required=required,
        fingerprint=[normalise_header(t) for t in match.get("fingerprint", [])],
        fingerprint_text=[str(t) for t in match.get("fingerprint", [])],
        priority=int(match.get("priority", 0)),
        date_order=order,
        fixed=fixed,
        layout={k: list(v) for k, v in data.get("layout", {}).items()},
        source=source,
    )


def load_layout(folder: Path | None = None) -> dict[str, list[str]]:
    """The shared layout rules (control rows, subtotals, footers, period patterns)."""
    path = (folder or paths.profiles_dir()) / LAYOUT_FILE
    if not path.exists():
        return {}
    try:
        data = tomllib.loads(path.read_text("utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise ProfileError(
            f"{path.name}: not valid TOML ({exc}); fix the file"
        ) from exc
    return {k: list(v) for k, v in data.get("layout", {}).items()}


def load_profiles(folder: Path | None = None) -> list[Profile]:
    """Every profile in ``folder`` (default: schemas/profiles/), in file-name order.

    Each profile's [layout] overrides the shared rules of ``_layout.toml`` key by key.
    A malformed file raises ProfileError naming the file: profiles are the program's
    own configuration, not input data, so a broken one must be fixed, not skipped.
    """
    folder = Path(folder) if folder is not None else paths.profiles_dir()
    shared = load_layout(folder)
    profiles: list[Profile] = []
    seen: dict[str, Path] = {}
    for path in sorted(folder.glob("*.toml")):
        if path.name.startswith("_"):
            continue
        try:
            data = tomllib.loads(path.read_text("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ProfileError(f"{path.name}: not valid TOML ({exc}); fix it") from exc
        profile = profile_from_dict(data, path)
        if profile.name in seen:
            raise ProfileError(
                f"{path.name}: profile name {profile.name!r} is already used by "
                f"{seen[profile.name].name}; names must be unique"
            )
        seen[profile.name] = path
        profile.layout = {**shared, **profile.layout}
        profiles.append(profile)
    logger.debug("profiles: %d loaded from %s", len(profiles), folder)
    return profiles
