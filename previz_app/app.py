"""`previz-gui`: builds the application's objects and wires them; no globals."""

from __future__ import annotations


def main(argv: list[str] | None = None) -> int:
    raise SystemExit("previz-gui is being built")
