"""The windows of a wide environment: where they go, how they blend, and the looped resize."""

import numpy as np
import pytest
import torch
from PIL import Image

from previz_app.engine.diffusion.tiling import Grid, blend, blend_image, blend_rows, ramp, signed, starts


@pytest.mark.parametrize("wrap", [False, True])
@pytest.mark.parametrize(("length", "window", "overlap"), [(24, 8, 0.25), (25, 8, 0.5), (8, 8, 0.25), (30, 12, 0.0)])
def test_windows_cover_every_cell_and_a_wrapped_joint_lies_inside_one(length, window, overlap, wrap):
    begins = starts(length, window, overlap, wrap)
    covered = np.zeros(length, int)
    for begin in begins:
        covered[np.arange(begin, begin + window) % length] += 1
        assert wrap or begin + window <= length
    assert covered.min() >= 1
    assert not wrap or any(begin + window > length for begin in begins)


def test_blend_weights_rise_smoothly_from_the_edges_and_never_vanish():
    weights = ramp(16, 4).numpy()
    assert np.allclose(weights, weights[::-1])  # symmetric
    assert 0 < weights[0] < 0.05 and np.all(weights[4:12] == 1.0)
    assert np.all(np.diff(weights[:5]) > 0)  # a window fades in over its overlap, not at once


@pytest.mark.parametrize("wrap", [False, True])
def test_blending_what_the_windows_leave_unchanged_gives_back_the_picture(wrap):
    source = torch.randn(1, 3, 20, 44, generator=torch.Generator().manual_seed(0))
    grid = Grid.cover(20, 44, 12, 0.3, wrap)
    assert len(grid.places) > 4
    out = blend(source, grid, grid, lambda windows: windows * 1.0, channels=3, batch=3, device="cpu")
    assert torch.allclose(out, source, atol=1e-6)
    doubled = blend(source, grid, grid.scaled(2), lambda w: w.repeat_interleave(2, -1).repeat_interleave(2, -2),
                    channels=3, batch=2, device="cpu")
    assert torch.allclose(doubled, source.repeat_interleave(2, -1).repeat_interleave(2, -2), atol=1e-6)


@pytest.mark.parametrize("wrap", [False, True])
def test_only_wrapped_windows_carry_the_last_column_into_the_first(wrap):
    source = torch.zeros(1, 1, 8, 24)
    source[..., -1] = 1.0  # something only in the last column
    grid = Grid.cover(8, 24, 8, 0.25, wrap)
    spread = blend(source, grid, grid, lambda w: w.mean(dim=(-2, -1), keepdim=True).expand_as(w).clone(),
                   channels=1, batch=4, device="cpu")
    assert bool(spread[..., 0].abs().min() > 0) is wrap


def whole_canvas_blend(source, grid, work, channels):
    """The blend as first written: every window added into a whole-canvas sum of
    weighted results and one of weights, then divided (what the strip must equal)."""
    total, weight_sum, weight = torch.zeros(channels, grid.height, grid.width), torch.zeros(1, grid.height, grid.width), grid.weights()
    for place in grid.places:
        grid.add(total, work(grid.gather(source, [place]))[0] * weight, place)
        grid.add(weight_sum, weight, place)
    return (total / weight_sum)[None]


@pytest.mark.parametrize("wrap", [False, True])
def test_blending_row_by_row_equals_the_whole_canvas_sum_to_the_bit(wrap):
    source = torch.randn(1, 3, 40, 52, generator=torch.Generator().manual_seed(1))
    grid, calls = Grid.cover(40, 52, 12, 0.3, wrap), []
    assert len(grid.tops) > 3  # the strip moves down several times

    def work(windows):
        calls.append(len(windows))
        return torch.tanh(windows * 3 + windows.mean(dim=(-2, -1), keepdim=True))

    expected = whole_canvas_blend(source, grid, work, 3)
    assert torch.equal(blend(source, grid, grid, work, channels=3, batch=5, device="cpu"), expected)
    calls.clear()
    rows = blend_rows(source, grid, grid, work, channels=3, batch=1, device="cpu")
    assert next(rows)[0] == 0 and len(calls) == len(grid.lefts) + 1  # the top rows come before the rest is run
    bands = list(blend_rows(source, grid, grid, work, channels=3, batch=5, device="cpu"))
    assert [top for top, _ in bands] == list(grid.tops) and sum(band.shape[1] for _, band in bands) == 40
    assert all(band.shape[1] <= grid.rows for _, band in bands)  # never more than one window's rows held
    picture = blend_image(source, grid, grid, work, batch=5, device="cpu")
    levels = ((expected[0] / 2 + 0.5).clamp(0, 1).permute(1, 2, 0).numpy() * 255).round().astype(np.uint8)
    assert picture.size == (52, 40) and np.array_equal(np.asarray(picture), levels)


def test_windows_cut_from_a_picture_are_its_pixels_and_convert_like_a_whole_picture():
    array = np.random.default_rng(3).integers(0, 256, (30, 50, 3), dtype=np.uint8)
    grid = Grid.cover(30, 50, 16, 0.25, True)
    whole = torch.from_numpy(array).permute(2, 0, 1)[None]
    cut = grid.gather(Image.fromarray(array), grid.places)
    assert cut.dtype == torch.uint8 and torch.equal(cut, grid.gather(whole, grid.places))
    converted = torch.from_numpy(array.astype(np.float32) / 127.5 - 1).permute(2, 0, 1)[None]
    assert torch.equal(signed(cut), grid.gather(converted, grid.places))
