"""The summary line a load prints is printed as it is: no markup, no emoji codes.

Found with image loads handed to the service: the tag of a ``cloud`` image,
``p10:cloud:::rc.10.0.0:x86_64:install:tar``, holds ``:cloud:``, which Rich turned
into an emoji, so a handed-over load printed another line than a local one.
"""

from __future__ import annotations

from repotrack.cli.common import console
from repotrack.cli.load import print_summary


def test_an_image_tag_with_an_emoji_code_is_printed_as_is() -> None:
    line = "p10:cloud:::rc.10.0.0:x86_64:install:tar 2024-05-02: loaded, 5 packages [bold]x[/]"
    with console.capture() as captured:
        print_summary(line, [])
    assert captured.get() == line + "\n"


def test_the_shared_consoles_draw_a_progress_bar() -> None:
    """The consoles of ``cli.common`` are made on first use; Rich's live display uses
    a console as a context manager, which must work through them as on a Console."""
    import io

    from repotrack.cli.common import _LazyConsole
    from repotrack.cli.progress import bar

    screen = io.StringIO()
    lazy = _LazyConsole(file=screen, force_terminal=True, width=120)
    with bar(lazy) as shown:  # type: ignore[arg-type]
        shown.start(total=2)
        shown.advance(new=True)
        shown.advance(new=False)
    assert "2/2" in screen.getvalue()
