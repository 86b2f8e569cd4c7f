"""Tokens of a text and what an entity tagger sees of each: one tokenizer for annotations, training and serving.

A token is a run of letters and digits, or one other visible character: "Lovelace's" is
"Lovelace", "'", "s", so an annotation that ends at "Lovelace" falls on a token edge. Offsets are
characters of the original text, so an entity found in a token is a span of that text.
"""

import re
from functools import lru_cache

TOKEN = re.compile(r"\w+|[^\w\s]")
WINDOW = 2  # the neighbours on each side whose words a token's features include


def tokenize(text: str) -> list[tuple[int, int]]:
    """The (start, end) character offsets of the text's tokens, in order."""
    return [match.span() for match in TOKEN.finditer(text)]


def shape(word: str) -> str:
    """The word's shape with repeats collapsed: "Lovelace" -> "Xx", "1815" -> "d", "U.N" -> "X.X"."""
    out: list[str] = []
    for char in word:
        kind = "X" if char.isupper() else "x" if char.isalpha() else "d" if char.isdigit() else char
        if not out or out[-1] != kind:
            out.append(kind)
    return "".join(out)


@lru_cache(maxsize=200_000)
def word_features(word: str) -> tuple[str, ...]:
    """What a token says by itself: its lowercase form, affixes, shape and case (cached: words repeat)."""
    lower = word.lower()
    features = [f"w={lower}", f"p3={lower[:3]}", f"s2={lower[-2:]}", f"s3={lower[-3:]}", f"shape={shape(word)}"]
    if word[:1].isupper():
        features.append("title" if word[1:].islower() or len(word) == 1 else "upper" if word.isupper() else "mixed")
    if word.isdigit():
        features.append(f"digits={min(len(word), 4)}")
    return tuple(features)


@lru_cache(maxsize=200_000)
def context_features(word: str) -> tuple[tuple[str, ...], ...]:
    """What a word tells the tokens around it, at each offset -WINDOW..-1, 1..WINDOW: its lowercase form and case."""
    lower, title = word.lower(), word[:1].isupper()
    offsets = [*range(-WINDOW, 0), *range(1, WINDOW + 1)]
    return tuple((f"{o:+d}:w={lower}", f"{o:+d}:title") if title else (f"{o:+d}:w={lower}",) for o in offsets)


def sequence_features(words: list[str]) -> list[list[str]]:
    """Each token's own features and its neighbours' words and case, for a CRF: crfsuite's attribute lists."""
    own = [word_features(word) for word in words]
    around = [context_features(word) for word in words]
    last = len(words) - 1
    sequence = []
    for i in range(len(words)):
        features = ["bias", *own[i]]
        if i == 0:
            features.append("BOS")
        if i == last:
            features.append("EOS")
        # the neighbours in the order of context_features' offsets: i-WINDOW .. i-1, then i+1 .. i+WINDOW
        for slot, j in enumerate((*range(i - WINDOW, i), *range(i + 1, i + WINDOW + 1))):
            if 0 <= j <= last:
                features += around[j][slot]
        sequence.append(features)
    return sequence
