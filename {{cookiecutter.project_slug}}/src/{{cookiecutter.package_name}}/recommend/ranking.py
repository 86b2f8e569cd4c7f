"""A trained recommender as plain arrays, and how it ranks: shared by evaluate, serving and predict_file.

It holds no code of any library: each item's nearest neighbours with their scores, the popularity
of every item, each training user's items and, for matrix factorisation, the factors. Saved as
one `.npz` (registry/artifacts.py) and read back with allow_pickle=False, so serving never unpickles.
"""

from dataclasses import dataclass, fields
from functools import cached_property
from typing import Any

import numpy as np

# A ranked answer: item positions (into `items`) and their scores, best first.
Ranked = tuple[np.ndarray, np.ndarray]
POPULARITY = "popularity"  # the fallback an answer names when it could not use what it was asked about


@dataclass(frozen=True)
class Recommender:
    """The arrays serving needs; positions index `items` and `users`."""

    items: np.ndarray  # item ids as in the data (integers or strings)
    popularity: np.ndarray  # float32: each item's weight in training (interactions, or summed ratings)
    neighbors: np.ndarray  # int32 [items, K]: each item's most similar items, -1 where fewer than K
    neighbor_scores: np.ndarray  # float32 [items, K]: their similarities
    users: np.ndarray  # user ids as in the data
    history_indptr: np.ndarray  # int64 [users + 1]: user u's training items are history_items[indptr[u]:indptr[u+1]]
    history_items: np.ndarray  # int32 item positions
    user_factors: np.ndarray | None = None  # float32 [users, f]: matrix factorisation only
    item_factors: np.ndarray | None = None  # float32 [items, f]
    metadata_columns: np.ndarray | None = None  # the columns of data.items (title, ...), as text
    metadata: np.ndarray | None = None  # text [items, columns]: each item's metadata, "" where missing

    def arrays(self) -> dict[str, np.ndarray]:
        """The arrays by name, for numpy.savez (the factors only when there are some)."""
        return {f.name: value for f in fields(self) if (value := getattr(self, f.name)) is not None}

    @classmethod
    def from_arrays(cls, arrays: Any) -> "Recommender":
        """Rebuild from numpy.load's mapping of a saved file."""
        names = {f.name for f in fields(cls)}
        return cls(**{name: arrays[name] for name in arrays.files if name in names})

    @cached_property
    def item_index(self) -> dict[str, int]:
        """Each item id's position, by its text: an id arrives as 42 in JSON and as "42" in a URL."""
        return id_index(self.items)

    @cached_property
    def user_index(self) -> dict[str, int]:
        """Each training user id's position, by its text."""
        return id_index(self.users)

    def item_position(self, item: Any) -> int | None:
        """The position of an item id (an int, or its text as a URL sends it), None when unknown."""
        return self.item_index.get(str(item))

    def user_position(self, user: Any) -> int | None:
        """The position of a training user's id, None when unknown."""
        return self.user_index.get(str(user))

    def history(self, user: int) -> np.ndarray:
        """The item positions user `user` interacted with in training."""
        return self.history_items[self.history_indptr[user] : self.history_indptr[user + 1]]

    def popular(self, k: int, exclude: np.ndarray | None = None) -> Ranked:
        """The k most popular items, leaving out `exclude`."""
        return top_k(self.popularity, k, exclude)

    def similar(self, item: int, k: int) -> Ranked:
        """The k items most like item `item`, by the trained similarity."""
        found = self.neighbors[item] >= 0
        return self.neighbors[item][found][:k], self.neighbor_scores[item][found][:k]

    def recommend(self, seen: np.ndarray, k: int, user: int | None = None) -> Ranked:
        """The k best items not in `seen`: the factors' scores for a training user, else the neighbours'.

        Without factors (or for a visitor known only by the items they saw), an item's score is the
        sum of its similarities to the seen items: item-based collaborative filtering. An empty
        result (nothing similar to what was seen) is the caller's to fill with popular items.
        """
        if user is not None and self.user_factors is not None and self.item_factors is not None:
            scores = self.item_factors @ self.user_factors[user]
        else:
            neighbours = self.neighbors[seen].ravel()
            known = neighbours >= 0
            weights = self.neighbor_scores[seen].ravel()[known]
            scores = np.bincount(neighbours[known], weights=weights, minlength=len(self.items)).astype(np.float64)
            scores[scores <= 0] = -np.inf  # not similar to anything seen: not a recommendation
        return top_k(scores, k, seen)

    def similar_to(self, item: Any, k: int) -> tuple[Ranked, str | None]:
        """The answer for one item id: its most similar items; the popular ones, and the fallback, when unknown."""
        position = self.item_position(item)
        if position is not None and len((found := self.similar(position, k))[0]):
            return found, None
        return self.popular(k, None if position is None else np.array([position])), POPULARITY

    def for_visitor(self, k: int, user: Any = None, seen: list[Any] | None = None) -> tuple[Ranked, str | None]:
        """The answer for a training user's id, or for the item ids a visitor saw: k items they have not seen.

        A list shorter than k is topped up with popular items; with nothing known to go on (an
        unknown user, no known item) the answer is the popular items and names the fallback.
        """
        position = None if user is None else self.user_position(user)
        if user is not None:
            history = self.history(position) if position is not None else np.empty(0, np.int64)
        else:
            history = np.array([p for item in seen or [] if (p := self.item_position(item)) is not None], np.int64)
        if position is None and not len(history):
            return self.popular(k), POPULARITY
        best, scores = self.recommend(history, k, position)
        if not len(best):
            return self.popular(k, history), POPULARITY
        if len(best) < k:
            more, more_scores = self.popular(k - len(best), np.concatenate([history, best]))
            best, scores = np.concatenate([best, more]), np.concatenate([scores, more_scores])
        return (best, scores), None

    def ranked(self, positions: np.ndarray, scores: np.ndarray) -> list[dict[str, Any]]:
        """Ranked items as answers give them: the id as the data has it, the score, the item's metadata."""
        columns = [] if self.metadata_columns is None else self.metadata_columns.tolist()
        answers = []
        for position, score in zip(positions.tolist(), scores.tolist(), strict=True):
            answer = {"item": self.items[position].item(), "score": round(float(score), 6)}
            if self.metadata is not None:
                answer |= dict(zip(columns, self.metadata[position].tolist(), strict=True))
            answers.append(answer)
        return answers


def id_index(ids: np.ndarray) -> dict[str, int]:
    """Each id's position, keyed by its text."""
    return {str(value): position for position, value in enumerate(ids.tolist())}


def top_k(scores: np.ndarray, k: int, exclude: np.ndarray | None = None) -> Ranked:
    """The positions of the k highest finite scores, best first, leaving out `exclude`."""
    scores = np.asarray(scores, dtype=np.float64).copy()
    if exclude is not None and len(exclude):
        scores[exclude] = -np.inf
    k = min(k, int(np.isfinite(scores).sum()))
    if k <= 0:
        return np.empty(0, dtype=np.int64), np.empty(0)
    best = np.argpartition(-scores, k - 1)[:k]
    best = best[np.lexsort((best, -scores[best]))]  # by score, ties by position: the same answer every time
    return best, scores[best]
