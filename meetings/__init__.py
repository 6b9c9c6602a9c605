"""MDT meetings, case conferences and network meetings."""
