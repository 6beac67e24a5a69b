"""Quality: the Great Expectations suites of data_quality/ as blocking asset checks."""
