"""Tests of segmentation_core."""
