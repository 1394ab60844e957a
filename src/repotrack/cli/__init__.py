"""Command-line faces: ``repotrack`` and the originals' command names. They parse, call, render."""
