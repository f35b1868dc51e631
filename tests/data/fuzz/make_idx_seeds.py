#!/usr/bin/env python3
"""tests/data/fuzz/make_idx_seeds.py: writes the seed corpus of the IDX fuzz target (tests/fuzz/idx_fuzz.cpp)
into tests/data/fuzz/idx/. Each seed packs an image file and a label file into one input:

    byte 0       classes (0: largest label + 1)
    bytes 1-2    n, the length of the image file, little-endian
    n bytes      the image file
    the rest     the label file

Run it again after changing that layout; the output is deterministic (gzip with mtime 0)."""
import gzip
import os
import struct


def images(n, rows=2, cols=2, magic=0x00000803):
    dims = [n, rows, cols][: magic & 0xFF]
    body = bytes((17 * i) % 256 for i in range(n * rows * cols))
    return struct.pack(">I", magic) + b"".join(struct.pack(">I", d) for d in dims) + body


def labels(values):
    return struct.pack(">II", 0x00000801, len(values)) + bytes(values)


def pack(classes, img, lab):
    return bytes([classes]) + struct.pack("<H", len(img)) + img + lab


def gz(data):
    return gzip.compress(data, mtime=0)


SEEDS = {
    "plain": pack(0, images(3), labels([0, 2, 1])),
    "plain_classes10": pack(10, images(4), labels([9, 0, 3, 3])),
    "gzip_both": pack(0, gz(images(3)), gz(labels([1, 1, 0]))),
    "gzip_two_members": pack(0, gz(images(2)[:10]) + gz(images(2)[10:]), labels([0, 1])),
    "three_dims": pack(0, struct.pack(">IIIII", 0x00000804, 2, 1, 2, 2) + bytes(8), labels([1, 0])),
    "zero_images": pack(0, images(0), labels([])),
    "bad_swapped": pack(0, labels([0, 1]), images(2)),
    "bad_truncated": pack(0, images(3)[:-2], labels([0, 1, 2])),
    "bad_count_mismatch": pack(0, images(3), labels([0, 1])),
    "bad_label_range": pack(2, images(2), labels([0, 5])),
    "bad_float_type": pack(0, struct.pack(">IIII", 0x00000D03, 1, 1, 1) + bytes(4), labels([0])),
    "bad_gzip_trailing": pack(0, gz(images(1)) + b"junk", labels([0])),
    "bad_gzip_truncated": pack(0, gz(images(2))[:-6], labels([0, 1])),
    # ISIZE (the last four bytes) forged to 2^32 - 1: once sized a 1 GiB buffer for 30 bytes
    "bad_gzip_forged_isize": pack(0, gz(images(1))[:-4] + b"\xff\xff\xff\xff", labels([0])),
    # 0 images of 0xfbfffffd x 0xfffffffd pixels: the size once reached Eigen as a negative row count
    "bad_zero_images_huge_pixels": pack(0, images(0, 0xFBFFFFFD, 0xFFFFFFFD), labels([])),
}

if __name__ == "__main__":
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "idx")
    os.makedirs(out, exist_ok=True)
    for name, data in SEEDS.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print(f"{len(SEEDS)} seeds in {out}")
