"""Text features without a model: caption, hashtags, on-screen text and transcript through TF-IDF fitted on train.

Used when no text encoder's weights are given (``--features words``). Words and word
pairs are hashed into 4,096 columns (scikit-learn's HashingVectorizer: nothing to
store for the vocabulary), weighted by TF-IDF with the inverse document
frequencies of the **train** rows, and reduced to ``components`` dimensions by a
truncated SVD also fitted on train. The fitted numbers go into the run folder
(``words.npz``) so that prediction makes the same columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

HASHED = 4096
COMPONENTS = 32
PREFIX = "words"


@dataclass(frozen=True)
class WordsModel:
    """The train split's inverse document frequencies and SVD directions."""

    idf: np.ndarray
    components: np.ndarray

    @classmethod
    def fit(cls, texts: pd.Series, seed: int = 0, components: int = COMPONENTS) -> WordsModel:
        """Fits TF-IDF and the SVD on ``texts`` (the train rows)."""
        from sklearn.decomposition import TruncatedSVD
        from sklearn.feature_extraction.text import TfidfTransformer

        counts = _hashed(texts)
        tfidf = TfidfTransformer(sublinear_tf=True).fit(counts)
        weighted = tfidf.transform(counts)
        k = max(1, min(components, weighted.shape[0] - 1, int((weighted.getnnz(0) > 0).sum()) - 1))
        svd = TruncatedSVD(n_components=k, random_state=seed).fit(weighted)
        return cls(tfidf.idf_.astype(np.float64), svd.components_.astype(np.float64))

    def transform(self, texts: pd.Series) -> pd.DataFrame:
        """``words_0 … words_{k-1}`` for each text (an empty text is all zeros)."""
        from sklearn.preprocessing import normalize

        weighted = _hashed(texts)
        weighted.data = 1 + np.log(weighted.data)  # sublinear term frequency, as fitted
        weighted = normalize(weighted.multiply(self.idf).tocsr())
        values = weighted @ self.components.T
        return pd.DataFrame(values, index=texts.index, columns=[f"{PREFIX}_{i}" for i in range(values.shape[1])])

    def save(self, path: Path) -> Path:
        """Writes the fitted numbers (``.npz``)."""
        np.savez_compressed(path, idf=self.idf, components=self.components)
        return path

    @classmethod
    def load(cls, path: Path) -> WordsModel:
        """Reads :meth:`save`'s file."""
        with np.load(path) as data:
            return cls(data["idf"], data["components"])


def _hashed(texts: pd.Series):
    from sklearn.feature_extraction.text import HashingVectorizer

    vectorizer = HashingVectorizer(n_features=HASHED, ngram_range=(1, 2), alternate_sign=False, norm=None, token_pattern=r"(?u)#?\b\w+\b")
    return vectorizer.transform(texts.fillna("").astype(str)).tocsr()
