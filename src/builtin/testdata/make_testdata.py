#!/usr/bin/env python3
"""Writes the small datasets the built-in model tests train on (src/builtin/testdata/<model>/).

Deterministic: the samples come from Python's `random.Random(seed)`, whose sequence is fixed
across Python versions, and numpy only writes the .npy files (format 1.0). Re-run from the
repository root after changing it, then commit the files it rewrites:

    python3 src/builtin/testdata/make_testdata.py
    # or, with nothing but Docker: docker run --rm -u "$(id -u):$(id -g)" \
    #   -v "$PWD/src/builtin/testdata:/t" -w /t hangar-test/python:latest python3 make_testdata.py
"""
import math
import os
import random
import shutil

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))

# 8x8 digit-like glyphs: three classes for the image model.
GLYPHS = {
    "zero": [
        "..####..",
        ".#....#.",
        ".#....#.",
        ".#....#.",
        ".#....#.",
        ".#....#.",
        ".#....#.",
        "..####..",
    ],
    "one": [
        "...##...",
        "..###...",
        "...##...",
        "...##...",
        "...##...",
        "...##...",
        "...##...",
        "..####..",
    ],
    "seven": [
        ".######.",
        "......#.",
        ".....#..",
        "....#...",
        "...#....",
        "...#....",
        "..#.....",
        "..#.....",
    ],
}


def glyph_image(rng, name):
    """One noisy 8x8 uint8 sample of a glyph: shifted by up to a pixel, varying ink, noise."""
    dx, dy = rng.randint(-1, 1), rng.randint(-1, 1)
    ink = rng.uniform(110, 255)
    rows = GLYPHS[name]
    pixels = []
    for y in range(8):
        for x in range(8):
            sy, sx = y - dy, x - dx
            on = 0 <= sy < 8 and 0 <= sx < 8 and rows[sy][sx] == "#"
            v = (ink if on else 20) + rng.gauss(0, 70)
            pixels.append(max(0, min(255, round(v))))
    return pixels


def image_npy(rng, out, per_class):
    names = list(GLYPHS)
    samples = [(c, glyph_image(rng, name)) for c, name in enumerate(names) for _ in range(per_class)]
    rng.shuffle(samples)
    images = np.array([p for _, p in samples], dtype=np.uint8).reshape(-1, 8, 8)
    labels = np.array([c for c, _ in samples], dtype=np.int64)
    np.save(os.path.join(out, "images.npy"), images)
    np.save(os.path.join(out, "labels.npy"), labels)
    with open(os.path.join(out, "classes.txt"), "w") as f:
        f.write("\n".join(names) + "\n")


def image_pgm(rng, out, per_class):
    for name in GLYPHS:
        os.makedirs(os.path.join(out, name))
        for i in range(per_class):
            with open(os.path.join(out, name, f"{i:02d}.pgm"), "wb") as f:
                f.write(b"P5\n8 8\n255\n" + bytes(glyph_image(rng, name)))


def tabular_csv(rng, out, rows):
    lines = ["x1,x2,x3,x4,target"]
    for _ in range(rows):
        x = [rng.uniform(-2, 2) for _ in range(4)]
        y = 3 + 2 * x[0] - x[1] + 0.75 * x[2] ** 2 + math.sin(2 * x[3]) + rng.gauss(0, 0.3)
        lines.append(",".join(f"{v:.4f}" for v in [*x, y]))
    with open(os.path.join(out, "data.csv"), "w") as f:
        f.write("\n".join(lines) + "\n")


SUBJECTS = ["the movie", "this phone", "the food", "our hotel", "the service", "the book", "this game", "the concert"]
FILLERS = ["was", "felt", "is", "seemed", "turned out", "really was", "honestly was"]
WORDS = {
    "positive": ["great", "excellent", "wonderful", "fantastic", "delightful", "superb", "enjoyable", "lovely"],
    "negative": ["awful", "terrible", "boring", "disappointing", "poor", "dull", "horrible", "annoying"],
}
ENDINGS = ["", "overall", "from start to finish", "and i would say so again", "to be fair", "this time"]


def text_tsv(rng, out, lines):
    rows = ["label\ttext"]
    for _ in range(lines):
        label = rng.choice(list(WORDS))
        other = "negative" if label == "positive" else "positive"
        opinion = " and ".join(rng.sample(WORDS[label], rng.randint(1, 2)))
        if rng.random() < 0.2:  # a contrary word now and then, so that one word never decides
            opinion += " but " + rng.choice(WORDS[other])
        parts = [rng.choice(SUBJECTS), rng.choice(FILLERS), opinion, rng.choice(ENDINGS)]
        rows.append(f"{label}\t{' '.join(p for p in parts if p)}")
    with open(os.path.join(out, "data.tsv"), "w") as f:
        f.write("\n".join(rows) + "\n")


def fresh(name):
    path = os.path.join(HERE, name)
    shutil.rmtree(path, ignore_errors=True)
    os.makedirs(path)
    return path


def main():
    image_npy(random.Random(1), fresh("image-classification"), per_class=50)
    image_pgm(random.Random(2), fresh("image-classification-pgm"), per_class=20)
    tabular_csv(random.Random(3), fresh("tabular-regression"), rows=200)
    text_tsv(random.Random(4), fresh("text-classification"), lines=150)


if __name__ == "__main__":
    main()
