#!/usr/bin/env python3
"""Writes the JPEG fixtures of the DigitImage tests to Tests/DigitImageTests/Fixtures (jpeg-*).

Each JPEG is written by Pillow (which bundles libjpeg-turbo) and decoded by Pillow too; what Pillow decodes is
stored next to it as an RGBA PNG (lossless; the tests read it with PNGCodec, itself checked against pypng), the
reference JPEGCodec must match:
  jpeg-gray.jpg            37x45 grayscale digit, dark on light (baseline)
  jpeg-rgb420.jpg          61x47 colour picture, 4:2:0 chroma subsampling (fancy upsampling matters)
  jpeg-rgb444.jpg          the same picture, 4:4:4
  jpeg-progressive.jpg     the same picture, progressive, 4:2:0
  jpeg-cmyk.jpg            a CMYK picture (Pillow writes it inverted with an Adobe marker, as Photoshop does);
                           the reference is Pillow's convert("RGB")
  jpeg-exif-N.jpg          the 4:2:0 picture with EXIF orientation N (2..8); the reference is
                           ImageOps.exif_transpose of Pillow's decode
  jpeg-large-2048.jpg      2048x1536 digit photo: JPEGCodec scales it by 1/4 in the DCT to 512x384, no area
                           averaging after; the reference is Pillow's draft() decode at 1/4 (the same libjpeg
                           scaling)
  jpeg-large-1100.jpg      1100x700 light-on-dark digit (gray, stored as YCbCr): JPEGCodec scales by 4/8 to 550x350, then area-averages to 512x326; the
                           reference is Pillow's draft() at 1/2, area-averaged here in float64 with NumPy
                           (an implementation of exact area averaging independent of AreaReducer)
  jpeg-truncated.jpg       jpeg-progressive.jpg cut to 60% of its bytes
  jpeg-manifest.json       per fixture: the expected PNG, the libjpeg scale numerator, the tolerance
Tolerance: 0 levels where the reference is libjpeg's own output (full size and pure DCT scaling), 1 level after
area averaging (Float32 sums in Swift against float64 here).

Needs NumPy and Pillow. Run from the repository root:  /work/venv/bin/python scripts/make_jpeg_fixtures.py
"""
import io
import json
import math
import os

import numpy as np
from PIL import Image, ImageOps, features

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "DigitImageTests", "Fixtures")


