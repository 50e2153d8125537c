"""Images are made acceptable to WeChat: formats converted, sizes brought under the limits."""

from __future__ import annotations

import io
import os

from PIL import Image

from publisher.assets import BODY_LIMIT, prepare_body_image, prepare_cover


def noisy(size, mode="RGB"):
    return Image.frombytes(mode, size, os.urandom(size[0] * size[1] * len(mode)))


def test_jpeg_and_png_under_the_limit_are_sent_as_they_are(tmp_path):
    path = tmp_path / "a.png"
    Image.new("RGB", (200, 100), "white").save(path)
    prepared = prepare_body_image(path)
    assert prepared.data == path.read_bytes() and prepared.endpoint == "uploadimg" and prepared.note == ""
    assert prepared.filename.endswith(".png") and prepared.filename.startswith(prepared.sha256[:16])


def test_webp_is_converted_and_keeps_transparency(tmp_path):
    path = tmp_path / "a.webp"
    Image.new("RGBA", (120, 80), (255, 0, 0, 128)).save(path)
    prepared = prepare_body_image(path)
    image = Image.open(io.BytesIO(prepared.data))
    assert image.format == "PNG" and image.mode == "RGBA" and "WEBP converted" in prepared.note


def test_bmp_and_tiff_are_converted(tmp_path):
    for name in ("a.bmp", "a.tiff"):
        path = tmp_path / name
        Image.new("RGB", (64, 64), "blue").save(path)
        assert Image.open(io.BytesIO(prepare_body_image(path).data)).format in ("PNG", "JPEG")


def test_an_oversized_photo_is_recompressed_under_1_mb(tmp_path):
    path = tmp_path / "big.png"
    noisy((1400, 1000)).save(path)
    assert path.stat().st_size > BODY_LIMIT
    prepared = prepare_body_image(path)
    assert prepared.size <= BODY_LIMIT and Image.open(io.BytesIO(prepared.data)).format == "JPEG"
    assert "recompressed" in prepared.note


def test_animated_gif_goes_to_material_unchanged(tmp_path):
    path = tmp_path / "anim.gif"
    frames = [Image.new("RGB", (40, 40), colour) for colour in ("red", "green", "blue")]
    frames[0].save(path, save_all=True, append_images=frames[1:], duration=100, loop=0)
    prepared = prepare_body_image(path)
    assert prepared.endpoint == "material" and prepared.data == path.read_bytes()
    assert getattr(Image.open(io.BytesIO(prepared.data)), "n_frames", 1) == 3


def test_still_gif_becomes_png_for_uploadimg(tmp_path):
    path = tmp_path / "still.gif"
    Image.new("P", (40, 40), 3).save(path)
    prepared = prepare_body_image(path)
    assert prepared.endpoint == "uploadimg" and Image.open(io.BytesIO(prepared.data)).format in ("PNG", "JPEG")


def test_cover_goes_to_material(tmp_path):
    path = tmp_path / "cover.jpg"
    Image.new("RGB", (900, 383), "green").save(path)
    prepared = prepare_cover(path)
    assert prepared.endpoint == "material" and prepared.data == path.read_bytes()


def test_same_bytes_same_key_whatever_the_name(tmp_path):
    first, second = tmp_path / "x.png", tmp_path / "y.png"
    Image.new("RGB", (10, 10), "red").save(first)
    second.write_bytes(first.read_bytes())
    assert prepare_body_image(first).sha256 == prepare_body_image(second).sha256
