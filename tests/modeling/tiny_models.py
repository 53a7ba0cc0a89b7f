"""Tiny, randomly initialised models for every extractor, saved locally the way real ones are distributed.

torchvision models keep their real architecture (only their inputs are small);
transformers models get configs with hidden sizes around 32 and tokenizers built
here from a few characters, then go through ``save_pretrained`` so that the
extractors load them with exactly the code that loads real checkpoints.
"""

from __future__ import annotations

import json
from pathlib import Path

CHARS = list("abcdefghijklmnopqrstuvwxyz0123456789 #.,!?'")


class TinyModels:
    """Builds each tiny model on first use and keeps it: ``models["r2plus1d"]`` is a path for ``--model``."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.built: dict[str, Path] = {}

    def __getitem__(self, name: str) -> Path:
        if name not in self.built:
            import torch

            torch.manual_seed(0)
            builder, target = BUILDERS[name]
            self.built[name] = builder(self.root / target)
        return self.built[name]


def r2plus1d(path: Path) -> Path:
    """The real R(2+1)D-18 with random weights, as a safetensors state dict."""
    from safetensors.torch import save_file
    from torchvision.models.video import r2plus1d_18

    save_file({k: v.contiguous() for k, v in r2plus1d_18(weights=None).state_dict().items()}, str(path))
    return path


def resnet50(path: Path) -> Path:
    """The real ResNet-50 with random weights, as a torch.save state dict (with its classifier, as downloaded)."""
    import torch
    from torchvision.models import resnet50 as build

    torch.save(build(weights=None).state_dict(), path)
    return path


def videomae(folder: Path) -> Path:
    """VideoMAE with 4 frames of 32×32, hidden size 32."""
    from transformers import VideoMAEConfig, VideoMAEImageProcessor, VideoMAEModel

    config = VideoMAEConfig(image_size=32, patch_size=16, num_frames=4, tubelet_size=2, hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64)
    VideoMAEModel(config).save_pretrained(folder)
    VideoMAEImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32}).save_pretrained(folder)
    return folder


def _whisper_tokenizer():
    from transformers import WhisperTokenizer
    from transformers.convert_slow_tokenizer import bytes_to_unicode

    vocab = {c: i for i, c in enumerate(bytes_to_unicode().values())}
    specials = ["<|endoftext|>", "<|startoftranscript|>", "<|en|>", "<|es|>", "<|translate|>", "<|transcribe|>", "<|startoflm|>", "<|startofprev|>", "<|nospeech|>", "<|notimestamps|>"]
    for token in specials:
        vocab[token] = len(vocab)
    tokenizer = WhisperTokenizer(vocab=vocab, merges=[], extra_special_tokens=specials[1:])
    return tokenizer, {t: vocab[t] for t in specials}


def whisper(folder: Path) -> Path:
    """A multilingual-shaped Whisper (d_model 32, English and Spanish) with a byte-level tokenizer and its generation config."""
    from transformers import GenerationConfig, WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration, WhisperProcessor

    tokenizer, ids = _whisper_tokenizer()
    end, start = ids["<|endoftext|>"], ids["<|startoftranscript|>"]
    config = WhisperConfig(
        vocab_size=len(tokenizer), d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=64, decoder_ffn_dim=64, num_mel_bins=80, max_source_positions=1500, max_target_positions=64,
        decoder_start_token_id=start, eos_token_id=end, pad_token_id=end, bos_token_id=end,
    )  # fmt: skip
    model = WhisperForConditionalGeneration(config)
    model.generation_config = GenerationConfig(
        decoder_start_token_id=start, eos_token_id=end, pad_token_id=end, no_timestamps_token_id=ids["<|notimestamps|>"],
        lang_to_id={"<|en|>": ids["<|en|>"], "<|es|>": ids["<|es|>"]}, task_to_id={"transcribe": ids["<|transcribe|>"], "translate": ids["<|translate|>"]},
        is_multilingual=True, max_length=48, begin_suppress_tokens=[], suppress_tokens=[],
    )  # fmt: skip
    model.save_pretrained(folder)
    WhisperProcessor(feature_extractor=WhisperFeatureExtractor(feature_size=80), tokenizer=tokenizer).save_pretrained(folder)
    return folder


def ast(folder: Path) -> Path:
    """An Audio Spectrogram Transformer with a few AudioSet-style classes, two of them naming Music."""
    from transformers import ASTConfig, ASTFeatureExtractor, ASTForAudioClassification

    labels = ["Speech", "Music", "Musical instrument", "Dog", "Silence"]
    config = ASTConfig(
        hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, max_length=128, num_mel_bins=64,
        id2label=dict(enumerate(labels)), label2id={name: i for i, name in enumerate(labels)}, problem_type="multi_label_classification",
    )  # fmt: skip
    ASTForAudioClassification(config).save_pretrained(folder)
    ASTFeatureExtractor(max_length=128, num_mel_bins=64).save_pretrained(folder)
    return folder


def _bert_tokenizer():
    from transformers import BertTokenizerFast

    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *[c for c in CHARS if c != " "], "dance", "music", "video", "about", "this"]
    return BertTokenizerFast(vocab={t: i for i, t in enumerate(vocab)})


def bert(folder: Path) -> Path:
    """A BERT encoder with hidden size 32 and a tokenizer built from a vocabulary list."""
    from transformers import BertConfig, BertModel

    tokenizer = _bert_tokenizer()
    BertModel(BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, max_position_embeddings=512)).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def nli(folder: Path) -> Path:
    """A BERT sequence classifier whose labels are those of an NLI model."""
    from transformers import BertConfig, BertForSequenceClassification

    tokenizer = _bert_tokenizer()
    labels = {0: "contradiction", 1: "neutral", 2: "entailment"}
    config = BertConfig(vocab_size=len(tokenizer), hidden_size=32, num_hidden_layers=1, num_attention_heads=2, intermediate_size=64, id2label=labels, label2id={v: k for k, v in labels.items()})
    BertForSequenceClassification(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    return folder


def llava(folder: Path) -> Path:
    """LLaVA-NeXT-Video with a 28×28 CLIP tower, a one-layer Llama and a character tokenizer with a chat template."""
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import (
        CLIPVisionConfig, LlamaConfig, LlavaNextImageProcessor, LlavaNextVideoConfig, LlavaNextVideoForConditionalGeneration,
        LlavaNextVideoProcessor, LlavaNextVideoVideoProcessor, PreTrainedTokenizerFast,
    )  # fmt: skip

    vocab = {t: i for i, t in enumerate(["<unk>", "<s>", "</s>", "<pad>", "<image>", "<video>", *CHARS, ":", "\n"])}
    backend = Tokenizer(models.WordLevel(vocab=vocab, unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.Split("", "isolated")
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", bos_token="<s>", eos_token="</s>", pad_token="<pad>", extra_special_tokens={"image_token": "<image>", "video_token": "<video>"})
    template = "{% for m in messages %}{{ m['role'] }}: {% for c in m['content'] %}{% if c['type'] == 'video' %}<video>{% else %}{{ c['text'] }}{% endif %}{% endfor %}\n{% endfor %}{% if add_generation_prompt %}assistant: {% endif %}"
    square = {"height": 28, "width": 28}
    processor = LlavaNextVideoProcessor(
        video_processor=LlavaNextVideoVideoProcessor(size={"shortest_edge": 28}, crop_size=square),
        image_processor=LlavaNextImageProcessor(size={"shortest_edge": 28}, crop_size=square, image_grid_pinpoints=[[28, 28]]),
        tokenizer=tokenizer, chat_template=template, patch_size=14, vision_feature_select_strategy="default",
    )  # fmt: skip
    vision = CLIPVisionConfig(hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, image_size=28, patch_size=14, projection_dim=32)
    text = LlamaConfig(vocab_size=len(vocab), hidden_size=32, intermediate_size=64, num_hidden_layers=1, num_attention_heads=2, num_key_value_heads=2, max_position_embeddings=512, pad_token_id=3, bos_token_id=1, eos_token_id=2)
    config = LlavaNextVideoConfig(vision_config=vision, text_config=text, image_token_index=vocab["<image>"], video_token_index=vocab["<video>"], image_grid_pinpoints=[[28, 28]], spatial_pool_stride=2, vision_feature_layer=-1)
    model = LlavaNextVideoForConditionalGeneration(config)
    model.generation_config.pad_token_id = 3
    model.save_pretrained(folder)
    processor.save_pretrained(folder)
    return folder


def nllb(folder: Path) -> Path:
    """An NLLB-shaped M2M100 (d_model 32) with NLLB's tokenizer class over a few characters and its language codes."""
    from transformers import M2M100Config, M2M100ForConditionalGeneration, NllbTokenizer

    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    for char in "▁" + "".join(c for c in CHARS if c != " "):
        vocab.setdefault(char, len(vocab))
    tokenizer = NllbTokenizer(vocab=vocab, merges=[], src_lang="eng_Latn")
    config = M2M100Config(
        vocab_size=len(tokenizer), d_model=32, encoder_layers=1, decoder_layers=1, encoder_attention_heads=2, decoder_attention_heads=2,
        encoder_ffn_dim=64, decoder_ffn_dim=64, max_position_embeddings=256, pad_token_id=1, bos_token_id=0, eos_token_id=2, decoder_start_token_id=2,
    )  # fmt: skip
    M2M100ForConditionalGeneration(config).save_pretrained(folder)
    tokenizer.save_pretrained(folder)
    (folder / "README.md").write_text(json.dumps({"note": "tiny random NLLB for tests"}))
    return folder


#: extractor (or "nllb") → (builder, file or folder name)
BUILDERS = {
    "r2plus1d": (r2plus1d, "r2plus1d.safetensors"),
    "resnet50": (resnet50, "resnet50.pth"),
    "videomae": (videomae, "videomae"),
    "whisper": (whisper, "whisper"),
    "music": (ast, "ast"),
    "text": (bert, "bert"),
    "category": (nli, "nli"),
    "description": (llava, "llava"),
    "nllb": (nllb, "nllb"),
}
