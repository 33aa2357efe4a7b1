#!/usr/bin/env python3
"""Writes the PNG fixtures of the DigitImage tests to Tests/DigitImageTests/Fixtures.

Every PNG colour type and bit depth (gray 1/2/4/8/16, gray + alpha 8/16, RGB 8/16, RGBA 8/16, palette 1/2/4/8
with and without tRNS, gray and RGB with tRNS) and Adam7 interlacing, written by hand with zlib + struct (an
encoder independent of libpng), all showing the same binary digit in different colours, polarities and
transparencies. Also writes:
  digit-mask.pgm          the digit (255 ink, 0 background), the ground truth every variant encodes;
  digit-expected-28x28.pgm the MNIST-style 28x28 result computed here by an independent NumPy implementation
                          of the recipe in DigitPreprocessor (crop, area-average to fit 20x20, centre of mass);
  mnist-like-28.png/.pgm  a 28x28 anti-aliased light-on-dark gray image that must pass through unchanged;
  ramp-*.png / ramp-*.pam every colour type and bit depth again, plain and Adam7, as ramps: the samples run
                          through every level of the bit depth (for 16 bits every 8-bit level v*257 and both
                          sides of each rounding boundary, 257k+128 and 257k+129), each channel shifted, and
                          tRNS picking one colour; the .pam (P7, RGB_ALPHA, 8-bit) is what pypng decodes from
                          the .png with Reader.asRGBA8(), the reference the decoder must match byte for byte;
  gray16-all(-adam7).png  256x256 16-bit gray holding each of the 65536 values once (row y, column x: 256y + x);
                          pypng's 8-bit reading of it is checked here to be round(v / 257);
  adam7-WxH.png / .pam    8-bit RGBA ramps of tiny sizes, whose Adam7 passes are partly empty;
  manifest.json           per fixture: colour type, bit depth, interlace, and either the expected RGBA of ink
                          and background (the two-tone digits) or the name of the expected .pam (the ramps).

Needs NumPy and pypng (pip install pypng). Run from the repository root:
python3 scripts/make_png_fixtures.py
"""
import json
import math
import os
import struct
import zlib

import numpy as np
import png  # pypng: the reference decoder of the ramps (Pillow truncates or clamps 16-bit samples)

OUT = os.path.join(os.path.dirname(__file__), "..", "Tests", "DigitImageTests", "Fixtures")
WIDTH, HEIGHT = 37, 45


def digit_mask():
    """A '4' drawn with 5-pixel strokes; a pixel is ink when its centre is within 2.6 px of a segment."""
    segments = [((25, 7), (7, 30)), ((7, 30), (31, 30)), ((25, 7), (25, 39))]
    mask = np.zeros((HEIGHT, WIDTH), dtype=np.uint8)
    for y in range(HEIGHT):
        for x in range(WIDTH):
            for (x0, y0), (x1, y1) in segments:
                dx, dy = x1 - x0, y1 - y0
                t = max(0.0, min(1.0, ((x - x0) * dx + (y - y0) * dy) / (dx * dx + dy * dy)))
                if math.hypot(x - (x0 + t * dx), y - (y0 + t * dy)) <= 2.6:
                    mask[y, x] = 255
    return mask


def chunk(kind, data):
    body = kind + data
    return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def filter_rows(rows, bpp):
    """Filters each scanline with filter type (row index mod 5), so all five filters are exercised."""
    out = bytearray()
    prev = bytes(len(rows[0])) if rows else b""
    for r, row in enumerate(rows):
        kind = r % 5
        out.append(kind)
        for i, v in enumerate(row):
            a = row[i - bpp] if i >= bpp else 0
            b = prev[i]
            c = prev[i - bpp] if i >= bpp else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][kind]
            out.append((v - pred) & 0xFF)
        prev = row
    return bytes(out)


