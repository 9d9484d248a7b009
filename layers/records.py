"""The source records' kinds as pydantic models: which fields each kind has, their types, which
are required, the closed enumerations and the forms of citations, members, subjects and defects.

The models only check; a record stays the YAML's dict (`layers.sources.Record.data`), which the
layer builders read with the values exactly as written. Values are strict: nothing is coerced
(`"2020"` is not a year, `1` is not `true`). A field written empty (`null`) is a field not
given; the loader drops it before validation.

Checks of one value against what the other inputs know go through pydantic validators that
read the validation context (`Known`, passed as `model_validate(data, context=known)`): an
adcode must be a unit of the boundary package, a sector a code of sectors.yaml, a cited document
one of documents.yaml, and a quote must stand on its seed line. Each type then says in one
place everything that makes its value valid, and its problem is reported at its field like a
type error. Relations between records stay hand-written in `layers.sources._cross_check`:
that a park reference names a park and that the record's city is that park's, that a county
lies in its city, duplicate ids, and where a record may be placed need the other record, not
only a set of names.

Every failure is worded here, in the words the editors know (`'x' is not a valid int`): a
validator raises `PydanticCustomError("atlas", message)`, and `layers.sources` adds the file,
line, record and field.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, ClassVar, Literal, get_args

from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    GetCoreSchemaHandler,
    Strict,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError, core_schema

ID_PATTERN = r"^[a-z0-9][a-z0-9-]*$"


@dataclass
class Known:
    """What the other inputs know, for the checks of one value (the validation context)."""

    adcodes: dict[int, int | None] = field(default_factory=dict)  # empty: adcodes not checked
    sectors: set[str] = field(default_factory=set)
    docs: set[str] = field(default_factory=set)
    seeds: dict[str, list[str]] | None = None  # None: quotes not checked


def join_lines(lines: list[str], first: int, last: int) -> str:
    """Lines first..last (1-based) as one text: the seeds break sentences across lines, often
    with blank lines between, so a quote that spans a break is matched on the joined text."""
    return "".join(line.strip() for line in lines[first - 1:last])


def problem(message: str) -> PydanticCustomError:
    """A failure in the editors' words (no template: braces in `message` stay as written)."""
    return PydanticCustomError("atlas", message)


def _known(info: ValidationInfo) -> Known | None:
    """The context; None when a model is used without one (shape and types only)."""
    return info.context if isinstance(info.context, Known) else None


# --- values -------------------------------------------------------------------------------

@dataclass(frozen=True)
class Says:
    """Annotated marker: any failure of the value before it reads `wording`, with `{value}`
    the value's repr and `{choices}` a Literal's choices."""

    wording: str

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler
                                     ) -> core_schema.CoreSchema:
        choices = ", ".join(str(c) for c in get_args(source))
        wording = self.wording

        def check(value: Any, inner: core_schema.ValidatorFunctionWrapHandler) -> Any:
            try:
                return inner(value)
            except ValidationError:
                raise problem(wording.replace("{value}", repr(value)).replace("{choices}", choices)
                              ) from None

        return core_schema.no_info_wrap_validator_function(check, handler(source))


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("blank")
    return value


def _known_adcode(value: int, info: ValidationInfo) -> int:
    known = _known(info)
    if known and known.adcodes and value not in known.adcodes:
        raise ValueError("unknown")
    return value


def _known_sector(value: str, info: ValidationInfo) -> str:
    known = _known(info)
    if known and value not in known.sectors:
        raise ValueError("unknown")
    return value


def _known_doc(value: str, info: ValidationInfo) -> str:
    known = _known(info)
    if known and value not in known.docs:
        raise ValueError("unknown")
    return value


def _non_empty_list(wording: str) -> BeforeValidator:
    def check(value: Any) -> Any:
        if not isinstance(value, list) or not value:
            raise problem(wording)
        return value
    return BeforeValidator(check)


Str = Annotated[str, Strict(), AfterValidator(_not_blank), Says("{value} is not a valid str")]
Id = Annotated[str, Strict(), Field(pattern=ID_PATTERN), Says("{value} is not a valid id")]
Int = Annotated[int, Strict(), Says("{value} is not a valid int")]
Num = Annotated[float, Strict(), Says("{value} is not a valid num")]
Bool = Annotated[bool, Strict(), Says("{value} is not a valid bool")]
# A park's id; that a park has it is a relation between records (layers.sources._cross_check).
ParkRef = Annotated[str, Strict(), Field(pattern=ID_PATTERN), Says("{value} is not a valid park")]
Adcode = Annotated[int, Strict(), AfterValidator(_known_adcode), Says("{value} is not a known adcode")]
Sector = Annotated[str, Strict(), AfterValidator(_known_sector),
                   Says("{value} is not a sector code in sectors.yaml")]
Doc = Annotated[str, Strict(), AfterValidator(_known_doc),
                Says("{value} is not a document in documents.yaml")]

