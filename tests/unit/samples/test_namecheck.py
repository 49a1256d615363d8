"""The search for names: whole words, whatever the case, accents or whitespace."""

from moderation.samples.namecheck import Source, find_names, search_terms
from rubrics.queries import grade_span


def _found(check) -> dict[str, list]:
    return {item.term.text: [(hit.page, hit.match) for hit in item.hits]
            for item in check.found}


def test_full_name_and_each_word_of_three_letters_or_more_are_terms():
    terms = search_terms([(Source.STUDENT, "  Jo  Ann Lee "), (Source.UPLOADER, "Ms Amara Okafor"),
                          (Source.SCHOOL, "Riverbend Elementary School"),
                          (Source.LOCAL_ID, "S-1042")])
    texts = {(t.text, t.source) for t in terms}
    assert ("Jo Ann Lee", Source.STUDENT) in texts
    assert ("Ann", Source.STUDENT) in texts and ("Lee", Source.STUDENT) in texts
    assert not any(t.text in ("Jo", "Ms") for t in terms)  # 1-2 letters are ignored
    assert ("Riverbend", Source.SCHOOL) in texts
    assert not any(t.text in ("Elementary", "School") for t in terms)  # generic school words
    assert ("S-1042", Source.LOCAL_ID) in texts
    assert not any(t.text == "1042" for t in terms)  # an id is matched whole


def test_matches_ignore_case_accents_and_line_breaks_but_not_parts_of_words():
    terms = search_terms([(Source.STUDENT, "José Núñez")])
    pages = [(1, "Essay by JOSE\n   nunez.\nJosephine and Nunezville are other people."),
             (2, "Signed: josé núñez")]
    found = _found(find_names(terms, pages))
    assert found["José Núñez"] == [(1, "JOSE nunez"), (2, "josé núñez")]
    assert found["José"] == [(1, "JOSE"), (2, "josé")]
    assert found["Núñez"] == [(1, "nunez"), (2, "núñez")]


def test_hits_carry_their_context_and_blank_pages_are_unsearchable():
    terms = search_terms([(Source.STUDENT, "Riley Quinn")])
    check = find_names(terms, [(1, "My name is Riley and I think recess should be longer."),
                               (2, "   \n "), (3, "Nothing here.")])
    (item,) = check.found
    (hit,) = item.hits
    assert (hit.page, hit.before, hit.match, hit.after) == (
        1, "My name is ", "Riley", " and I think recess should be longer.")
    assert check.unsearchable_pages == [2]
    assert check.searched_pages == 2


def test_the_first_source_names_a_shared_word():
    terms = search_terms([(Source.STUDENT, "Sam Okafor"), (Source.UPLOADER, "Amara Okafor")])
    assert [t.source for t in terms if t.text == "Okafor"] == [Source.STUDENT]


def test_grade_bands_as_spans():
    assert grade_span("K-5") == (0, 5)
    assert grade_span("9-10") == (9, 10)
    assert grade_span("Grades 6–8") == (6, 8)
    assert grade_span("Pre-K") == (-1, -1)
    assert grade_span("All") is None and grade_span(None) is None
