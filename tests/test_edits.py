"""SEARCH/REPLACE edits apply exactly, loosely or fuzzily, and fail loudly otherwise."""

import pytest

from ellora.tools.edits import EditFailed, SearchReplace, apply_search_replace, parse_search_replace

SOURCE = "void f(int n, double* y) {\n  for (int i = 0; i < n; ++i) {\n    y[i] = 2 * y[i];\n  }\n}"


def test_parse_blocks():
    reply = (
        "Here:\n<<<<<<< SEARCH\n  for (int i = 0; i < n; ++i) {\n=======\n"
        "  #pragma omp parallel for\n  for (int i = 0; i < n; ++i) {\n>>>>>>> REPLACE\n"
    )
    [edit] = parse_search_replace(reply)
    new, how = apply_search_replace(SOURCE, [edit])
    assert "#pragma omp parallel for\n  for" in new and how == ["exact"]


def test_indentation_and_small_typos_still_apply():
    loose = SearchReplace(
        "for (int i = 0; i < n; ++i) {", "#pragma omp simd\nfor (int i = 0; i < n; ++i) {"
    )
    assert apply_search_replace(SOURCE, [loose])[1] == ["ignoring indentation"]
    typo = SearchReplace("    y[i] = 2 * y[i]\n  }", "    y[i] *= 2;\n  }")
    new, how = apply_search_replace(SOURCE, [typo])
    assert how[0].startswith("fuzzy") and "y[i] *= 2;" in new


@pytest.mark.parametrize(
    "search, message",
    [
        ("    z[i] = 3 * q[k] + 7;", "not in the file"),
        ("    y[i] = 2 * y[i];", "matches 2 places"),
    ],
)
def test_edits_that_do_not_apply_fail_loudly(search, message):
    twice = SOURCE + "\n" + SOURCE.replace("void f", "void g")
    with pytest.raises(EditFailed, match=message):
        apply_search_replace(twice, [SearchReplace(search, "x")])