_LIST = _non_empty_list("expected a non-empty list")
Strs = Annotated[list[Str], _LIST]
Sectors = Annotated[list[Sector], _LIST]
ParkRefs = Annotated[list[ParkRef], _LIST]

ONE_OF = Says("{value} is not one of {choices}")
TermLevel = Annotated[Literal["field", "subsector", "industry", "chain"], ONE_OF]
RoleType = Annotated[Literal["role", "leading_industry", "resource", "brand", "designation"], ONE_OF]
ParkKind = Annotated[Literal["high_tech_zone", "economic_zone", "industrial_park", "base",
                             "demonstration_zone", "chemical_zone", "town", "other"], ONE_OF]
Level = Annotated[Literal["national", "provincial", "municipal"], ONE_OF]
Status = Annotated[Literal["existing", "planned", "applying", "suggested"], ONE_OF]
# What the point is (layers/places.py); a record placed at its park leaves precision out.
Precision = Annotated[Literal["town", "district", "county", "city", "province"], ONE_OF]
ZonePrecision = Annotated[Literal["town", "district", "county", "city"], ONE_OF]
ClusterKind = Annotated[Literal["corridor", "cluster", "chain", "city_group", "belt"], ONE_OF]
TargetStatus = Annotated[Literal["target", "achieved", "baseline"], ONE_OF]


# --- parts of a record --------------------------------------------------------------------

class Part(BaseModel):
    """A mapping inside a record. Its form is checked first and said in one sentence, `form`:
    an editor who wrote it wrongly needs the form, not a list of what pydantic missed."""

    model_config = ConfigDict(extra="forbid", strict=True)
    form: ClassVar[str]

    @classmethod
    def _given(cls, value: Any) -> Any:
        return value

    @model_validator(mode="before")
    @classmethod
    def _has_the_form(cls, value: Any) -> Any:
        value = cls._given(value)
        required = {n for n, f in cls.model_fields.items() if f.is_required()}
        if not isinstance(value, dict) or not required <= set(value):
            raise problem(cls.form)
        unknown = set(value) - set(cls.model_fields)
        if unknown:
            raise problem(f"unknown keys {sorted(unknown)}")
        return value


LineNumber = Annotated[int, Strict(), Field(gt=0), Says("line must be a positive int, quote a string")]
Quote = Annotated[str, Strict(), Field(min_length=1), Says("line must be a positive int, quote a string")]
ToLine = Annotated[int, Strict(), Says("to must be a line number from line to line+10")]


class Citation(Part):
    """`{doc, line, quote}`, or `{doc, line, to, quote}` for a quote over up to ten more lines;
    the quote must stand on those lines of the seed."""

    form: ClassVar[str] = "a citation has doc, line, quote and optionally to"
    doc: Doc
    line: LineNumber
    to: ToLine | None = None
    quote: Quote

    @model_validator(mode="after")
    def _quote_is_on_its_lines(self, info: ValidationInfo) -> Citation:
        doc, line, quote = self.doc, self.line, self.quote
        last = line if self.to is None else self.to
        if not line <= last <= line + 10:
            raise problem("to must be a line number from line to line+10")
        known = _known(info)
        seeds = known.seeds if known else None
        if seeds is None:
            return self
        lines = seeds.get(doc)
        if lines is None:
            raise problem(f"seed {doc} not found in the seeds folder")
        if last > len(lines):
            raise problem(f"{doc} has only {len(lines)} lines, not {last}")
        if last == line and quote not in lines[line - 1]:
            raise problem(f"quote {quote!r} is not on {doc} line {line}")
        if last > line and quote not in join_lines(lines, line, last):
            raise problem(f"quote {quote!r} is not in {doc} lines {line}-{last}")
        return self


Citations = Annotated[list[Citation], _non_empty_list("at least one citation {doc, line, quote} is required")]


class Member(Part):
    """A cluster member: an adcode, or `{adcode, role_zh?, role_en?, sources?}`; a role is quoted."""

    form: ClassVar[str] = "a member is an adcode or {adcode, role_zh, ...}"
    adcode: Adcode
    role_zh: Str | None = None
    role_en: Str | None = None
    sources: Citations | None = None

    @classmethod
    def _given(cls, value: Any) -> Any:
        return {"adcode": value} if isinstance(value, int) and not isinstance(value, bool) else value

    @model_validator(mode="after")
    def _a_role_is_quoted(self) -> Member:
        if self.role_zh is not None and self.sources is None:
            raise problem("a member role needs its own sources")
        return self


def _each_once(members: list[Member]) -> list[Member]:
    seen: set[int] = set()
    for member in members:
        if member.adcode in seen:
            raise problem(f"{member.adcode} is listed twice")
        seen.add(member.adcode)
    return members


Members = Annotated[list[Member], _non_empty_list("expected a non-empty list of members"),
                    AfterValidator(_each_once)]


