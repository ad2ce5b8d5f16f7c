"""Plate colour: OpenColorIO's pinned built-in config, quantization and dither."""

from __future__ import annotations

import numpy as np
import PyOpenColorIO as ocio
import pytest

from previz_app.export import plate_colour
from previz_app.export.plate_colour import (
    ACESCG,
    LINEAR_REC709,
    OCIO_CONFIG,
    SRGB,
    acescg_to_srgb,
    colour_space_name,
    convert,
    srgb_to_acescg,
    srgb_to_linear_rec709,
    to_uint8,
    to_uint16,
)


def _srgb_decode(v):
    """IEC 61966-2-1, written out here so the test does not lean on OpenColorIO."""
    v = np.asarray(v, dtype=np.float64)
    return np.where(v <= 0.04045, v / 12.92, ((v + 0.055) / 1.055) ** 2.4)


# Rec.709 (D65) to ACEScg (AP1, D60) with Bradford adaptation, as published by the ACES project.
REC709_TO_AP1 = np.array([
    [0.6130974, 0.3395231, 0.0473795],
    [0.0701937, 0.9163539, 0.0134524],
    [0.0206156, 0.1095698, 0.8698147],
])


def test_the_config_is_pinned_and_built_in():
    names = [entry[0] for entry in ocio.BuiltinConfigRegistry().getBuiltinConfigs()]
    assert OCIO_CONFIG in names
    assert "latest" not in OCIO_CONFIG and "v2.2.0" in OCIO_CONFIG
    assert plate_colour.colour_config().getName() == OCIO_CONFIG
    for space in (ACESCG, SRGB, LINEAR_REC709):
        assert colour_space_name(space) == space
    assert colour_space_name("sRGB - Texture") == SRGB  # the config's alias


def test_an_unknown_colour_space_is_refused_with_the_known_ones():
    with pytest.raises(ValueError, match="unknown colour space 'sRGB-ish'.*ACEScg"):
        convert(np.zeros(3), "sRGB-ish", ACESCG)


def test_srgb_to_acescg_matches_the_published_transfer_and_matrix():
    rng = np.random.default_rng(1)
    srgb = rng.random((17, 5, 3)).astype(np.float32)
    expected = _srgb_decode(srgb) @ REC709_TO_AP1.T
    got = srgb_to_acescg(srgb)
    assert got.dtype == np.float32 and got.shape == srgb.shape
    np.testing.assert_allclose(got, expected, atol=2e-4)
    np.testing.assert_allclose(srgb_to_linear_rec709(srgb), _srgb_decode(srgb), atol=2e-4)


def test_mid_grey_survives_the_round_trip():
    grey = np.full((4, 4, 3), 0.5, np.float32)
    linear = srgb_to_acescg(grey)
    np.testing.assert_allclose(linear, 0.214041, atol=1e-4)  # sRGB 0.5 is 21.4% linear, grey in any primaries
    back = acescg_to_srgb(linear)
    np.testing.assert_allclose(back, grey, atol=1e-3)
    assert np.abs(to_uint16(back).astype(int) - to_uint16(grey).astype(int)).max() <= 1
    # 18% scene grey the other way round.
    eighteen = np.full((1, 3), 0.18, np.float32)
    np.testing.assert_allclose(srgb_to_acescg(acescg_to_srgb(eighteen)), eighteen, atol=1e-3)


def test_a_full_range_ramp_round_trips_within_one_16_bit_step():
    ramp = np.linspace(0, 1, 4097, dtype=np.float32)
    rgb = np.stack([ramp, ramp[::-1], np.roll(ramp, 1000)], axis=-1)
    back = acescg_to_srgb(srgb_to_acescg(rgb))
    assert np.abs(to_uint16(back).astype(int) - to_uint16(rgb).astype(int)).max() <= 1


