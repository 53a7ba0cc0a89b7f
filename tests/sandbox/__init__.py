"""Tests of the sandbox: the world, its site, its faults and its media."""
