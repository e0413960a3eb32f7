#!/usr/bin/env python3
"""Hangar built-in model: tabular regression with a small perceptron (or ridge regression).

Reads data.csv from --dataset (default /dataset, layout in README.md), standardises the
columns, trains with mini-batch SGD and momentum, prints `epoch N loss X` per epoch and
`rmse X` on the held-out rows at the end, and writes model.npz and metrics.json to --output.
"""
import argparse
import csv
import json
import math
import os
import sys

import numpy as np


class DatasetError(Exception):
    pass


def parse_args():
    p = argparse.ArgumentParser(description="Hangar built-in tabular regression")
    p.add_argument("--epochs", type=int, default=100, help="passes over the training rows")
    p.add_argument("--lr", type=float, default=0.01, help="learning rate")
    p.add_argument("--batch-size", type=int, default=16, help="rows per SGD step")
    p.add_argument("--hidden", type=int, default=32, help="units in the hidden layer; 0: linear (ridge) model")
    p.add_argument("--weight-decay", type=float, default=0.0001, help="L2 penalty on the weights")
    p.add_argument("--target", default="target", help="name of the column to predict")
    p.add_argument("--val-split", type=float, default=0.2, help="share of the rows held out")
    p.add_argument("--seed", type=int, default=0, help="seed for the split, the init and the batches")
    p.add_argument("--dataset", default="/dataset", help="dataset folder")
    p.add_argument("--output", default="/output", help="where model.npz goes")
    a = p.parse_args()
    if a.epochs < 1 or a.batch_size < 1 or a.hidden < 0:
        p.error("--epochs and --batch-size must be at least 1, --hidden at least 0")
    if a.lr <= 0 or a.weight_decay < 0 or not 0 <= a.val_split < 1:
        p.error("--lr must be > 0, --weight-decay >= 0 and --val-split in [0, 1)")
    return a


def load_csv(root, target):
    path = os.path.join(root, "data.csv")
    if not os.path.isfile(path):
        found = ", ".join(sorted(os.listdir(root))[:10]) if os.path.isdir(root) else f"{root} is not a folder"
        raise DatasetError(f"{path} is missing (found: {found or 'nothing'})")
    with open(path, newline="", encoding="utf-8") as f:
        rows = [r for r in csv.reader(f) if r and any(c.strip() for c in r)]
    if len(rows) < 3:
        raise DatasetError("data.csv needs a header row and at least two data rows")
    header = [h.strip() for h in rows[0]]
    if target not in header:
        raise DatasetError(f"data.csv has no column {target!r} (columns: {', '.join(header)}); pass --target")
    if len(header) < 2:
        raise DatasetError("data.csv needs at least one feature column besides the target")
    values = np.empty((len(rows) - 1, len(header)))
    for i, row in enumerate(rows[1:]):
        if len(row) != len(header):
            raise DatasetError(f"data.csv line {i + 2} has {len(row)} fields; the header has {len(header)}")
        for j, cell in enumerate(row):
            try:
                values[i, j] = float(cell)
            except ValueError:
                raise DatasetError(f"data.csv line {i + 2}, column {header[j]!r}: {cell!r} is not a number") from None
            if not math.isfinite(values[i, j]):
                raise DatasetError(f"data.csv line {i + 2}, column {header[j]!r}: {cell!r} is not finite")
    t = header.index(target)
    features = [h for j, h in enumerate(header) if j != t]
    return np.delete(values, t, axis=1), values[:, t], features


def init(rng, d, hidden):
    if hidden == 0:
        return [np.zeros((d, 1)), np.zeros(1)]
    return [
        rng.normal(0.0, np.sqrt(1.0 / d), (d, hidden)),
        np.zeros(hidden),
        rng.normal(0.0, np.sqrt(1.0 / hidden), (hidden, 1)),
        np.zeros(1),
    ]


def predict(params, x):
    if len(params) == 2:
        return (x @ params[0] + params[1])[:, 0]
    h = np.tanh(x @ params[0] + params[1])
    return (h @ params[2] + params[3])[:, 0]


