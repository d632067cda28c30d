"""The pixel limit: an image's size read from its header, and an image too large refused before decoding."""

import io
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from mffcnn import predict as lib
from mffcnn.cli import main
from mffcnn.data.images import MAX_PIXELS, ImageError, ImageTooLarge, decode_image, header_pixels, read_image

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from serve_limits import png_of_zeros  # noqa: E402


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "BMP", "TIFF", "WEBP", "GIF", "PPM"])
def test_header_pixels_of_every_common_format(fmt):
    buffer = io.BytesIO()
    Image.fromarray(np.zeros((30, 70), np.uint8)).save(buffer, fmt)
    assert header_pixels(buffer.getvalue()) == 30 * 70
    assert decode_image(buffer.getvalue()).shape[:2] == (30, 70)


def test_unknown_or_damaged_headers_are_not_decoded_under_a_limit():
    assert header_pixels(b"not an image at all") is None
    assert header_pixels(b"\x89PNG\r\n\x1a\n" + b"\0" * 10) is None
    with pytest.raises(ImageError, match="not an image in a format read here"):
        decode_image(b"not an image at all")
    with pytest.raises(ImageError, match="corrupt or truncated: its header cannot be read; it was not decoded"):
        decode_image(b"\x89PNG\r\n\x1a\n" + b"\0" * 10)
    with pytest.raises(ImageError, match="not a readable image"):  # no limit: the decoder has the word
        decode_image(b"not an image at all", max_pixels=None)


def test_a_decompression_bomb_is_refused_from_its_header():
    bomb = png_of_zeros(30_000, 30_000, rows=1)  # 900 MP once decoded
    start = time.perf_counter()
    with pytest.raises(ImageTooLarge, match="900.0 megapixels is over the limit of 40") as e:
        decode_image(bomb)
    assert time.perf_counter() - start < 1.0 and e.value.pixels == 900_000_000
    with pytest.raises(ImageTooLarge, match="over the limit of 0.001"):
        decode_image(png_of_zeros(100, 100), max_pixels=1000)  # below Pillow's own bomb limit too
    assert decode_image(png_of_zeros(100, 100), max_pixels=None).shape == (100, 100)
    assert MAX_PIXELS == 40_000_000


def test_predict_counts_a_too_large_image_as_unreadable_with_a_warning(tmp_path, capsys):
    (tmp_path / "bomb.png").write_bytes(png_of_zeros(30_000, 30_000, rows=1))
    (tmp_path / "astronaut.png").write_bytes(lib.SAMPLE_IMAGE.read_bytes())
    result = lib.predict(tmp_path)
    assert [(r.file.rsplit("/", 1)[1], r.status) for r in result.results] == [
        ("astronaut.png", "ok"),
        ("bomb.png", "unreadable"),
    ]
    assert result.summary.unreadable == 1 and result.summary.faces == 1
    err = capsys.readouterr().err
    assert "bomb.png: image of 900.0 megapixels is over the limit of 40" in err and "--max-megapixels" in err
    with pytest.raises(ImageTooLarge):
        read_image(tmp_path / "bomb.png")
    assert read_image(tmp_path / "astronaut.png", max_pixels=512 * 512).shape == (512, 512, 3)
    assert lib.predict(tmp_path / "astronaut.png", max_pixels=1000).summary.unreadable == 1


def test_cli_max_megapixels(tmp_path, capsys):
    photo = tmp_path / "astronaut.png"
    photo.write_bytes(lib.SAMPLE_IMAGE.read_bytes())
    assert main(["predict", str(photo), "-o", str(tmp_path / "a"), "-q", "--max-megapixels", "0.2"]) == 0
    out = capsys.readouterr()
    assert "1 unreadable file" in out.out and "over the limit of 0.2" in out.err
    assert main(["predict", str(photo), "-o", str(tmp_path / "b"), "-q", "--max-megapixels", "0.3"]) == 0
    assert "1 face" in capsys.readouterr().out
    with pytest.raises(SystemExit) as e:  # refused while parsing (commands/values.py)
        main(["predict", str(photo), "--max-megapixels", "0"])
    assert e.value.code == 2
    assert "argument --max-megapixels: must be a finite number above 0, not '0'" in capsys.readouterr().err
