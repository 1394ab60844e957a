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
