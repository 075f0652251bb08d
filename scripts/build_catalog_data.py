"""Regenerate catalog/data/movielens-redial/ byte-for-byte from the shared MovieLens + ReDial data.

Usage: python scripts/build_catalog_data.py [--data-dir ../shared/data] [--out FOLDER]

The join is catalog.movielens_redial.load_movielens_redial (the one source of truth); this
script only writes its result in the compact form (catalog.compact.write_compact) and copies
MovieLens' README.txt (its licence, which must travel with the data). ATTRIBUTION.md is written
by hand and is copied along when --out is another folder.
"""

from __future__ import annotations

import argparse
import hashlib
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from catalog.compact import write_compact  # noqa: E402
from catalog.movielens_redial import EMBEDDED_DIR, load_movielens_redial  # noqa: E402

LICENCE_FILE = "README.txt"
ATTRIBUTION_FILE = "ATTRIBUTION.md"


def build(data_dir: Path, out: Path) -> list[Path]:
    """Write the compact catalog and MovieLens' licence into `out`.

    Returns:
        The derived files written (data files, then README.txt).
    """
    catalog = load_movielens_redial(data_dir)
    paths = write_compact(catalog, out)
    licence = out / LICENCE_FILE
    shutil.copyfile(data_dir / "ml-latest-small" / LICENCE_FILE, licence)
    paths.append(licence)
    attribution = out / ATTRIBUTION_FILE
    if out.resolve() != EMBEDDED_DIR and (EMBEDDED_DIR / ATTRIBUTION_FILE).is_file():
        shutil.copyfile(EMBEDDED_DIR / ATTRIBUTION_FILE, attribution)
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", type=Path, default=ROOT.parent / "shared" / "data",
                        help="folder holding ml-latest-small/ and redial/")
    parser.add_argument("--out", type=Path, default=EMBEDDED_DIR, help="folder to write")
    args = parser.parse_args(argv)
    total = 0
    for path in build(args.data_dir, args.out):
        data = path.read_bytes()
        total += len(data)
        print(f"{hashlib.sha256(data).hexdigest()}  {len(data):>9,} B  {path}")
    print(f"{total:,} B in all")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
