"""What a changelog verdict keeps of a long entry: the lines that name the CVE id.

Each case is worked out by hand from the rule in ``verdict._EXCERPT_COLUMNS``: a short
entry whole; of a long one its first line and the lines naming the id, ``…`` alone on a
line for each run of lines left out, a long line cut around the id, 500 characters at
most, counted in characters.
"""

from __future__ import annotations

import pytest

from repotrack.security.verdict import _EXCERPT_COLUMNS, ELLIPSIS, EXCERPT_CHARS
from repotrack.store import Store

CVE = "CVE-2024-12345"
FILLER = [
    f"  + fix {n:02d} of a long list of upstream changes, none of them named here"
    for n in range(12)
]


def excerpt(store: Store, text: str) -> str:
    ((kept,),) = store.query(
        f"SELECT x_excerpt FROM (SELECT {{t:String}} AS text, {{c:String}} AS cve, "  # noqa: S608
        f"{_EXCERPT_COLUMNS})",
        {"t": text, "c": CVE},
    )
    return str(kept)


@pytest.mark.parametrize(
    "text",
    [
        f"- 1.2.3 (fixes {CVE})",
        "- " + "x" * 300 + f"\n- fixes {CVE}\n",  # a long line, but a short entry
        "- Обновление " * 35 + f"\n- {CVE}",  # 500 characters or fewer, 900 bytes
    ],
)
def test_a_short_entry_is_kept_whole(store: Store, text: str) -> None:
    assert len(text) <= EXCERPT_CHARS
    assert excerpt(store, text) == text


def test_a_long_entry_keeps_its_first_line_and_the_lines_naming_the_id(store: Store) -> None:
    lines = ["- 4.15", *FILLER[:5], f"  + {CVE} first", f"  + {CVE} second", *FILLER[5:]]
    text = "\n".join(lines)
    assert len(text) > EXCERPT_CHARS
    assert excerpt(store, text) == "\n".join(
        ["- 4.15", ELLIPSIS, f"  + {CVE} first", f"  + {CVE} second", ELLIPSIS]
    )
    # Named on the first line, and on the last: nothing is left out after it.
    text = "\n".join([f"- 4.15 ({CVE})", *FILLER, f"  + again {CVE}"])
    assert excerpt(store, text) == "\n".join([f"- 4.15 ({CVE})", ELLIPSIS, f"  + again {CVE}"])


def test_a_long_line_is_cut_around_the_id(store: Store) -> None:
    before, after = "a" * 400, "b" * 400
    text = f"- 2.0\n- {before}{CVE}{after}"
    line = f"- {before}{CVE}{after}"
    at = line.index(CVE)  # 0-based; the window starts 80 characters before the id
    window = line[at - 80 : at - 80 + 200]
    assert excerpt(store, text) == f"- 2.0\n{ELLIPSIS}{window}{ELLIPSIS}"
    assert CVE in window


def test_many_lines_naming_the_id_are_cut_at_the_limit(store: Store) -> None:
    text = "\n".join(["- 5.0", *(f"  + part {n:02d} of the fix for {CVE}" for n in range(30))])
    kept = excerpt(store, text)
    assert len(kept) == EXCERPT_CHARS
    assert kept.endswith(ELLIPSIS)
    assert text.startswith(kept[:-1])


def test_letters_are_counted_not_bytes(store: Store) -> None:
    words = "- Исправления " * 60  # 840 characters, 1 500 bytes, on one line
    kept = excerpt(store, f"{words}\n- Закрыта уязвимость {CVE}")
    kept.encode("utf-8")  # never half a letter
    first = words[:200]
    assert kept == f"{first}{ELLIPSIS}\n- Закрыта уязвимость {CVE}"


def test_trailing_blank_lines_are_not_text_left_out(store: Store) -> None:
    """An entry may end in a newline (or a blank line): an excerpt that kept its last
    line of text has left nothing out, and says so by no closing ``…``."""
    lines = ["- 4.16", *FILLER, f"  + {CVE} fixed"]
    for tail in ("\n", "\n\n", "\n  \n"):
        text = "\n".join(lines) + tail
        assert len(text) > EXCERPT_CHARS
        assert excerpt(store, text) == "\n".join(["- 4.16", ELLIPSIS, f"  + {CVE} fixed"])
    # A line of text after the last one kept is still marked as left out.
    text = "\n".join([*lines, "  + one more change", ""])
    assert excerpt(store, text) == "\n".join(["- 4.16", ELLIPSIS, f"  + {CVE} fixed", ELLIPSIS])
