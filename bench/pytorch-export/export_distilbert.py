"""A full-size DistilBERT for question answering (distilbert-base shapes: dim 768, 6 layers, 12
heads, hidden_dim 3072, 512 positions; vocabulary of the WordPiece tokenizer it ships with), seeded
random weights, exported by PyTorch's `torch.onnx.export` (opset 14, as Optimum's DistilBERT
export), then quantized to int8 by test/fixtures/families/make/quantize.py (onnxruntime's
`quantize_dynamic` defaults). Its graph is what a PyTorch export of the real model looks like, which
the project's own generated model is not; its answers mean nothing.

Usage (Debian's python3-torch and python3-onnx):
  /usr/bin/python3 export_distilbert.py OUT_DIR VOCAB_SIZE
writes OUT_DIR/onnx/model.onnx and OUT_DIR/config.json (the caller adds the tokenizer files and
runs quantize.py).
"""
import json
import math
import os
import sys

import torch
from torch import nn

DIM, LAYERS, HEADS, HIDDEN_DIM, MAX_POS, SEED = 768, 6, 12, 3072, 512, 24


class Block(nn.Module):
    def __init__(self):
        super().__init__()
        self.q_lin, self.k_lin, self.v_lin, self.out_lin = (nn.Linear(DIM, DIM) for _ in range(4))
        self.sa_layer_norm = nn.LayerNorm(DIM, eps=1e-12)
        self.lin1, self.lin2 = nn.Linear(DIM, HIDDEN_DIM), nn.Linear(HIDDEN_DIM, DIM)
        self.output_layer_norm = nn.LayerNorm(DIM, eps=1e-12)

    def forward(self, x, mask):
        b, s, _ = x.shape
        d = DIM // HEADS
        split = lambda t: t.view(b, s, HEADS, d).transpose(1, 2)
        q = split(self.q_lin(x)) / math.sqrt(d)
        k, v = split(self.k_lin(x)), split(self.v_lin(x))
        scores = (q @ k.transpose(-1, -2)).masked_fill(mask, torch.finfo(torch.float32).min)
        ctx = (torch.softmax(scores, dim=-1) @ v).transpose(1, 2).reshape(b, s, DIM)
        x = self.sa_layer_norm(x + self.out_lin(ctx))
        return self.output_layer_norm(x + self.lin2(nn.functional.gelu(self.lin1(x))))


class DistilBertQA(nn.Module):
    def __init__(self, vocab):
        super().__init__()
        self.word_embeddings = nn.Embedding(vocab, DIM)
        self.position_embeddings = nn.Embedding(MAX_POS, DIM)
        self.embeddings_norm = nn.LayerNorm(DIM, eps=1e-12)
        self.layers = nn.ModuleList(Block() for _ in range(LAYERS))
        self.qa_outputs = nn.Linear(DIM, 2)

    def forward(self, input_ids, attention_mask):
        positions = torch.arange(input_ids.shape[1]).unsqueeze(0)
        x = self.embeddings_norm(self.word_embeddings(input_ids) + self.position_embeddings(positions))
        mask = (attention_mask == 0)[:, None, None, :]
        for layer in self.layers:
            x = layer(x, mask)
        start, end = self.qa_outputs(x).split(1, dim=-1)
        return start.squeeze(-1), end.squeeze(-1)


def init(model):
    # transformers' DistilBERT initialization (normal, std 0.02; LayerNorm 1 and 0), except the QA
    # head, wider so that random answers have clear winners instead of float-noise ties.
    g = torch.Generator().manual_seed(SEED)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "norm" in name:
                p.fill_(1.0 if name.endswith("weight") else 0.0)
            elif name.endswith("bias"):
                p.zero_()
            else:
                p.copy_(torch.randn(p.shape, generator=g) * (1.0 if "qa_outputs" in name else 0.02))


def main(out, vocab):
    model = DistilBertQA(vocab).eval()
    init(model)
    ids = torch.tensor([[101, 2054, 2003, 102, 2023, 2003, 1037, 3231, 102]])
    mask = torch.ones_like(ids)
    names = ["input_ids", "attention_mask"]
    axes = {n: {0: "batch_size", 1: "sequence_length"} for n in names + ["start_logits", "end_logits"]}
    os.makedirs(os.path.join(out, "onnx"), exist_ok=True)
    with torch.no_grad():
        torch.onnx.export(model, (ids, mask), os.path.join(out, "onnx", "model.onnx"), input_names=names,
                          output_names=["start_logits", "end_logits"], dynamic_axes=axes, opset_version=14,
                          do_constant_folding=True)
    config = {
        "_name_or_path": "bench/pytorch-distilbert-full",
        "architectures": ["DistilBertForQuestionAnswering"], "model_type": "distilbert", "activation": "gelu",
        "dim": DIM, "n_layers": LAYERS, "n_heads": HEADS, "hidden_dim": HIDDEN_DIM,
        "max_position_embeddings": MAX_POS, "vocab_size": vocab, "pad_token_id": 0,
        "sinusoidal_pos_embds": False,
        "_bench": "random weights (seed %d), exported by torch %s; see bench/pytorch-export/" % (SEED, torch.__version__),
    }
    with open(os.path.join(out, "config.json"), "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]))
