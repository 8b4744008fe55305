#!/usr/bin/python3
"""Writes two tiny cross-encoders with random weights, laid out as Optimum's
ONNX export of a sequence-classification model lays them out, for the
tests of searcher/rerank's onnx re-ranker. Needs Debian's python3-onnx and
python3-numpy. Run from the repository root, in three steps:

    /usr/bin/python3 searcher/rerank/testdata/gen_cross_encoder.py
    (cd searcher/rerank/testdata && NODE_PATH=/tmp/tok/node_modules node gen_pair_reference.mjs)
    /usr/bin/python3 searcher/rerank/testdata/gen_cross_encoder.py

The first writes the model directories; the node script (see it for the
npm package) writes pair_reference.json, Hugging Face tokenizers' pair
encodings; the second run, finding that file, also writes
expected_scores.json: each pair's score from a float64 numpy forward pass
of the same weights, independent of ONNX Runtime and of Cari.

  tiny-bert-ce/   BERT-style: [CLS] q [SEP] p [SEP], token_type_ids input,
                  logits [n, 1] (score = logit), as ms-marco-MiniLM and
                  bge-reranker-base-like BERT exports.
  tiny-xlmr-ce/   XLM-R-style: <s> q </s></s> p </s> (RobertaProcessing),
                  no token_type_ids input, network under onnx/model.onnx,
                  logits [n, 2] (score = softmax p(label 1)).

The weights are random, so the scores mean nothing: the tests check that
Cari encodes pairs, batches and scores exactly as the references do.

With --sized DIR it writes instead one random-weight model of a real
cross-encoder's shape (default: ms-marco-MiniLM-L-6-v2's, 6 layers of 384;
bge-reranker-base is --layers 12 --hidden 768 --inter 3072), not
committed, for BenchmarkONNXRerank50Sized: the time a network takes does
not depend on its weights.
"""
import argparse
import json
import math
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HIDDEN, HEADS, INTER, MAX_POS, LAYERS = 32, 2, 64, 64, 1
HEAD = HIDDEN // HEADS
HERE = os.path.dirname(os.path.abspath(__file__))

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "<s>", "</s>", "<pad>"] + list("abcdefghijklmnopqrstuvwxyz") + [
    "the", "cat", "sat", "on", "mat", "dog", "search", "engine", "vector", "model", "un",
    "##able", "##s", "##ing", "##ed", "##ly", "play", "run", "protein", "cell", "gene", ",", ".", "!",
    "?", "'", "-", "0", "1", "2", "3", "##0", "##1", "##2", "##3", "what", "is", "does", "how"]


class Builder:
    def __init__(self, seed):
        self.rng = np.random.default_rng(seed)
        self.inits, self.nodes, self.w = [], [], {}

    def weight(self, name, *shape, scale=0.2, offset=0.0):
        a = (self.rng.standard_normal(shape) * scale + offset).astype(np.float32)
        self.inits.append(numpy_helper.from_array(a, name))
        self.w[name] = a.astype(np.float64)
        return name

    def const(self, name, value, dtype=np.float32):
        self.inits.append(numpy_helper.from_array(np.array(value, dtype=dtype), name))
        return name

    def node(self, op, inputs, name, **attrs):
        self.nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
        return name

    def layer_norm(self, x, p):
        g = self.weight(p + ".weight", HIDDEN, scale=0.1, offset=1.0)
        b = self.weight(p + ".bias", HIDDEN, scale=0.1)
        return self.node("LayerNormalization", [x, g, b], p + ".out", axis=-1, epsilon=1e-12)

    def linear(self, x, p, n_in, n_out):
        w = self.weight(p + ".weight", n_in, n_out)
        b = self.weight(p + ".bias", n_out, scale=0.05)
        return self.node("Add", [self.node("MatMul", [x, w], p + ".matmul"), b], p + ".out")

    def heads(self, x, p, perm):
        r = self.node("Reshape", [x, self.const(p + ".shape", [0, 0, HEADS, HEAD], np.int64)], p + ".split")
        return self.node("Transpose", [r], p + ".heads", perm=perm)


