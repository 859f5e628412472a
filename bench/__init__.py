"""Benchmarks that print ratios against ceilings measured in the same run (`make bench`)."""
