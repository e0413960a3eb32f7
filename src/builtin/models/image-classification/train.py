#!/usr/bin/env python3
"""Hangar built-in model: image classification with a one-hidden-layer perceptron (numpy).

Reads the images from --dataset (default /dataset, layouts in README.md), trains with
mini-batch SGD and momentum, prints `epoch N loss X` per epoch and `accuracy X` on the
held-out images at the end, and writes model.npz and metrics.json to --output (/output).
"""
import argparse
import json
import os
import sys

import numpy as np


class DatasetError(Exception):
    pass


def parse_args():
    p = argparse.ArgumentParser(description="Hangar built-in image classification")
    p.add_argument("--epochs", type=int, default=30, help="passes over the training images")
    p.add_argument("--lr", type=float, default=0.05, help="learning rate")
    p.add_argument("--batch-size", type=int, default=32, help="images per SGD step")
    p.add_argument("--hidden", type=int, default=64, help="units in the hidden layer")
    p.add_argument("--weight-decay", type=float, default=0.0001, help="L2 penalty on the weights")
    p.add_argument("--val-split", type=float, default=0.2, help="share of each class held out")
    p.add_argument("--seed", type=int, default=0, help="seed for the split, the init and the batches")
    p.add_argument("--dataset", default="/dataset", help="dataset folder")
    p.add_argument("--output", default="/output", help="where model.npz goes")
    a = p.parse_args()
    if a.epochs < 1 or a.batch_size < 1 or a.hidden < 1:
        p.error("--epochs, --batch-size and --hidden must be at least 1")
    if a.lr <= 0 or a.weight_decay < 0 or not 0 <= a.val_split < 1:
        p.error("--lr must be > 0, --weight-decay >= 0 and --val-split in [0, 1)")
    return a


def read_pgm(path):
    """A binary (P5) or plain (P2) PGM as a float array scaled to [0, 1]."""
    with open(path, "rb") as f:
        data = f.read()
    tokens, pos = [], 0
    while len(tokens) < 4:  # magic, width, height, maxval; '#' starts a comment
        while pos < len(data) and data[pos : pos + 1].isspace():
            pos += 1
        if data[pos : pos + 1] == b"#":
            pos = data.find(b"\n", pos) + 1 or len(data)
            continue
        start = pos
        while pos < len(data) and not data[pos : pos + 1].isspace():
            pos += 1
        if start == pos:
            raise DatasetError(f"{path}: truncated PGM header")
        tokens.append(data[start:pos])
    magic = tokens[0]
    try:
        width, height, maxval = (int(t) for t in tokens[1:])
    except ValueError:
        raise DatasetError(f"{path}: bad PGM header") from None
    if magic not in (b"P5", b"P2") or width < 1 or height < 1 or not 0 < maxval < 65536:
        raise DatasetError(f"{path}: not a PGM image (want P5 or P2 with maxval 1-65535)")
    if magic == b"P2":
        pixels = np.array(data[pos:].split(), dtype=np.float64)
    else:
        dtype = np.dtype(">u2") if maxval > 255 else np.dtype("u1")
        pixels = np.frombuffer(data[pos + 1 :], dtype=dtype).astype(np.float64)
    if pixels.size < width * height:
        raise DatasetError(f"{path}: {pixels.size} pixels, the header says {width}x{height}")
    return pixels[: width * height].reshape(height, width) / maxval


def load_npy(root):
    try:
        images = np.load(os.path.join(root, "images.npy"), allow_pickle=False)
        labels = np.load(os.path.join(root, "labels.npy"), allow_pickle=False)
    except FileNotFoundError as e:
        raise DatasetError(f"{e.filename} is missing: images.npy and labels.npy go together") from None
    except ValueError as e:
        raise DatasetError(f"images.npy/labels.npy: {e}") from None
    if images.ndim not in (3, 4) or images.shape[0] == 0:
        raise DatasetError(f"images.npy has shape {images.shape}; want (N, height, width[, channels])")
    if labels.shape != (images.shape[0],):
        raise DatasetError(f"labels.npy has shape {labels.shape}; want ({images.shape[0]},), one label per image")
    if not np.issubdtype(labels.dtype, np.integer):
        raise DatasetError(f"labels.npy holds {labels.dtype}; want integer class numbers")
    if not (np.issubdtype(images.dtype, np.integer) or np.issubdtype(images.dtype, np.floating)):
        raise DatasetError(f"images.npy holds {images.dtype}; want integer or float pixels")
    scale = 255.0 if images.dtype == np.uint8 else 1.0
    names = [str(c) for c in np.unique(labels)]
    classes_txt = os.path.join(root, "classes.txt")
    if os.path.exists(classes_txt):
        with open(classes_txt, encoding="utf-8") as f:
            listed = [line.strip() for line in f if line.strip()]
        if labels.min() < 0 or labels.max() >= len(listed):
            raise DatasetError(
                f"labels.npy has labels {labels.min()}..{labels.max()} but classes.txt names {len(listed)} classes"
            )
        names = listed
        y = labels.astype(np.int64)
    else:
        y = np.searchsorted(np.unique(labels), labels)
    return images.astype(np.float64) / scale, y, names


