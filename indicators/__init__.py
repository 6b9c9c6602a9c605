"""Plan indicators, targets and progress reports."""
