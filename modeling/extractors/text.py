"""Text embeddings of caption + hashtags + transcript (+ description), from a transformers encoder, mean-pooled."""

from __future__ import annotations

from typing import Any

import pandas as pd

from modeling.extractors.base import Extractor, Item, load_pretrained, vector_features


class TextExtractor(Extractor):
    """A sentence encoder (BERT-like, e.g. all-MiniLM-L6-v2): masked mean of the last hidden states, L2-normalised."""

    name = "text"
    input = "text"
    default_model = "sentence-transformers/all-MiniLM-L6-v2"
    default_batch_size = 32
    summary = "caption + hashtags + transcript embedded by a text encoder (hidden size, 384-d for MiniLM)"

    @classmethod
    def default_options(cls) -> dict[str, Any]:  # noqa: D102
        return {"max_length": 256}

    def load(self) -> None:  # noqa: D102
        from transformers import AutoModel, AutoTokenizer

        self.tokenizer = load_pretrained(AutoTokenizer, self.weights, "tokenizer")
        self.model = load_pretrained(AutoModel, self.weights, "text encoder").eval().to(self.device)

    def prepare(self, item: Item) -> str:  # noqa: D102
        return item.text

    def run(self, batch: list[str]) -> list[dict[str, Any]]:  # noqa: D102
        import torch

        tokens = self.tokenizer(batch, padding=True, truncation=True, max_length=self.options["max_length"], return_tensors="pt").to(self.device)
        with torch.inference_mode():
            hidden = self.model(**tokens).last_hidden_state.float()
        mask = tokens["attention_mask"].unsqueeze(-1).float()
        pooled = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1.0)
        pooled = torch.nn.functional.normalize(pooled, dim=-1)
        return [{"embedding": row} for row in pooled.cpu().numpy()]

    @classmethod
    def features(cls, outputs: pd.DataFrame, options: dict[str, Any]) -> pd.DataFrame:  # noqa: D102
        return vector_features(cls.name, outputs["embedding"])