def gradients(params, x, y):
    """Gradients of the mean squared error (halved) on one batch."""
    if len(params) == 2:
        err = (predict(params, x) - y)[:, None] / len(y)
        return [x.T @ err, err.sum(axis=0)]
    h = np.tanh(x @ params[0] + params[1])
    err = ((h @ params[2] + params[3])[:, 0] - y)[:, None] / len(y)
    dh = (err @ params[2].T) * (1.0 - h * h)
    return [x.T @ dh, dh.sum(axis=0), h.T @ err, err.sum(axis=0)]


def train(a, x, y, rng):
    params = init(rng, x.shape[1], a.hidden)
    velocity = [np.zeros_like(p) for p in params]
    for epoch in range(1, a.epochs + 1):
        order, total = rng.permutation(len(y)), 0.0
        for start in range(0, len(y), a.batch_size):
            b = order[start : start + a.batch_size]
            total += float(((predict(params, x[b]) - y[b]) ** 2).sum())
            for i, g in enumerate(gradients(params, x[b], y[b])):
                if i % 2 == 0:
                    g = g + a.weight_decay * params[i]
                velocity[i] = 0.9 * velocity[i] - a.lr * g
                params[i] += velocity[i]
        loss = total / len(y)
        if not np.isfinite(loss):
            sys.exit(f"error: the loss diverged at epoch {epoch}; lower --lr (now {a.lr})")
        print(f"epoch {epoch} loss {loss:.6f}", flush=True)
    return params


def main():
    a = parse_args()
    try:
        x, y, features = load_csv(a.dataset, a.target)
    except DatasetError as e:
        sys.exit(f"error: dataset layout: {e} (see README.md of tabular-regression)")
    rng = np.random.default_rng(a.seed)
    order = rng.permutation(len(y))
    n_val = int(round(a.val_split * len(y)))
    val_idx, train_idx = order[:n_val], order[n_val:]
    if len(train_idx) < 2:
        sys.exit("error: fewer than two rows left to train on; lower --val-split")
    x_mean, x_std = x[train_idx].mean(axis=0), x[train_idx].std(axis=0)
    x_std[x_std == 0] = 1.0
    y_mean, y_std = float(y[train_idx].mean()), float(y[train_idx].std()) or 1.0
    xs, ys = (x - x_mean) / x_std, (y - y_mean) / y_std
    model = f"perceptron with {a.hidden} hidden units" if a.hidden else "linear model"
    print(
        f"tabular-regression: {len(y)} rows, {len(features)} features -> {a.target!r}, {model}, "
        f"{len(train_idx)} for training, {len(val_idx)} held out (loss: mean squared error of the standardised target)",
        flush=True,
    )
    params = train(a, xs[train_idx], ys[train_idx], rng)
    check = val_idx if len(val_idx) else train_idx
    pred = predict(params, xs[check]) * y_std + y_mean
    rmse = float(np.sqrt(np.mean((pred - y[check]) ** 2)))
    baseline = float(np.sqrt(np.mean((y_mean - y[check]) ** 2)))
    os.makedirs(a.output, exist_ok=True)
    np.savez(
        os.path.join(a.output, "model.npz"),
        **dict(zip(["w", "b"] if len(params) == 2 else ["w1", "b1", "w2", "b2"], params)),
        x_mean=x_mean, x_std=x_std, y_mean=y_mean, y_std=y_std,
        features=np.array(features), target=np.array(a.target),
    )
    metrics = {"rmse": rmse, "baseline_rmse": baseline, "evaluated_on": "held-out" if len(val_idx) else "training"}
    with open(os.path.join(a.output, "metrics.json"), "w") as f:
        json.dump(metrics, f)
    print(f"saved {os.path.join(a.output, 'model.npz')}", flush=True)
    print(f"baseline rmse {baseline:.6f} (predicting the mean)", flush=True)
    print(f"rmse {rmse:.6f}", flush=True)


if __name__ == "__main__":
    main()