def encoder_layer(b, x, m, p):
    """Self-attention and a GELU feed-forward block, each with a residual
    LayerNorm; p prefixes the names of layers after the first."""
    q = b.heads(b.linear(x, p + "q", HIDDEN, HIDDEN), p + "q", [0, 2, 1, 3])
    k = b.heads(b.linear(x, p + "k", HIDDEN, HIDDEN), p + "k", [0, 2, 3, 1])
    v = b.heads(b.linear(x, p + "v", HIDDEN, HIDDEN), p + "v", [0, 2, 1, 3])
    s = b.node("Div", [b.node("MatMul", [q, k], p + "scores"), b.const(p + "scale", math.sqrt(HEAD))], p + "scaled")
    probs = b.node("Softmax", [b.node("Add", [s, m], p + "masked")], p + "probs", axis=-1)
    c = b.node("Transpose", [b.node("MatMul", [probs, v], p + "context")], p + "context_t", perm=[0, 2, 1, 3])
    c = b.node("Reshape", [c, b.const(p + "merge", [0, 0, HIDDEN], np.int64)], p + "merged")
    x = b.layer_norm(b.node("Add", [b.linear(c, p + "attn_out", HIDDEN, HIDDEN), x], p + "res1"), p + "ln1")
    h = b.linear(x, p + "inter", HIDDEN, INTER)
    erf = b.node("Erf", [b.node("Div", [h, b.const(p + "sqrt2", math.sqrt(2.0))], p + "gelu_div")], p + "gelu_erf")
    h = b.node("Mul", [b.node("Mul", [h, b.node("Add", [erf, b.const(p + "one_f", 1.0)], p + "gelu_1")], p + "gelu_m"),
                       b.const(p + "half", 0.5)], p + "gelu")
    return b.layer_norm(b.node("Add", [b.linear(h, p + "ffn_out", INTER, HIDDEN), x], p + "res2"), p + "ln2")


def build(b, with_types, labels):
    """One encoder layer, the first token's state through a tanh dense
    layer, then a linear classifier: logits [batch, labels]."""
    word = b.weight("word", len(VOCAB), HIDDEN, scale=1.0)
    pos = b.weight("pos", MAX_POS, HIDDEN, scale=0.5)
    b.const("position_ids", np.arange(MAX_POS)[None, :], np.int64)
    shape = b.node("Shape", ["input_ids"], "input_shape")
    seq = b.node("Gather", [shape, b.const("one", 1, np.int64)], "seq_len", axis=0)
    seq1 = b.node("Unsqueeze", [seq, b.const("axes0", [0], np.int64)], "seq_len_1d")
    ids = b.node("Slice", ["position_ids", b.const("zero_1d", [0], np.int64), seq1,
                           b.const("axes1", [1], np.int64)], "positions")
    e = b.node("Add", [b.node("Gather", [word, "input_ids"], "word_emb"),
                       b.node("Gather", [pos, ids], "pos_emb")], "emb")
    if with_types:
        typ = b.weight("type", 2, HIDDEN, scale=0.5)
        e = b.node("Add", [e, b.node("Gather", [typ, "token_type_ids"], "type_emb")], "emb_types")
    x = b.layer_norm(e, "emb_ln")

    m = b.node("Unsqueeze", ["attention_mask", b.const("axes12", [1, 2], np.int64)], "mask_4d")
    m = b.node("Cast", [m], "mask_float", to=TensorProto.FLOAT)
    m = b.node("Mul", [b.node("Sub", [b.const("mask_one", 1.0), m], "mask_inv"),
                       b.const("mask_min", -10000.0)], "mask_ext")
    for i in range(LAYERS):
        x = encoder_layer(b, x, m, "" if i == 0 else "l%d." % i)
    first = b.node("Gather", [x, b.const("zero", 0, np.int64)], "first_token", axis=1)
    pooled = b.node("Tanh", [b.linear(first, "pooler", HIDDEN, HIDDEN)], "pooled")
    b.nodes.append(helper.make_node("Identity", [b.linear(pooled, "classifier", HIDDEN, labels)],
                                    ["logits"], name="logits"))

    dyn = ["batch_size", "sequence_length"]
    names = ["input_ids", "attention_mask"] + (["token_type_ids"] if with_types else [])
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, dyn) for n in names]
    out = helper.make_tensor_value_info("logits", TensorProto.FLOAT, ["batch_size", labels])
    graph = helper.make_graph(b.nodes, "tiny-cross-encoder", inputs, [out], b.inits)
    model = helper.make_model(graph, producer_name="cari gen_cross_encoder.py",
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    onnx.checker.check_model(model)
    return model


def forward(w, ids, types):
    """The network of build, in float64 numpy, for one unpadded pair."""
    ids = np.array(ids)
    x = w["word"][ids] + w["pos"][np.arange(len(ids))]
    if "type" in w:
        x = x + w["type"][np.array(types)]

    def ln(x, p):
        mu = x.mean(-1, keepdims=True)
        var = ((x - mu) ** 2).mean(-1, keepdims=True)
        return (x - mu) / np.sqrt(var + 1e-12) * w[p + ".weight"] + w[p + ".bias"]

    def lin(x, p):
        return x @ w[p + ".weight"] + w[p + ".bias"]

    x = ln(x, "emb_ln")
    split = lambda t: t.reshape(len(ids), HEADS, HEAD).transpose(1, 0, 2)
    q, k, v = split(lin(x, "q")), split(lin(x, "k")), split(lin(x, "v"))
    s = q @ k.transpose(0, 2, 1) / math.sqrt(HEAD)
    p = np.exp(s - s.max(-1, keepdims=True))
    p /= p.sum(-1, keepdims=True)
    c = (p @ v).transpose(1, 0, 2).reshape(len(ids), HIDDEN)
    x = ln(lin(c, "attn_out") + x, "ln1")
    h = lin(x, "inter")
    h = h * 0.5 * (1 + np.vectorize(math.erf)(h / math.sqrt(2)))
    x = ln(lin(h, "ffn_out") + x, "ln2")
    return lin(np.tanh(lin(x[0], "pooler")), "classifier")


def special(i, t):
    return {"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
            "normalized": False, "special": True}


def tokenizer_json(kind):
    specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] if kind == "bert" else ["<s>", "</s>", "<pad>", "[UNK]"]
    if kind == "bert":
        post = {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {t: {"id": t, "ids": [VOCAB.index(t)], "tokens": [t]} for t in ("[CLS]", "[SEP]")},
        }
    else:
        post = {"type": "RobertaProcessing", "sep": ["</s>", VOCAB.index("</s>")],
                "cls": ["<s>", VOCAB.index("<s>")], "trim_offsets": True, "add_prefix_space": True}
    return {
        "version": "1.0", "truncation": None, "padding": None,
        "added_tokens": [special(VOCAB.index(t), t) for t in specials],
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": post,
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": {t: i for i, t in enumerate(VOCAB)}},
    }