def pack_row(samples, depth):
    """Packs one row of samples (ints) at `depth` bits each, most significant first."""
    if depth == 8:
        return bytes(samples)
    if depth == 16:
        return b"".join(struct.pack(">H", s) for s in samples)
    out = bytearray()
    per = 8 // depth
    for i in range(0, len(samples), per):
        byte = 0
        group = samples[i:i + per]
        for j, s in enumerate(group):
            byte |= s << (8 - depth * (j + 1))
        out.append(byte)
    return bytes(out)


ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def write_png(path, pixels, color_type, depth, interlace=False, palette=None, trns=None):
    """pixels: HxWxC integer array of samples (C = channels of the colour type)."""
    h, w, channels = pixels.shape
    bpp = max(1, channels * depth // 8)
    if interlace:
        data = b""
        for x0, y0, dx, dy in ADAM7:
            sub = pixels[y0::dy, x0::dx]
            if sub.shape[0] == 0 or sub.shape[1] == 0:
                continue
            rows = [pack_row([int(s) for s in sub[y].reshape(-1)], depth) for y in range(sub.shape[0])]
            data += filter_rows(rows, bpp)
    else:
        rows = [pack_row([int(s) for s in pixels[y].reshape(-1)], depth) for y in range(h)]
        data = filter_rows(rows, bpp)
    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color_type, 0, 0, 1 if interlace else 0))
    if palette is not None:
        png += chunk(b"PLTE", b"".join(bytes(c) for c in palette))
    if trns is not None:
        png += chunk(b"tRNS", trns)
    png += chunk(b"IDAT", zlib.compress(data, 9))
    png += chunk(b"IEND", b"")
    with open(path, "wb") as f:
        f.write(png)


def two_tone(mask, ink, background):
    """An HxWxC array with `ink` samples where the mask is set and `background` elsewhere."""
    ink = np.array(ink, dtype=np.int64)
    background = np.array(background, dtype=np.int64)
    return np.where(mask[:, :, None] > 0, ink[None, None, :], background[None, None, :])


def area_weights(n, m):
    w = np.zeros((m, n))
    for o in range(m):
        start, end = o * n / m, (o + 1) * n / m
        for i in range(int(math.floor(start)), min(n, int(math.ceil(end)))):
            overlap = min(end, i + 1) - max(start, i)
            if overlap > 0:
                w[o, i] = overlap / (end - start)
    return w


def mnist_reference(ink):
    """The MNIST recipe on an ink map in 0..255 (no polarity/contrast steps: the mask is already 0/255)."""
    ys, xs = np.nonzero(ink)
    crop = ink[ys.min():ys.max() + 1, xs.min():xs.max() + 1].astype(np.float64)
    bh, bw = crop.shape
    longer = max(bw, bh)
    sw = max(1, int(round(bw * 20 / longer)))
    sh = max(1, int(round(bh * 20 / longer)))
    scaled = area_weights(bh, sh) @ crop @ area_weights(bw, sw).T
    total = scaled.sum()
    cy = (scaled.sum(axis=1) * np.arange(sh)).sum() / total
    cx = (scaled.sum(axis=0) * np.arange(sw)).sum() / total
    for c in (cx, cy):
        frac = (14 - c) % 1
        assert abs(frac - 0.5) > 0.01, "centre of mass too close to a rounding tie; change the digit"
    ox = min(max(int(np.round(14 - cx)), 0), 28 - sw)
    oy = min(max(int(np.round(14 - cy)), 0), 28 - sh)
    out = np.zeros((28, 28))
    out[oy:oy + sh, ox:ox + sw] = scaled
    return np.clip(np.floor(out + 0.5), 0, 255).astype(np.uint8)


def ramp_levels(depth):
    """The sample values a ramp cycles through: every level of the depth; for 16 bits every v*257 and the
    two values either side of each 8-bit rounding boundary (257k + 128 -> k, 257k + 129 -> k + 1)."""
    if depth < 16:
        return list(range(2 ** depth))
    levels = [257 * k for k in range(256)]
    levels += [257 * k + off for k in range(255) for off in (128, 129)]
    return levels


def ramp_samples(width, height, channels, depth, seed):
    """An HxWxC array: channel c of pixel i (row-major) is levels[(i + 101 c) mod n], the rest of a
    too-long list replaced by seeded random values; so every level appears and no two rows are alike."""
    levels = ramp_levels(depth)
    rng = np.random.default_rng(seed)
    n = width * height
    index = np.arange(n)
    out = np.zeros((n, channels), dtype=np.int64)
    table = np.array(levels, dtype=np.int64)
    for c in range(channels):
        picks = (index + 101 * c) % len(table)
        out[:, c] = table[picks]
        if n > len(table):  # beyond one cycle: random samples, so rounding is tried on other values too
            extra = index >= len(table)
            out[extra, c] = rng.integers(0, 2 ** depth, size=int(extra.sum()))
    return out.reshape(height, width, channels)