def test_convert_leaves_its_input_alone_and_refuses_non_rgb():
    rgb = np.full((2, 3), 0.5, np.float32)
    convert(rgb, SRGB, ACESCG)
    assert np.all(rgb == 0.5)
    with pytest.raises(ValueError, match="last axis is 3"):
        convert(np.zeros((2, 4)), SRGB, ACESCG)


def test_to_uint16_rounds_and_clips():
    values = np.array([-0.5, 0.0, 0.5 / 65535, 1.4 / 65535, 1.0, 2.0, np.nan], np.float32)
    assert to_uint16(values).tolist() == [0, 0, 0, 1, 65535, 65535, 0]  # rint: half to even


def test_to_uint8_without_dither_is_plain_rounding():
    values = np.linspace(0, 1, 1000, dtype=np.float32)
    assert np.array_equal(to_uint8(values), np.rint(values * 255).astype(np.uint8))


def _longest_flat_run(row: np.ndarray) -> int:
    changes = np.flatnonzero(np.diff(row.astype(int)) != 0)
    edges = np.concatenate([[-1], changes, [row.size - 1]])
    return int(np.diff(edges).max())


def test_dither_breaks_the_bands_of_a_slow_sky_gradient():
    # A sky going from 0.40 to 0.42 across 2048 px: about five 8-bit levels, bands ~400 px wide.
    width, height = 2048, 48
    sky = np.broadcast_to(np.linspace(0.40, 0.42, width, dtype=np.float32)[None, :, None], (height, width, 3))
    plain = to_uint8(sky)
    dithered = to_uint8(sky, dither=True, seed=7)
    band = 100
    assert min(_longest_flat_run(row) for row in plain[..., 0]) > band
    assert max(_longest_flat_run(row) for row in dithered[..., 1]) < band
    assert np.abs(dithered.astype(int) - np.rint(sky * 255).astype(int)).max() <= 1  # ±1 LSB of grain
    # The grain averages out to the true gradient, which plain rounding does not.
    truth = sky[0, :, 0].reshape(-1, 16).mean(axis=1) * 255
    dithered_mean = dithered.astype(np.float64).mean(axis=(0, 2)).reshape(-1, 16).mean(axis=1)
    plain_mean = plain.astype(np.float64).mean(axis=(0, 2)).reshape(-1, 16).mean(axis=1)
    assert np.abs(dithered_mean - truth).max() < 0.1
    assert np.abs(plain_mean - truth).max() > 0.3


def test_dither_is_repeatable_by_seed():
    sky = np.full((8, 8, 3), 0.5, np.float32)
    assert np.array_equal(to_uint8(sky, True, seed=3), to_uint8(sky, True, seed=3))
    assert not np.array_equal(to_uint8(sky, True, seed=3), to_uint8(sky, True, seed=4))


def test_dither_grain_belongs_to_the_canvas_position():
    # A band or a tile dithered where it sits on the canvas gets the whole plate's grain.
    rng = np.random.default_rng(2)
    canvas = rng.random((40, 90, 3), dtype=np.float32)
    whole = to_uint8(canvas, dither=True, seed=1)
    for row0, col0, rows, cols in ((0, 0, 40, 90), (7, 0, 13, 90), (20, 33, 20, 57), (39, 89, 1, 1)):
        part = to_uint8(canvas[row0:row0 + rows, col0:col0 + cols], dither=True, seed=1, origin=(row0, col0))
        assert np.array_equal(part, whole[row0:row0 + rows, col0:col0 + cols])
    # ... and not the grain of somewhere else: the same values moved down a row dither differently.
    moved = to_uint8(canvas[:20], dither=True, seed=1, origin=(1, 0))
    assert not np.array_equal(moved, whole[:20])
    flat = np.full((64, 64, 3), 0.5 + 0.3 / 255, np.float32)  # between two levels: the grain decides
    grain = to_uint8(flat, dither=True).astype(int)
    assert set(np.unique(grain)) <= {127, 128, 129} and abs(grain.mean() - (127.5 + 0.3)) < 0.05
