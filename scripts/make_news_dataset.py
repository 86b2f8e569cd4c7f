"""Write the `news` demo data: short news-style sentences written for this template, annotated with entities.

The sentences live in scripts/news_sentences.txt, one per line, each entity marked as
[its words](LABEL) with the labels PER, LOC, ORG and EVENT. This script turns them into the
JSON lines doccano exports ({"text", "label": [[start, end, label], ...]}), the format a team's
own annotations arrive in. Run it after editing the sentences
(`.venv/bin/python scripts/make_news_dataset.py`); the output is committed in the template.
"""

import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
SOURCE = HERE / "news_sentences.txt"
TEMPLATE = HERE.parent / "{{cookiecutter.project_slug}}" / "data" / "raw"
MARK = re.compile(r"\[([^\]]+)\]\((PER|LOC|ORG|EVENT)\)")
LICENSE = """\
data/raw/news.jsonl: {count} short news-style sentences, written for this template (not taken from any
publication) and annotated by hand with the people (PER), places (LOC), organisations (ORG) and
events (EVENT) they mention. The people are invented; the places, organisations and events are
real names used in made-up sentences: no statement in them is a fact. The file is doccano's JSONL
export format: {{"text": ..., "label": [[start, end, label], ...]}}, character offsets, end exclusive.

Dedicated to the public domain under CC0 1.0 (https://creativecommons.org/publicdomain/zero/1.0/):
use, change and redistribute it without asking. Replace it with your own annotations.
"""


def annotated(line: str) -> dict[str, object]:
    """One marked-up sentence as doccano's {"text", "label"} with character offsets into the plain text."""
    text, spans, position = "", [], 0
    for match in MARK.finditer(line):
        text += line[position : match.start()]
        spans.append([len(text), len(text) + len(match[1]), match[2]])
        text += match[1]
        position = match.end()
    return {"text": text + line[position:], "label": spans}


def main() -> None:
    lines = [line.strip() for line in SOURCE.read_text(encoding="utf-8").splitlines() if line.strip()]
    records = [annotated(line) for line in lines]
    with (TEMPLATE / "news.jsonl").open("w", encoding="utf-8") as out:
        for record in records:
            out.write(json.dumps(record, ensure_ascii=False) + "\n")
    (TEMPLATE / "news.LICENSE").write_text(LICENSE.format(count=len(records)))
    print(f"wrote {len(records)} annotated sentences to {TEMPLATE / 'news.jsonl'}")


if __name__ == "__main__":
    main()
