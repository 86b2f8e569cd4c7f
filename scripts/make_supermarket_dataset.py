"""Write the `supermarket` demo data: real shopping baskets (Weka's supermarket.arff), a row per basket and department.

Run once (`.venv/bin/python scripts/make_supermarket_dataset.py`); it fetches Debian's `weka` package
with apt-get download (the file is in its examples), and the output is committed in the template.
The rows keep the file's order, so a rerun writes the same files.
"""

import csv
import re
import subprocess
import sys
import tempfile
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parent.parent / "{{cookiecutter.project_slug}}" / "data" / "raw"
ARFF = "usr/share/doc/weka/examples/supermarket.arff"
ATTRIBUTE = re.compile(r"@attribute\s+'([^']+)'\s+\{\s*t\s*\}", re.IGNORECASE)
LICENSE = """\
data/raw/supermarket.csv and data/raw/supermarket_items.csv: the shopping baskets of a New Zealand
supermarket, from Weka's example data set supermarket.arff (used in Witten, Frank and Hall, "Data
Mining: Practical Machine Learning Tools and Techniques"). Each row of the original is one
customer's basket, each column a department bought from; here, supermarket.csv holds one row per
basket and department bought (basket, department) and supermarket_items.csv names each department.
The baskets are anonymous: no customer, time or price. Departments the original names only by
number (department1 ...) keep those names. Made by the template's scripts/make_supermarket_dataset.py
from Debian's weka package ({version}).

Copyright (C) 1998-2008 University of Waikato, distributed with Weka under the GNU General Public
License, version 2 or (at your option) any later version: https://www.gnu.org/licenses/gpl-2.0.html
(Debian: /usr/share/doc/weka/copyright). These two data files are under that license, whatever the
license of the project around them: replace them with your own data before you distribute a
product built on them under other terms.
"""


def extract(folder: Path) -> tuple[Path, str]:
    """Download Debian's weka package into `folder` and unpack it; the arff's path and the package version."""
    subprocess.run(["apt-get", "download", "weka"], cwd=folder, check=True, capture_output=True)
    (deb,) = folder.glob("weka_*.deb")
    subprocess.run(["dpkg-deb", "-x", deb.name, "root"], cwd=folder, check=True)
    return folder / "root" / ARFF, deb.name.removeprefix("weka_").removesuffix("_all.deb")


def main() -> int:
    with tempfile.TemporaryDirectory() as tmp:
        arff, version = extract(Path(tmp))
        lines = arff.read_text(encoding="latin-1").splitlines()
    start = next(i for i, line in enumerate(lines) if line.strip().lower() == "@data")
    departments = [m.group(1) for line in lines[:start] if (m := ATTRIBUTE.match(line.strip()))]
    baskets = []
    for basket, line in enumerate((line for line in lines[start + 1 :] if line.strip()), start=1):
        values = line.split(",")[: len(departments)]
        baskets += [(basket, item) for item, value in enumerate(values, start=1) if value == "t"]
    bought = sorted({item for _, item in baskets})
    with (TEMPLATE / "supermarket.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["basket", "department"])
        writer.writerows(baskets)
    with (TEMPLATE / "supermarket_items.csv").open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["department", "name"])
        writer.writerows((item, departments[item - 1]) for item in bought)
    (TEMPLATE / "supermarket.LICENSE").write_text(LICENSE.format(version=f"weka {version}"))
    print(f"{len(baskets)} rows: {basket} baskets, {len(bought)} departments bought from", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
