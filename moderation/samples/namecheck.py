"""The search for names in a sample's text before its uploader confirms that none is visible.

The terms are what the uploader typed as the student's identity, the uploader's own name and the
school's name. A name matches whole words only, whatever its case, accents or the whitespace
(line breaks included) between its words: "José  Núñez" in the work matches "jose nunez" typed.
Each person's full name is a term, and so is each of its words of three letters or more (a first
name alone is the usual way a name appears). The school's generic words (School, Elementary,
...) are left out: they would match every page about school.

No Flask, no database and no logging here: the terms are a student's identity.
"""

import re
import unicodedata
from dataclasses import dataclass, field

MIN_TOKEN_LENGTH = 3
CONTEXT_CHARS = 40
MAX_HITS_PER_TERM = 10
# Words of school names that say what kind of school it is, not which one.
GENERIC_SCHOOL_WORDS = frozenset({
    "school", "schools", "elementary", "middle", "high", "junior", "senior", "primary",
    "secondary", "academy", "college", "public", "charter", "magnet", "community", "district",
    "the", "and", "for", "saint", "center", "centre", "institute", "preparatory", "prep",
    "international", "intermediate", "upper", "lower", "early", "learning", "campus"})


class Source:
    """Where a term came from, as the results page names it."""

    STUDENT = "the student's name"
    LOCAL_ID = "the student's local ID"
    UPLOADER = "your name"
    SCHOOL = "the school's name"


@dataclass(frozen=True)
class Term:
    text: str  # as typed, for the results
    source: str
    pattern: re.Pattern = field(compare=False, repr=False)


@dataclass(frozen=True)
class Hit:
    """One place a term was found: the page (None for plain text) and the text around it."""

    page: int | None
    before: str
    match: str
    after: str


@dataclass(frozen=True)
class TermHits:
    term: Term
    hits: list[Hit]
    total: int  # hits beyond MAX_HITS_PER_TERM are counted, not listed


@dataclass(frozen=True)
class NameCheck:
    """What the search found, and what it could not search."""

    found: list[TermHits]
    unsearchable_pages: list[int]  # PDF pages without a text layer (scans)
    searched_pages: int
    terms: list[Term]

    @property
    def searched_anything(self) -> bool:
        return self.searched_pages > 0


def _fold(char: str) -> str:
    """The char as it is compared: case folded, accents dropped (é -> e, ß -> ss)."""
    decomposed = unicodedata.normalize("NFKD", char.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize(text: str) -> tuple[str, list[int]]:
    """The folded text with every whitespace run as one space, and for each of its characters
    the index of the original character it came from."""
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        if char.isspace() or unicodedata.category(char) == "Cf":  # soft hyphens, zero widths
            if char.isspace() and out and out[-1] != " ":
                out.append(" ")
                origin.append(index)
            continue
        for folded in _fold(char):
            out.append(folded)
            origin.append(index)
    return "".join(out), origin


def _pattern(folded: str) -> re.Pattern:
    return re.compile(r"(?<!\w)" + re.escape(folded) + r"(?!\w)")


def search_terms(sources: list[tuple[str, str | None]]) -> list[Term]:
    """The terms to search for, from (source, typed value) pairs; the first source of a term
    names it where two give the same word (a teacher who shares the student's surname)."""
    terms: dict[str, Term] = {}

    def add(typed: str, source: str) -> None:
        folded = normalize(typed)[0].strip()
        if len(folded) >= MIN_TOKEN_LENGTH and folded not in terms:
            terms[folded] = Term(typed.strip(), source, _pattern(folded))

    for source, value in sources:
        value = " ".join((value or "").split())
        if not value:
            continue
        add(value, source)
        if source == Source.LOCAL_ID:
            continue  # an id is matched whole
        for word in re.findall(r"\w+", value):
            if source == Source.SCHOOL and normalize(word)[0] in GENERIC_SCHOOL_WORDS:
                continue
            add(word, source)
    return list(terms.values())


def _context(text: str, start: int, end: int) -> Hit:
    def squeeze(part: str) -> str:
        return " ".join(part.split())

    before = text[max(0, start - CONTEXT_CHARS):start]
    after = text[end:end + CONTEXT_CHARS]
    return Hit(page=None, before=("…" if start > CONTEXT_CHARS else "") + squeeze(before)
               + (" " if before[-1:].isspace() else ""),
               match=squeeze(text[start:end]),
               after=(" " if after[:1].isspace() else "") + squeeze(after)
               + ("…" if end + CONTEXT_CHARS < len(text) else ""))


def find_names(terms: list[Term], pages: list[tuple[int | None, str]]) -> NameCheck:
    """Search each (page number or None, text) for each term. A PDF page whose text is blank
    has no text layer: it is listed as unsearchable, not as clean."""
    found: dict[Term, list[Hit]] = {term: [] for term in terms}
    unsearchable, searched = [], 0
    for number, text in pages:
        if not text.strip():
            if number is not None:
                unsearchable.append(number)
            continue
        searched += 1
        folded, origin = normalize(text)
        for term in terms:
            for match in term.pattern.finditer(folded):
                start, end = origin[match.start()], origin[match.end() - 1] + 1
                hit = _context(text, start, end)
                found[term].append(Hit(number, hit.before, hit.match, hit.after))
    return NameCheck(
        found=[TermHits(term, hits[:MAX_HITS_PER_TERM], len(hits))
               for term, hits in found.items() if hits],
        unsearchable_pages=unsearchable, searched_pages=searched, terms=terms)