def load_folders(root, folders):
    images, y = [], []
    for c, name in enumerate(folders):
        files = sorted(f for f in os.listdir(os.path.join(root, name)) if f.lower().endswith(".pgm"))
        if not files:
            raise DatasetError(f"class folder {name}/ has no .pgm images")
        for f in files:
            images.append(read_pgm(os.path.join(root, name, f)))
            y.append(c)
    shapes = {im.shape for im in images}
    if len(shapes) > 1:
        sizes = ", ".join(f"{w}x{h}" for h, w in sorted(shapes))
        raise DatasetError(f"the images differ in size ({sizes}); all must match")
    return np.stack(images), np.array(y, dtype=np.int64), folders


def load_dataset(root):
    if not os.path.isdir(root):
        raise DatasetError(f"{root} is not a folder")
    entries = sorted(os.listdir(root))
    if "images.npy" in entries or "labels.npy" in entries:
        x, y, names = load_npy(root)
    else:
        folders = [e for e in entries if os.path.isdir(os.path.join(root, e)) and not e.startswith(".")]
        if not folders:
            found = ", ".join(entries[:10]) or "nothing"
            raise DatasetError(
                f"{root} holds neither images.npy + labels.npy nor one folder of .pgm images per class (found: {found})"
            )
        x, y, names = load_folders(root, folders)
    if len(names) < 2:
        raise DatasetError(f"only one class ({names[0]}); classification needs at least two")
    return x, y, names


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


def forward(params, x):
    w1, b1, w2, b2 = params
    h = np.maximum(0.0, x @ w1 + b1)
    return h, softmax(h @ w2 + b2)


def train(a, x, y, classes, rng):
    n, d = x.shape
    params = [
        rng.normal(0.0, np.sqrt(2.0 / d), (d, a.hidden)),
        np.zeros(a.hidden),
        rng.normal(0.0, np.sqrt(1.0 / a.hidden), (a.hidden, classes)),
        np.zeros(classes),
    ]
    velocity = [np.zeros_like(p) for p in params]
    onehot = np.eye(classes)[y]
    for epoch in range(1, a.epochs + 1):
        order, total = rng.permutation(n), 0.0
        for start in range(0, n, a.batch_size):
            b = order[start : start + a.batch_size]
            h, p = forward(params, x[b])
            total += float(-np.log(p[np.arange(len(b)), y[b]] + 1e-12).sum())
            dz = (p - onehot[b]) / len(b)
            dh = (dz @ params[2].T) * (h > 0)
            grads = [x[b].T @ dh, dh.sum(axis=0), h.T @ dz, dz.sum(axis=0)]
            for i in range(4):
                g = grads[i] + (a.weight_decay * params[i] if i % 2 == 0 else 0.0)
                velocity[i] = 0.9 * velocity[i] - a.lr * g
                params[i] += velocity[i]
        loss = total / n
        if not np.isfinite(loss):
            sys.exit(f"error: the loss diverged at epoch {epoch}; lower --lr (now {a.lr})")
        print(f"epoch {epoch} loss {loss:.6f}", flush=True)
    return params


def main():
    a = parse_args()
    try:
        images, y, names = load_dataset(a.dataset)
    except DatasetError as e:
        sys.exit(f"error: dataset layout: {e} (see README.md of image-classification)")
    rng = np.random.default_rng(a.seed)
    train_idx, val_idx = stratified_split(y, a.val_split, rng)
    if len(train_idx) == 0:
        sys.exit("error: no images left to train on; lower --val-split")
    x = images.reshape(len(images), -1)
    mean, std = float(x[train_idx].mean()), float(x[train_idx].std()) or 1.0
    x = (x - mean) / std
    print(
        f"image-classification: {len(images)} images of {'x'.join(map(str, images.shape[1:]))}, "
        f"{len(names)} classes, {len(train_idx)} for training, {len(val_idx)} held out",
        flush=True,
    )
    params = train(a, x[train_idx], y[train_idx], len(names), rng)
    check = val_idx if len(val_idx) else train_idx
    accuracy = float((forward(params, x[check])[1].argmax(axis=1) == y[check]).mean())
    os.makedirs(a.output, exist_ok=True)
    np.savez(
        os.path.join(a.output, "model.npz"),
        w1=params[0], b1=params[1], w2=params[2], b2=params[3],
        mean=mean, std=std, input_shape=np.array(images.shape[1:]), classes=np.array(names),
    )
    metrics = {"accuracy": accuracy, "evaluated_on": "held-out" if len(val_idx) else "training", "epochs": a.epochs}
    with open(os.path.join(a.output, "metrics.json"), "w") as f:
        json.dump(metrics, f)
    print(f"saved {os.path.join(a.output, 'model.npz')}", flush=True)
    print(f"accuracy {accuracy:.4f}", flush=True)


if __name__ == "__main__":
    main()