class Subject(Part):
    """What a target is about: `{adcode?, park?, sector?}`, at least one."""

    form: ClassVar[str] = "needs at least one of adcode, park, sector"
    adcode: Adcode | None = None
    park: ParkRef | None = None
    sector: Sector | None = None

    @model_validator(mode="after")
    def _names_something(self) -> Subject:
        if self.adcode is None and self.park is None and self.sector is None:
            raise problem(self.form)
        return self


class Defect(Part):
    """A damaged value: `text` as the seed prints it, `reading` corrected, `note` why."""

    form: ClassVar[str] = "needs text and reading"
    text: Annotated[str, Strict(), AfterValidator(_not_blank), Says("needs text and reading")]
    reading: Annotated[str, Strict(), AfterValidator(_not_blank), Says("needs text and reading")]
    note: Annotated[str, Strict(), Says("a defect is {text, reading, note?} (strings)")] | None = None


# --- the kinds ------------------------------------------------------------------------------

class Kind(BaseModel):
    """A record of one kind: unknown fields fail (`unknown field`), required ones must be given."""

    model_config = ConfigDict(extra="forbid", strict=True)


class Cited(Kind):
    """A record that rests on the seeds: an id and its citations."""

    id: Id
    sources: Citations
    note: Str | None = None


class Document(Kind):
    doc: Str
    code: Str
    title_zh: Str
    title_en: Str
    issuer_zh: Str | None = None
    year: Int
    region: Str
    doc_number: Str | None = None
    date: Str | None = None
    sha256: Str
    note: Str | None = None


class SectorRecord(Kind):
    """A canonical sector (project-defined): no sources."""

    code: Str
    name_zh: Str
    name_en: Str
    description: Str | None = None


class SectorTerm(Cited):
    doc: Doc
    term: Str
    level: TermLevel
    parent_term: Str | None = None
    sectors: Sectors


class Role(Cited):
    adcode: Adcode
    type: RoleType
    text_zh: Str
    text_en: Str
    sectors: Sectors | None = None
    year: Int | None = None


class Park(Cited):
    name_zh: Str
    name_en: Str
    aliases: Strs | None = None
    kind: ParkKind
    level: Level | None = None
    designations: Strs | None = None
    status: Status | None = None
    city_adcode: Adcode
    county_adcode: Adcode | None = None
    sectors: Sectors
    industries_zh: Strs | None = None
    parent_park: ParkRef | None = None
    precision: Precision | None = None  # required unless placed at its park: see placement_problems
    geonameid: Int | None = None
    year: Int | None = None


class Cluster(Cited):
    name_zh: Str
    name_en: Str
    aliases: Strs | None = None
    kind: ClusterKind
    ordered: Bool
    members: Members
    sectors: Sectors
    industries_zh: Strs | None = None
    status: Status | None = None
    year: Int | None = None


class Project(Cited):
    name_zh: Str
    name_en: Str | None = None
    enterprise: Str | None = None
    sectors: Sectors
    industries_zh: Strs | None = None
    park: ParkRef | None = None
    alt_parks: ParkRefs | None = None
    city_adcode: Adcode
    county_adcode: Adcode | None = None
    precision: Precision | None = None  # as parks
    geonameid: Int | None = None
    same_as_park: Bool | None = None
    compound: Bool | None = None
    block: Str | None = None
    year: Int | None = None


class Target(Cited):
    subject: Subject
    metric_zh: Str
    metric_en: Str
    value: Num | None = None
    value_text: Str
    unit: Str | None = None
    year: Int | None = None
    status: TargetStatus
    defect: Defect | None = None

    @field_validator("defect")
    @classmethod
    def _defect_is_part_of_the_value(cls, defect: Defect | None, info: ValidationInfo) -> Defect | None:
        if defect is not None and defect.text not in str(info.data.get("value_text", "")):
            raise problem(f"text {defect.text!r} is not part of value_text")
        return defect


class Zone(Kind):
    """Where a catalogue zone is placed and which seed park it is; the catalogue row is its
    source (rows are checked in layers/catalogue.py)."""

    code: Str
    name_zh: Str
    name_en: Str | None = None
    city_adcode: Adcode
    county_adcode: Adcode | None = None
    precision: ZonePrecision
    geonameid: Int | None = None
    park: ParkRef | None = None
    note: Str | None = None


class CatalogueTerm(Kind):
    """A leading-industry word of the catalogue and the sectors it maps to."""

    term: Str
    sectors: Sectors
    note: Str | None = None


MODELS: dict[str, type[Kind]] = {
    "documents": Document,
    "sectors": SectorRecord,
    "sector_terms": SectorTerm,
    "roles": Role,
    "parks": Park,
    "clusters": Cluster,
    "projects": Project,
    "targets": Target,
    "zones": Zone,
    "catalogue_terms": CatalogueTerm,
}
KINDS = tuple(MODELS)
