"""Tests of price collection: fetching, adapters and normalisation."""
