"""Video descriptions with LLaVA-NeXT-Video (seed 000; a GPU model), optionally translated with NLLB-200."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

import numpy as np

from modeling import media
from modeling.extractors.base import Extractor, ExtractorError, Item, load_pretrained
from modeling.weights import WeightsSource

DEFAULT_TRANSLATOR = "facebook/nllb-200-distilled-1.3B"


class DescriptionExtractor(Extractor):
    """A short English description of the frames; with ``translate_to`` (an NLLB code such as spa_Latn) also translated."""

    name = "description"
    numeric = False
    default_model = "llava-hf/LLaVA-NeXT-Video-7B-hf"
    default_batch_size = 1
    summary = "LLaVA-NeXT-Video description (GPU advised), NLLB translation with --translate-to"

    def __init__(
        self,
        weights: WeightsSource,
        device: str = "cpu",
        options: Mapping[str, Any] | None = None,
        batch_size: int | None = None,
        translator: WeightsSource | None = None,
    ) -> None:
        self.translator = translator
        super().__init__(weights, device, options, batch_size)
        if self.options["translate_to"] and translator is None:
            raise ExtractorError("--translate-to needs a translation model (--translator PATH_OR_ID, NLLB-200)")

    @classmethod
    def default_options(cls) -> dict[str, Any]:  # noqa: D102
        return {"frames": 8, "prompt": "Describe what happens in this video in one or two sentences.", "max_new_tokens": 80, "translate_to": None}

    def load(self) -> None:  # noqa: D102
        import torch
        from transformers import AutoModelForImageTextToText, AutoProcessor

        dtype = torch.float16 if self.device.startswith("cuda") else torch.float32
        self.processor = load_pretrained(AutoProcessor, self.weights, "LLaVA-NeXT-Video processor")
        self.processor.tokenizer.padding_side = "left"  # batched generation continues each prompt on the right
        self.model = load_pretrained(AutoModelForImageTextToText, self.weights, "LLaVA-NeXT-Video model", dtype=dtype).eval().to(self.device)
        if self.options["translate_to"] and self.translator is not None:
            self._load_translator()

    def _load_translator(self) -> None:
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        self.nllb_tokenizer = load_pretrained(AutoTokenizer, self.translator, "NLLB tokenizer", src_lang="eng_Latn")
        self.nllb = load_pretrained(AutoModelForSeq2SeqLM, self.translator, "NLLB model").eval().to(self.device)
        target = self.nllb_tokenizer.convert_tokens_to_ids(self.options["translate_to"])
        if target is None or target == self.nllb_tokenizer.unk_token_id:
            raise ExtractorError(f"--translate-to {self.options['translate_to']}: not a language code of {self.translator.spec} (e.g. spa_Latn, fra_Latn)")
        self.target_id = target

    def cache_key(self) -> str:  # noqa: D102
        # the translator is part of what made the outputs
        base = super().cache_key()
        if not self.options["translate_to"] or self.translator is None:
            return base
        return hashlib.sha256(f"{base}|{self.translator.fingerprint}".encode()).hexdigest()[:16]

    def describe(self) -> dict[str, Any]:  # noqa: D102
        info = super().describe()
        if self.translator is not None:
            info["translator"] = {"model": self.translator.spec, "weights_fingerprint": self.translator.fingerprint}
        return info

    def prepare(self, item: Item) -> np.ndarray:  # noqa: D102
        size = getattr(self.processor.video_processor, "size", None) or {}
        short = int(size.get("shortest_edge") or size.get("height") or 336)
        return media.read_frames(item.media_path, None, count=self.options["frames"], short_side=short)

    def run(self, batch: list[np.ndarray]) -> list[dict[str, Any]]:  # noqa: D102
        descriptions = self._describe(batch)
        translated = self._translate(descriptions) if self.options["translate_to"] else [None] * len(batch)
        lang = self.options["translate_to"]
        return [{"description": d, "description_translated": t, "translation_lang": lang} for d, t in zip(descriptions, translated, strict=True)]

    def _describe(self, batch: list[np.ndarray]) -> list[str]:
        import torch

        conversation = [{"role": "user", "content": [{"type": "text", "text": self.options["prompt"]}, {"type": "video"}]}]
        prompt = self.processor.apply_chat_template(conversation, add_generation_prompt=True)
        inputs = self.processor(text=[prompt] * len(batch), videos=list(batch), padding=True, return_tensors="pt").to(self.device, dtype=self.model.dtype)
        with torch.inference_mode():
            out = self.model.generate(**inputs, max_new_tokens=self.options["max_new_tokens"], do_sample=False)
        return [t.strip() for t in self.processor.batch_decode(out[:, inputs["input_ids"].shape[1] :], skip_special_tokens=True)]

    def _translate(self, texts: list[str]) -> list[str]:
        import torch

        tokens = self.nllb_tokenizer(texts, padding=True, truncation=True, max_length=512, return_tensors="pt").to(self.device)
        with torch.inference_mode():
            out = self.nllb.generate(**tokens, forced_bos_token_id=self.target_id, max_new_tokens=2 * self.options["max_new_tokens"])
        return [t.strip() for t in self.nllb_tokenizer.batch_decode(out, skip_special_tokens=True)]
