"""Zero-shot content category (seed 000): an NLI model scores "This video is about {label}." for each category."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from modeling.extractors.base import Extractor, ExtractorError, Item, load_pretrained

#: seed 000's categories, in its order
CATEGORIES = ("comedy", "dance", "sports", "gaming", "educational", "vehicles", "beauty", "food", "pets", "technology", "music", "unidentified", "other")


class CategoryExtractor(Extractor):
    """Entailment logits of every (text, category) pair, softmaxed over the categories (the zero-shot pipeline's rule)."""

    name = "category"
    input = "text"
    default_model = "MoritzLaurer/deberta-v3-large-zeroshot-v2.0"
    default_batch_size = 4
    summary = "zero-shot category over seed 000's 13 categories, with confidence"

    @classmethod
    def default_options(cls) -> dict[str, Any]:  # noqa: D102
        return {"labels": list(CATEGORIES), "template": "This video is about {}.", "max_length": 256}

    def load(self) -> None:  # noqa: D102
        from transformers import AutoModelForSequenceClassification, AutoTokenizer

        self.tokenizer = load_pretrained(AutoTokenizer, self.weights, "tokenizer")
        self.model = load_pretrained(AutoModelForSequenceClassification, self.weights, "NLI model").eval().to(self.device)
        names = {str(label).lower(): int(i) for label, i in self.model.config.label2id.items()}
        entail = [i for label, i in names.items() if label.startswith("entail")]
        if not entail:
            raise ExtractorError(f"{self.weights.spec} is not an NLI model: its labels are {sorted(names)}, none is 'entailment'")
        self.entailment = entail[0]

    def prepare(self, item: Item) -> str:  # noqa: D102
        return item.text

    def run(self, batch: list[str]) -> list[dict[str, Any]]:  # noqa: D102
        import torch

        labels = self.options["labels"]
        premises = [text for text in batch for _ in labels]
        hypotheses = [self.options["template"].format(label) for _ in batch for label in labels]
        tokens = self.tokenizer(premises, hypotheses, padding=True, truncation="only_first", max_length=self.options["max_length"], return_tensors="pt").to(self.device)
        with torch.inference_mode():
            logits = self.model(**tokens).logits.float()[:, self.entailment].reshape(len(batch), len(labels))
        scores = logits.softmax(-1).cpu().numpy()
        best = scores.argmax(1)
        return [
            {"category": labels[b], "category_confidence": float(row[b]), "category_scores": row.astype(np.float32)}
            for row, b in zip(scores, best, strict=True)
        ]

    @classmethod
    def features(cls, outputs: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:  # noqa: D102
        from modeling.cache import vectors

        names = [f"category_p_{label}" for label in options["labels"]]
        return pd.DataFrame(vectors(outputs["category_scores"]), columns=names, index=outputs.index)
