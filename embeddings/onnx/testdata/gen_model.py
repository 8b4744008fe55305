#!/usr/bin/python3
"""Writes tiny-bert/: a BERT-shaped sentence-embedding model with random
weights, laid out like a sentence-transformers ONNX export, for
embeddings/onnx's tests. Needs Debian's python3-onnx and python3-numpy:

    /usr/bin/python3 embeddings/onnx/testdata/gen_model.py

The graph uses the operators an ONNX export of BERT (all-MiniLM-L6-v2,
bge-small, multilingual-e5-small) is made of: Gather for the three
embeddings, Shape/Gather/Unsqueeze/Slice for the position ids, Add,
LayerNormalization in one layer and its decomposition
(ReduceMean/Sub/Pow/Sqrt/Div/Mul/Add) in the other, MatMul,
Reshape/Transpose for the heads, Softmax over scaled scores plus the
extended attention mask (Unsqueeze/Cast/Sub/Mul), and GELU through Erf.
Weights are random (seeded), so the outputs mean nothing: the tests
check that Cari runs such a graph and pools it exactly as a reference
does, not that it embeds well. The Go tests read the weights back from
model.onnx's initializers.
"""
import json
import os

import numpy as np
import onnx
from onnx import TensorProto, helper, numpy_helper

HIDDEN, HEADS, INTER, LAYERS, MAX_POS, TYPES = 32, 2, 64, 2, 64, 2
HEAD = HIDDEN // HEADS
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "tiny-bert")

VOCAB = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"] + list("abcdefghijklmnopqrstuvwxyz") + [
    "the", "cat", "sat", "on", "mat", "dog", "search", "engine", "vector", "model", "un",
    "##able", "##s", "##ing", "##ed", "##ly", "play", "run", "caf", "##e", "##é", ",", ".", "!",
    "?", "'", "-", "0", "1", "2", "3", "##0", "##1", "##2", "##3", "中", "文", "naive", "resume"]

rng = np.random.default_rng(20260101)
inits = []


def weight(name, *shape, scale=0.2):
    a = (rng.standard_normal(shape) * scale).astype(np.float32)
    inits.append(numpy_helper.from_array(a, name))
    return name


def const(name, value, dtype=np.float32):
    inits.append(numpy_helper.from_array(np.array(value, dtype=dtype), name))
    return name


nodes = []


def node(op, inputs, name, **attrs):
    nodes.append(helper.make_node(op, inputs, [name], name=name, **attrs))
    return name


def layer_norm_fused(x, prefix):
    g = weight(prefix + ".weight", HIDDEN, scale=0.1)
    b = weight(prefix + ".bias", HIDDEN, scale=0.1)
    # LayerNorm's scale is near 1 in trained models; keep it so here.
    inits[-2] = numpy_helper.from_array(numpy_helper.to_array(inits[-2]) + 1, g)
    return node("LayerNormalization", [x, g, b], prefix + ".out", axis=-1, epsilon=1e-12)


def layer_norm_decomposed(x, prefix):
    g = weight(prefix + ".weight", HIDDEN, scale=0.1)
    inits[-1] = numpy_helper.from_array(numpy_helper.to_array(inits[-1]) + 1, g)
    b = weight(prefix + ".bias", HIDDEN, scale=0.1)
    mean = node("ReduceMean", [x], prefix + ".mean", axes=[-1], keepdims=1)
    d = node("Sub", [x, mean], prefix + ".centered")
    sq = node("Pow", [d, const(prefix + ".two", 2.0)], prefix + ".sq")
    var = node("ReduceMean", [sq], prefix + ".var", axes=[-1], keepdims=1)
    eps = node("Add", [var, const(prefix + ".eps", 1e-12)], prefix + ".var_eps")
    std = node("Sqrt", [eps], prefix + ".std")
    n = node("Div", [d, std], prefix + ".norm")
    s = node("Mul", [n, g], prefix + ".scaled")
    return node("Add", [s, b], prefix + ".out")


