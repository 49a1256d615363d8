from moderation.sessions import services


def test_join_codes_use_only_letters_nobody_misreads():
    for misread in "ILOQSZBGUV0125689":
        assert misread not in services.JOIN_ALPHABET
    assert len(set(services.JOIN_ALPHABET)) == len(services.JOIN_ALPHABET) >= 16


def test_a_code_typed_loosely_is_read_as_stored():
    assert services.normalise_code(" acd-efh ") == "ACDEFH"
    assert services.normalise_code("acd efh") == "ACDEFH"
    assert services.normalise_code(None) == ""