def write_pam(path, width, height, rgba):
    with open(path, "wb") as f:
        f.write(b"P7\nWIDTH %d\nHEIGHT %d\nDEPTH 4\nMAXVAL 255\nTUPLTYPE RGB_ALPHA\nENDHDR\n" % (width, height))
        f.write(bytes(rgba))


def pypng_rgba8(path):
    """What pypng decodes: 8-bit RGBA, row-major (asRGBA8 scales by round(v * 255 / maxval))."""
    width, height, rows, _ = png.Reader(filename=path).asRGBA8()
    data = bytearray()
    for row in rows:
        data.extend(bytes(row))
    assert len(data) == width * height * 4
    return width, height, data


def write_ramps(manifest):
    width, height = 37, 29  # 1073 pixels: more than the 766 16-bit levels; neither side a multiple of 8
    kinds = []  # (name, colour type, depth, channels, palette?, trns?)
    for depth in (1, 2, 4, 8, 16):
        kinds.append(("gray%d" % depth, 0, depth, 1, False, False))
        kinds.append(("gray%d-trns" % depth, 0, depth, 1, False, True))
    for depth in (8, 16):
        kinds.append(("gray-alpha%d" % depth, 4, depth, 2, False, False))
        kinds.append(("rgb%d" % depth, 2, depth, 3, False, False))
        kinds.append(("rgb%d-trns" % depth, 2, depth, 3, False, True))
        kinds.append(("rgba%d" % depth, 6, depth, 4, False, False))
    for depth in (1, 2, 4, 8):
        kinds.append(("palette%d" % depth, 3, depth, 1, True, False))
        kinds.append(("palette%d-trns" % depth, 3, depth, 1, True, True))
    for seed, (kind, color_type, depth, channels, indexed, transparent) in enumerate(kinds):
        samples = ramp_samples(width, height, channels, depth, seed)
        palette = trns = None
        if indexed:
            entries = 2 ** depth
            palette = [((37 * j + 11) % 256, (255 - 53 * j) % 256, (91 * j) % 256) for j in range(entries)]
            if transparent:  # shorter than the palette: the entries past it stay opaque
                trns = bytes((255 - 97 * j) % 256 for j in range(max(1, entries - 1)))
        elif transparent:
            chosen = samples[height // 2, width // 3]  # a colour the image holds, made transparent
            trns = struct.pack(">" + "H" * channels, *[int(v) for v in chosen])
        for interlace in (False, True):
            name = "ramp-" + kind + ("-adam7" if interlace else "")
            path = os.path.join(OUT, name + ".png")
            write_png(path, samples, color_type, depth, interlace, palette, trns)
            w, h, rgba = pypng_rgba8(path)
            write_pam(os.path.join(OUT, name + ".pam"), w, h, rgba)
            manifest.append({
                "name": name, "colorType": color_type, "bitDepth": depth, "interlaced": interlace,
                "expected": name + ".pam",
            })

    # Tiny Adam7 images: passes with no column or no row carry no data and must be skipped.
    for w, h in [(1, 1), (1, 9), (2, 1), (3, 3), (5, 2), (7, 7), (8, 8), (9, 1), (10, 11)]:
        name = "adam7-%dx%d" % (w, h)
        path = os.path.join(OUT, name + ".png")
        write_png(path, ramp_samples(w, h, 4, 8, w * 100 + h), 6, 8, True)
        pw, ph, rgba = pypng_rgba8(path)
        write_pam(os.path.join(OUT, name + ".pam"), pw, ph, rgba)
        manifest.append({"name": name, "colorType": 6, "bitDepth": 8, "interlaced": True, "expected": name + ".pam"})

    # Every 16-bit value once; the tests check round(v / 257), which pypng gives too.
    all_values = np.arange(65536, dtype=np.int64).reshape(256, 256, 1)
    for interlace in (False, True):
        name = "gray16-all" + ("-adam7" if interlace else "")
        path = os.path.join(OUT, name + ".png")
        write_png(path, all_values, 0, 16, interlace)
        _, _, rgba = pypng_rgba8(path)
        assert list(rgba[0::4]) == [int(math.floor(v / 257 + 0.5)) for v in range(65536)], name


def write_pgm(path, image):
    h, w = image.shape
    with open(path, "w") as f:
        f.write(f"P2\n{w} {h}\n255\n")
        for row in image:
            f.write(" ".join(str(int(v)) for v in row) + "\n")


def main():
    os.makedirs(OUT, exist_ok=True)
    mask = digit_mask()
    manifest = []

    def add(name, color_type, depth, ink, background, ink_rgba, background_rgba, interlace=False,
            palette=None, trns=None, channels=None):
        samples = two_tone(mask, ink, background)
        write_png(os.path.join(OUT, name + ".png"), samples, color_type, depth, interlace, palette, trns)
        manifest.append({
            "name": name, "colorType": color_type, "bitDepth": depth, "interlaced": interlace,
            "ink": ink_rgba, "background": background_rgba,
        })

    white, black = [255, 255, 255, 255], [0, 0, 0, 255]
    clear = [0, 0, 0, 0]
    for interlace in (False, True):
        suffix = "-adam7" if interlace else ""
        add("gray1" + suffix, 0, 1, [1], [0], white, black, interlace)
        add("gray2" + suffix, 0, 2, [0], [3], black, white, interlace)
        add("gray4" + suffix, 0, 4, [15], [0], white, black, interlace)
        add("gray8" + suffix, 0, 8, [255], [0], white, black, interlace)
        add("gray16" + suffix, 0, 16, [0], [65535], black, white, interlace)
        add("gray8-trns" + suffix, 0, 8, [0], [255], black, [255, 255, 255, 0], interlace,
            trns=struct.pack(">H", 255))
        add("gray4-trns" + suffix, 0, 4, [15], [0], white, clear, interlace, trns=struct.pack(">H", 0))
        add("gray-alpha8" + suffix, 4, 8, [0, 255], [0, 0], black, clear, interlace)
        add("gray-alpha16" + suffix, 4, 16, [65535, 65535], [0, 0], white, clear, interlace)
        add("rgb8" + suffix, 2, 8, [20, 30, 120], [255, 255, 255], [20, 30, 120, 255], white, interlace)
        add("rgb16" + suffix, 2, 16, [65535, 65535, 65535], [0, 0, 0], white, black, interlace)
        add("rgb8-trns" + suffix, 2, 8, [0, 0, 0], [255, 255, 255], black, [255, 255, 255, 0], interlace,
            trns=struct.pack(">HHH", 255, 255, 255))
        add("rgba8" + suffix, 6, 8, [255, 0, 0, 255], [0, 0, 0, 0], [255, 0, 0, 255], clear, interlace)
        add("rgba16" + suffix, 6, 16, [0, 0, 0, 65535], [65535] * 4, black, white, interlace)
        add("palette1" + suffix, 3, 1, [1], [0], black, white, interlace,
            palette=[(255, 255, 255), (0, 0, 0)])
        add("palette2-trns" + suffix, 3, 2, [1], [2], black, [200, 200, 200, 0], interlace,
            palette=[(10, 10, 10), (0, 0, 0), (200, 200, 200), (90, 90, 90)], trns=bytes([255, 255, 0]))
        palette16 = [(17 * i, 255 - 17 * i, (40 * i) % 256) for i in range(16)]
        palette16[9] = (250, 250, 250)
        add("palette4-trns" + suffix, 3, 4, [9], [5], [250, 250, 250, 255], [85, 170, 200, 0], interlace,
            palette=palette16, trns=bytes([255] * 5 + [0]))
        palette256 = [(i, (i * 7) % 256, 255 - i) for i in range(256)]
        palette256[200] = (0, 0, 0)
        palette256[17] = (255, 255, 255)
        add("palette8" + suffix, 3, 8, [200], [17], black, white, interlace, palette=palette256)

    write_pgm(os.path.join(OUT, "digit-mask.pgm"), mask)
    write_pgm(os.path.join(OUT, "digit-expected-28x28.pgm"), mnist_reference(mask))

    # An MNIST-like 28x28 picture: soft ring, light on dark, many distinct gray levels.
    yy, xx = np.mgrid[0:28, 0:28]
    radius = np.hypot(xx - 13.6, yy - 14.2)
    ring = np.clip(255 * (1 - np.abs(radius - 7.5) / 2.5), 0, 255)
    ring[radius > 11] = 0
    like = np.floor(ring).astype(np.uint8)
    write_png(os.path.join(OUT, "mnist-like-28.png"), like[:, :, None], 0, 8)
    write_pgm(os.path.join(OUT, "mnist-like-28.pgm"), like)

    write_ramps(manifest)

    with open(os.path.join(OUT, "manifest.json"), "w") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")


if __name__ == "__main__":
    main()