def linear(x, prefix, n_in, n_out):
    w = weight(prefix + ".weight", n_in, n_out)
    b = weight(prefix + ".bias", n_out, scale=0.05)
    return node("Add", [node("MatMul", [x, w], prefix + ".matmul"), b], prefix + ".out")


def heads(x, prefix, perm):
    shape = const(prefix + ".heads_shape", [0, 0, HEADS, HEAD], np.int64)
    r = node("Reshape", [x, shape], prefix + ".split")
    return node("Transpose", [r], prefix + ".heads", perm=perm)


def gelu(x, prefix):
    div = node("Div", [x, const(prefix + ".sqrt2", np.sqrt(2.0))], prefix + ".div")
    erf = node("Erf", [div], prefix + ".erf")
    one = node("Add", [erf, const(prefix + ".one", 1.0)], prefix + ".erf1")
    mul = node("Mul", [x, one], prefix + ".mul")
    return node("Mul", [mul, const(prefix + ".half", 0.5)], prefix + ".out")


def encoder_layer(x, mask, i):
    p = "encoder.layer.%d" % i
    q = heads(linear(x, p + ".attention.query", HIDDEN, HIDDEN), p + ".q", [0, 2, 1, 3])
    k = heads(linear(x, p + ".attention.key", HIDDEN, HIDDEN), p + ".k", [0, 2, 3, 1])
    v = heads(linear(x, p + ".attention.value", HIDDEN, HIDDEN), p + ".v", [0, 2, 1, 3])
    scores = node("MatMul", [q, k], p + ".scores")
    scaled = node("Div", [scores, const(p + ".scale", np.sqrt(HEAD))], p + ".scaled")
    masked = node("Add", [scaled, mask], p + ".masked")
    probs = node("Softmax", [masked], p + ".probs", axis=-1)
    ctx = node("MatMul", [probs, v], p + ".context")
    ctx = node("Transpose", [ctx], p + ".context_t", perm=[0, 2, 1, 3])
    ctx = node("Reshape", [ctx, const(p + ".merge_shape", [0, 0, HIDDEN], np.int64)], p + ".merged")
    attn = linear(ctx, p + ".attention.output", HIDDEN, HIDDEN)
    norm = layer_norm_decomposed if i % 2 == 0 else layer_norm_fused
    x = norm(node("Add", [attn, x], p + ".residual1"), p + ".attention.LayerNorm")
    h = gelu(linear(x, p + ".intermediate", HIDDEN, INTER), p + ".gelu")
    out = linear(h, p + ".output", INTER, HIDDEN)
    return norm(node("Add", [out, x], p + ".residual2"), p + ".output.LayerNorm")


