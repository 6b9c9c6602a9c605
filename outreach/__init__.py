"""Home visits, accompaniment and group programmes."""