def digit_picture(width, height, dark_on_light=True):
    """A '7' drawn with a thick stroke on a soft gradient; float64 gray in 0..255."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    u, v = x / width, y / height
    background = 200 + 40 * u - 20 * v if dark_on_light else 20 + 30 * u
    ink = np.zeros((height, width))
    thickness = 0.09
    # Top bar and the diagonal of a 7, distances in units of the shorter side.
    segments = [((0.25, 0.2), (0.75, 0.2)), ((0.75, 0.2), (0.42, 0.85))]
    for (x0, y0), (x1, y1) in segments:
        dx, dy = x1 - x0, y1 - y0
        t = np.clip(((u - x0) * dx + (v - y0) * dy) / (dx * dx + dy * dy), 0, 1)
        d = np.hypot((u - (x0 + t * dx)) * width, (v - (y0 + t * dy)) * height) / min(width, height)
        ink = np.maximum(ink, np.clip((thickness - d) / 0.02 + 0.5, 0, 1))
    level = 30 if dark_on_light else 235
    return background * (1 - ink) + level * ink


def colour_picture(width, height):
    gray = digit_picture(width, height)
    y, x = np.mgrid[0:height, 0:width].astype(np.float64)
    r = gray * (0.8 + 0.2 * np.sin(x / 3.0))
    g = gray * (0.7 + 0.3 * np.cos(y / 4.0))
    b = np.clip(gray + 60 * np.sin((x + y) / 5.0), 0, 255)
    return np.stack([r, g, b], axis=-1).clip(0, 255).round().astype(np.uint8)


def write_expected(name, image):
    """The reference pixels as an 8-bit RGBA PNG."""
    image.convert("RGBA").save(os.path.join(OUT, name), "PNG")


def save(name, image, **options):
    path = os.path.join(OUT, name)
    image.save(path, "JPEG", **options)
    return path


def decode(path, draft=None):
    im = Image.open(path)
    if draft is not None:
        im.draft(im.mode, draft)
    im.load()
    return im


def area_average(rgb, out_w, out_h):
    """Exact area averaging: output cell (o, p) covers source [o*W/out_w, (o+1)*W/out_w) x rows likewise."""
    h, w, _ = rgb.shape

    def matrix(n, m):
        a = np.zeros((m, n))
        for o in range(m):
            lo, hi = o * n / m, (o + 1) * n / m
            for i in range(int(math.floor(lo)), int(math.ceil(hi))):
                a[o, i] = (min(hi, i + 1) - max(lo, i)) * m / n
        return a

    rows, cols = matrix(h, out_h), matrix(w, out_w)
    out = np.einsum("ph,hwc->pwc", rows, rgb.astype(np.float64))
    out = np.einsum("pwc,ow->poc", out, cols)
    return np.clip(np.round(out), 0, 255).astype(np.uint8)


def main():
    os.makedirs(OUT, exist_ok=True)
    manifest = []

    def add(name, expected, scale=8, tolerance=0, orientation=1):
        manifest.append({"name": name, "expected": expected, "scaleNumerator": scale, "tolerance": tolerance,
                         "orientation": orientation})

    gray = Image.fromarray(digit_picture(37, 45).round().astype(np.uint8), "L")
    path = save("jpeg-gray.jpg", gray, quality=90)
    write_expected("jpeg-gray-expected.png", decode(path))
    add("jpeg-gray.jpg", "jpeg-gray-expected.png")

    colour = Image.fromarray(colour_picture(61, 47), "RGB")
    for name, options in [("jpeg-rgb420", {"subsampling": 2}), ("jpeg-rgb444", {"subsampling": 0}),
                          ("jpeg-progressive", {"subsampling": 2, "progressive": True})]:
        path = save(name + ".jpg", colour, quality=85, **options)
        write_expected(name + "-expected.png", decode(path))
        add(name + ".jpg", name + "-expected.png")

    cmyk = colour.convert("CMYK")
    path = save("jpeg-cmyk.jpg", cmyk, quality=90)
    im = decode(path)
    assert im.mode == "CMYK"
    write_expected("jpeg-cmyk-expected.png", im.convert("RGB"))
    add("jpeg-cmyk.jpg", "jpeg-cmyk-expected.png")

    for orientation in range(2, 9):
        exif = Image.Exif()
        exif[0x0112] = orientation
        name = f"jpeg-exif-{orientation}"
        path = save(name + ".jpg", colour, quality=85, subsampling=2, exif=exif.tobytes())
        im = decode(path)
        assert im.getexif().get(0x0112) == orientation
        write_expected(name + "-expected.png", ImageOps.exif_transpose(im))
        add(name + ".jpg", name + "-expected.png", orientation=orientation)

    big = Image.fromarray(digit_picture(2048, 1536).round().astype(np.uint8), "L").convert("RGB")
    path = save("jpeg-large-2048.jpg", big, quality=75, subsampling=2)
    im = decode(path, draft=(512, 384))
    assert im.size == (512, 384), im.size
    write_expected("jpeg-large-2048-expected.png", im)
    add("jpeg-large-2048.jpg", "jpeg-large-2048-expected.png", scale=2)

    wide = Image.fromarray(digit_picture(1100, 700, dark_on_light=False).round().astype(np.uint8), "L").convert("RGB")
    path = save("jpeg-large-1100.jpg", wide, quality=75, subsampling=2)
    im = decode(path, draft=(550, 350))
    assert im.size == (550, 350), im.size
    reduced = area_average(np.asarray(im, dtype=np.uint8), 512, 326)
    write_expected("jpeg-large-1100-expected.png", Image.fromarray(reduced, "RGB"))
    add("jpeg-large-1100.jpg", "jpeg-large-1100-expected.png", scale=4, tolerance=1)

    data = open(os.path.join(OUT, "jpeg-progressive.jpg"), "rb").read()
    with open(os.path.join(OUT, "jpeg-truncated.jpg"), "wb") as f:
        f.write(data[: len(data) * 6 // 10])

    with open(os.path.join(OUT, "jpeg-manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    print(f"wrote {len(manifest)} JPEG fixtures (Pillow {Image.__version__}, "
          f"libjpeg-turbo {features.version('libjpeg_turbo')}) to {os.path.normpath(OUT)}")


if __name__ == "__main__":
    main()