MODELS = {
    # name: (seed, model type, token_type_ids?, labels, network path)
    "tiny-bert-ce": (20260201, "bert", True, 1, "model.onnx"),
    "tiny-xlmr-ce": (20260202, "xlm-roberta", False, 2, os.path.join("onnx", "model.onnx")),
}


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=2, ensure_ascii=False)
        f.write("\n")


def write_sized(out):
    """A BERT-style random-weight model of the size given on the command
    line, for timing only: its tokenizer is the tiny one."""
    b = Builder(1)
    os.makedirs(out, exist_ok=True)
    onnx.save(build(b, True, 1), os.path.join(out, "model.onnx"))
    write_json(os.path.join(out, "tokenizer.json"), tokenizer_json("bert"))
    write_json(os.path.join(out, "config.json"), {
        "model_type": "bert", "hidden_size": HIDDEN, "num_attention_heads": HEADS, "num_hidden_layers": LAYERS,
        "intermediate_size": INTER, "max_position_embeddings": MAX_POS, "id2label": {"0": "LABEL_0"}})


def main():
    global HIDDEN, HEADS, INTER, MAX_POS, LAYERS, HEAD
    ap = argparse.ArgumentParser()
    ap.add_argument("--sized", metavar="DIR", help="write only a model of the size below to DIR, for timing")
    ap.add_argument("--layers", type=int, default=6)
    ap.add_argument("--hidden", type=int, default=384)
    ap.add_argument("--heads", type=int, default=12)
    ap.add_argument("--inter", type=int, default=1536)
    ap.add_argument("--positions", type=int, default=512)
    args = ap.parse_args()
    if args.sized:
        HIDDEN, HEADS, INTER, MAX_POS, LAYERS = args.hidden, args.heads, args.inter, args.positions, args.layers
        HEAD = HIDDEN // HEADS
        write_sized(args.sized)
        return
    weights = {}
    for name, (seed, mtype, with_types, labels, path) in MODELS.items():
        b = Builder(seed)
        model = build(b, with_types, labels)
        weights[name] = b.w
        out = os.path.join(HERE, name)
        os.makedirs(os.path.dirname(os.path.join(out, path)), exist_ok=True)
        onnx.save(model, os.path.join(out, path))
        write_json(os.path.join(out, "tokenizer.json"), tokenizer_json("bert" if mtype == "bert" else "xlmr"))
        config = {"architectures": ["BertForSequenceClassification" if mtype == "bert" else
                                    "XLMRobertaForSequenceClassification"],
                  "model_type": mtype, "hidden_size": HIDDEN, "num_attention_heads": HEADS,
                  "num_hidden_layers": 1, "intermediate_size": INTER,
                  "max_position_embeddings": MAX_POS + (2 if mtype == "xlm-roberta" else 0),
                  "vocab_size": len(VOCAB)}
        if labels == 1:
            config["id2label"] = {"0": "LABEL_0"}
        else:
            config["id2label"] = {"0": "LABEL_0", "1": "LABEL_1"}
        config["label2id"] = {v: int(k) for k, v in config["id2label"].items()}
        write_json(os.path.join(out, "config.json"), config)

    ref = os.path.join(HERE, "pair_reference.json")
    if not os.path.exists(ref):
        return
    with open(ref) as f:
        pairs = json.load(f)
    expected = {}
    for name, cases in pairs.items():
        labels = MODELS[name][3]
        scores = []
        for c in cases:
            logits = forward(weights[name], c["ids"], c["type_ids"])
            if labels == 1:
                scores.append(float(logits[0]))
            else:
                e = np.exp(logits - logits.max())
                scores.append(float(e[1] / e.sum()))
        expected[name] = scores
    write_json(os.path.join(HERE, "expected_scores.json"), expected)


if __name__ == "__main__":
    main()
