"""What both example shops share: their settings, the fenced stock store, the flaky upstream,
the catalog and the import job. The framework glue lives in each shop."""