def build():
    word = weight("embeddings.word_embeddings.weight", len(VOCAB), HIDDEN, scale=1.0)
    pos = weight("embeddings.position_embeddings.weight", MAX_POS, HIDDEN, scale=0.5)
    typ = weight("embeddings.token_type_embeddings.weight", TYPES, HIDDEN, scale=0.5)
    const("embeddings.position_ids", np.arange(MAX_POS)[None, :], np.int64)

    # Position ids: the first seq_len entries of a [1, MAX_POS] buffer.
    shape = node("Shape", ["input_ids"], "input_shape")
    seq = node("Gather", [shape, const("one_index", 1, np.int64)], "seq_len", axis=0)
    seq1 = node("Unsqueeze", [seq, const("axes0", [0], np.int64)], "seq_len_1d")
    ids = node("Slice", ["embeddings.position_ids", const("zero_1d", [0], np.int64), seq1,
                         const("axes1", [1], np.int64)], "position_ids")
    e = node("Add", [node("Gather", [word, "input_ids"], "word_emb"),
                     node("Gather", [typ, "token_type_ids"], "type_emb")], "emb_sum")
    e = node("Add", [e, node("Gather", [pos, ids], "pos_emb")], "emb_all")
    x = layer_norm_fused(e, "embeddings.LayerNorm")

    # Extended attention mask: 0 where attended, -10000 on padding.
    m = node("Unsqueeze", ["attention_mask", const("axes12", [1, 2], np.int64)], "mask_4d")
    m = node("Cast", [m], "mask_float", to=TensorProto.FLOAT)
    m = node("Sub", [const("mask_one", 1.0), m], "mask_inv")
    m = node("Mul", [m, const("mask_min", -10000.0)], "mask_ext")

    for i in range(LAYERS):
        x = encoder_layer(x, m, i)
    nodes.append(helper.make_node("Identity", [x], ["last_hidden_state"], name="last_hidden_state"))

    dyn = ["batch_size", "sequence_length"]
    inputs = [helper.make_tensor_value_info(n, TensorProto.INT64, dyn)
              for n in ("input_ids", "attention_mask", "token_type_ids")]
    output = helper.make_tensor_value_info("last_hidden_state", TensorProto.FLOAT, dyn + [HIDDEN])
    graph = helper.make_graph(nodes, "tiny-bert", inputs, [output], inits)
    model = helper.make_model(graph, producer_name="cari gen_model.py",
                              opset_imports=[helper.make_opsetid("", 17)])
    model.ir_version = 8
    helper.set_model_props(model, {"num_attention_heads": str(HEADS)})
    onnx.checker.check_model(model)
    return model


def tokenizer_json():
    special = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
                "normalized": False, "special": True} for i, t in enumerate(VOCAB[:5])]
    return {
        "version": "1.0", "truncation": None, "padding": None, "added_tokens": special,
        "normalizer": {"type": "BertNormalizer", "clean_text": True, "handle_chinese_chars": True,
                       "strip_accents": None, "lowercase": True},
        "pre_tokenizer": {"type": "BertPreTokenizer"},
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                       {"SpecialToken": {"id": "[SEP]", "type_id": 0}}],
            "pair": [{"SpecialToken": {"id": "[CLS]", "type_id": 0}}, {"Sequence": {"id": "A", "type_id": 0}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 0}}, {"Sequence": {"id": "B", "type_id": 1}},
                     {"SpecialToken": {"id": "[SEP]", "type_id": 1}}],
            "special_tokens": {t: {"id": t, "ids": [VOCAB.index(t)], "tokens": [t]} for t in ("[CLS]", "[SEP]")},
        },
        "decoder": {"type": "WordPiece", "prefix": "##", "cleanup": True},
        "model": {"type": "WordPiece", "unk_token": "[UNK]", "continuing_subword_prefix": "##",
                  "max_input_chars_per_word": 100, "vocab": {t: i for i, t in enumerate(VOCAB)}},
    }


def main():
    os.makedirs(os.path.join(OUT, "1_Pooling"), exist_ok=True)
    onnx.save(build(), os.path.join(OUT, "model.onnx"))
    files = {
        "tokenizer.json": tokenizer_json(),
        "config.json": {"architectures": ["BertModel"], "model_type": "bert", "hidden_size": HIDDEN,
                        "num_attention_heads": HEADS, "num_hidden_layers": LAYERS,
                        "intermediate_size": INTER, "max_position_embeddings": MAX_POS,
                        "type_vocab_size": TYPES, "vocab_size": len(VOCAB), "layer_norm_eps": 1e-12},
        "sentence_bert_config.json": {"max_seq_length": 16, "do_lower_case": False},
        "1_Pooling/config.json": {"word_embedding_dimension": HIDDEN, "pooling_mode_cls_token": False,
                                  "pooling_mode_mean_tokens": True, "pooling_mode_max_tokens": False,
                                  "pooling_mode_mean_sqrt_len_tokens": False},
    }
    for name, value in files.items():
        with open(os.path.join(OUT, name), "w") as f:
            json.dump(value, f, indent=2, ensure_ascii=False)
            f.write("\n")


if __name__ == "__main__":
    main()
