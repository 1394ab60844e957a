"""The prolog check: any DTD is refused wherever the read boundaries fall."""

from __future__ import annotations

import io

import pytest
from hypothesis import given
from hypothesis import strategies as st

from repotrack.errors import InputError
from repotrack.sources.xmlstream import iter_elements, root_name

_MISC = st.sampled_from(["", " ", "\n", "<!-- c -->", "<?pi x?>", "<!-- a - b? > -->", "\t\n "])


class _Trickle(io.RawIOBase):
    """A stream that returns at most ``step`` bytes per read."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = data
        self._pos = 0
        self._step = step

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        n = self._step if size < 0 else min(size, self._step)
        chunk = self._data[self._pos : self._pos + n]
        self._pos += len(chunk)
        return chunk


def _names(data: bytes, step: int) -> list[str]:
    stream = _Trickle(data, step)
    return [e.text or "" for e in iter_elements(stream, name="t.xml", tags=frozenset({"n"}))]  # type: ignore[arg-type]


@given(before=st.lists(_MISC, max_size=5), step=st.integers(min_value=1, max_value=64))
def test_doctype_after_any_prolog_is_refused(before: list[str], step: int) -> None:
    doc = (
        '<?xml version="1.0"?>'
        + "".join(before)
        + '<!DOCTYPE r [<!ENTITY e "x">]><r><n>&e;</n></r>'
    )
    with pytest.raises(InputError, match="DTD"):
        _names(doc.encode(), step)


@given(before=st.lists(_MISC, max_size=5), step=st.integers(min_value=1, max_value=64))
def test_documents_without_dtd_parse(before: list[str], step: int) -> None:
    doc = '<?xml version="1.0"?>' + "".join(before) + "<r><n>a</n><n>b&amp;c</n></r>"
    assert _names(doc.encode(), step) == ["a", "b&c"]


def test_utf16_is_refused() -> None:
    with pytest.raises(InputError, match="UTF-8"):
        _names("<r><n>a</n></r>".encode("utf-16"), 64)


def test_the_root_element_is_named_past_the_prolog() -> None:
    prolog = b'<?xml version="1.0"?>\n<!-- <updates> in a comment -->\n'
    assert root_name(prolog + b"<repomd xmlns='x'><data/></repomd>", name="f") == "repomd"
    assert root_name(prolog + b"<u:updates xmlns:u='x'/>", name="f") == "updates"
    assert root_name(prolog, name="f") is None
    with pytest.raises(InputError, match="DTD"):
        root_name(b'<!DOCTYPE updates [<!ENTITY a "b">]><updates/>', name="f")
