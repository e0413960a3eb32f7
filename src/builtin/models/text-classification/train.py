#!/usr/bin/env python3
"""Hangar built-in model: text classification with logistic regression over bag-of-words.

Reads data.tsv from --dataset (default /dataset, layout in README.md), builds a vocabulary of
words (and word pairs with --ngrams 2) from the training lines, trains a softmax regression on
log-scaled, length-normalised counts with mini-batch SGD, prints `epoch N loss X` per epoch and
`accuracy X` on the held-out lines at the end, and writes model.npz and metrics.json to --output.
"""
import argparse
import collections
import json
import os
import re
import sys

import numpy as np

WORD = re.compile(r"[^\W_]+(?:'[^\W_]+)?")


class DatasetError(Exception):
    pass


def parse_args():
    p = argparse.ArgumentParser(description="Hangar built-in text classification")
    p.add_argument("--epochs", type=int, default=30, help="passes over the training lines")
    p.add_argument("--lr", type=float, default=0.5, help="learning rate")
    p.add_argument("--batch-size", type=int, default=16, help="lines per SGD step")
    p.add_argument("--ngrams", type=int, default=1, help="1: words; 2: words and word pairs")
    p.add_argument("--min-count", type=int, default=1, help="drop terms seen in fewer training lines")
    p.add_argument("--max-vocab", type=int, default=20000, help="keep the most frequent terms")
    p.add_argument("--weight-decay", type=float, default=0.0001, help="L2 penalty on the weights")
    p.add_argument("--val-split", type=float, default=0.2, help="share of each label held out")
    p.add_argument("--seed", type=int, default=0, help="seed for the split and the batches")
    p.add_argument("--dataset", default="/dataset", help="dataset folder")
    p.add_argument("--output", default="/output", help="where model.npz goes")
    a = p.parse_args()
    if a.epochs < 1 or a.batch_size < 1 or a.min_count < 1 or a.max_vocab < 1:
        p.error("--epochs, --batch-size, --min-count and --max-vocab must be at least 1")
    if a.ngrams not in (1, 2):
        p.error("--ngrams must be 1 or 2")
    if a.lr <= 0 or a.weight_decay < 0 or not 0 <= a.val_split < 1:
        p.error("--lr must be > 0, --weight-decay >= 0 and --val-split in [0, 1)")
    return a


def load_tsv(root):
    path = os.path.join(root, "data.tsv")
    if not os.path.isfile(path):
        found = ", ".join(sorted(os.listdir(root))[:10]) if os.path.isdir(root) else f"{root} is not a folder"
        raise DatasetError(f"{path} is missing (found: {found or 'nothing'})")
    labels, texts = [], []
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().splitlines()
    except UnicodeDecodeError as e:
        raise DatasetError(f"data.tsv is not UTF-8 text ({e.reason} at byte {e.start})") from None
    for number, line in enumerate(lines, start=1):
        if not line.strip() or (number == 1 and line.strip().lower() == "label\ttext"):
            continue
        label, tab, text = line.partition("\t")
        if not tab or not label.strip():
            raise DatasetError(f"data.tsv line {number} is not 'label<TAB>text': {line[:60]!r}")
        labels.append(label.strip())
        texts.append(text)
    names = sorted(set(labels))
    if len(names) < 2:
        raise DatasetError(f"data.tsv has {len(names)} distinct labels; classification needs at least two")
    return texts, np.array([names.index(label) for label in labels]), names


def terms(text, ngrams):
    words = WORD.findall(text.lower())
    if ngrams == 2:
        return words + [f"{u} {v}" for u, v in zip(words, words[1:])]
    return words


def vocabulary(docs, min_count, max_vocab):
    seen = collections.Counter(t for doc in docs for t in set(doc))
    kept = sorted((t for t, c in seen.items() if c >= min_count), key=lambda t: (-seen[t], t))
    return kept[:max_vocab]


def featurise(docs, index):
    x = np.zeros((len(docs), len(index)))
    for i, doc in enumerate(docs):
        for t, c in collections.Counter(doc).items():
            if t in index:
                x[i, index[t]] = np.log1p(c)
    norms = np.linalg.norm(x, axis=1, keepdims=True)
    return x / np.where(norms == 0, 1.0, norms)


def stratified_split(y, share, rng):
    val = []
    for c in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == c))
        val.extend(idx[: int(round(share * len(idx)))].tolist())
    mask = np.zeros(len(y), dtype=bool)
    mask[val] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def softmax(z):
    z = z - z.max(axis=1, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=1, keepdims=True)


def train(a, x, y, classes, rng):
    w, b = np.zeros((x.shape[1], classes)), np.zeros(classes)
    vw, vb = np.zeros_like(w), np.zeros_like(b)
    onehot = np.eye(classes)[y]
    for epoch in range(1, a.epochs + 1):
        order, total = rng.permutation(len(y)), 0.0
        for start in range(0, len(y), a.batch_size):
            batch = order[start : start + a.batch_size]
            p = softmax(x[batch] @ w + b)
            total += float(-np.log(p[np.arange(len(batch)), y[batch]] + 1e-12).sum())
            dz = (p - onehot[batch]) / len(batch)
            vw = 0.9 * vw - a.lr * (x[batch].T @ dz + a.weight_decay * w)
            vb = 0.9 * vb - a.lr * dz.sum(axis=0)
            w, b = w + vw, b + vb
        loss = total / len(y)
        if not np.isfinite(loss):
            sys.exit(f"error: the loss diverged at epoch {epoch}; lower --lr (now {a.lr})")
        print(f"epoch {epoch} loss {loss:.6f}", flush=True)
    return w, b


def main():
    a = parse_args()
    try:
        texts, y, names = load_tsv(a.dataset)
    except DatasetError as e:
        sys.exit(f"error: dataset layout: {e} (see README.md of text-classification)")
    rng = np.random.default_rng(a.seed)
    train_idx, val_idx = stratified_split(y, a.val_split, rng)
    if len(train_idx) == 0:
        sys.exit("error: no lines left to train on; lower --val-split")
    docs = [terms(t, a.ngrams) for t in texts]
    vocab = vocabulary([docs[i] for i in train_idx], a.min_count, a.max_vocab)
    if not vocab:
        sys.exit("error: the training lines leave an empty vocabulary; lower --min-count")
    x = featurise(docs, {t: i for i, t in enumerate(vocab)})
    print(
        f"text-classification: {len(texts)} lines, {len(names)} labels ({', '.join(names)}), "
        f"{len(vocab)} terms, {len(train_idx)} for training, {len(val_idx)} held out",
        flush=True,
    )
    w, b = train(a, x[train_idx], y[train_idx], len(names), rng)
    check = val_idx if len(val_idx) else train_idx
    accuracy = float(((x[check] @ w + b).argmax(axis=1) == y[check]).mean())
    os.makedirs(a.output, exist_ok=True)
    np.savez(
        os.path.join(a.output, "model.npz"),
        w=w, b=b, vocabulary=np.array(vocab), labels=np.array(names), ngrams=a.ngrams,
    )
    metrics = {"accuracy": accuracy, "evaluated_on": "held-out" if len(val_idx) else "training", "epochs": a.epochs}
    with open(os.path.join(a.output, "metrics.json"), "w") as f:
        json.dump(metrics, f)
    print(f"saved {os.path.join(a.output, 'model.npz')}", flush=True)
    print(f"accuracy {accuracy:.4f}", flush=True)


if __name__ == "__main__":
    main()
