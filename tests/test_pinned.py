"""Pinned outputs (tests/pinned.py): a change to preprocessing, weights or class order fails here, on purpose."""

import json

import numpy as np
import pytest
from pinned import PINNED, compute


@pytest.fixture(scope="module")
def now():
    return compute()


@pytest.fixture(scope="module")
def pinned():
    return json.loads(PINNED.read_text())


def test_class_order(now, pinned):
    assert now["class_names"] == pinned["class_names"]


def test_normalisation_of_a_fixed_face(now, pinned):
    np.testing.assert_allclose(now["normalised_face"], pinned["normalised_face"], atol=1e-5)


def test_the_sample_photo_is_cut_as_before(now, pinned):
    assert now["sample_boxes"] == pinned["sample_boxes"] and now["sample_crop_sum"] == pinned["sample_crop_sum"]


def test_bundled_model_probabilities(now, pinned):
    np.testing.assert_allclose(now["synthetic_probabilities"], pinned["synthetic_probabilities"], atol=1e-5)
    np.testing.assert_allclose(now["sample_probabilities"], pinned["sample_probabilities"], atol=1e-5)
