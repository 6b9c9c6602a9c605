"""`in_array`: a list of keys that PostgreSQL receives as one array parameter.

The case list puts keys it read first into its query (a user's object grants, the cases a
worker leads: `selectors.visible_cases`, `filters.CaseFilter`), which can be 1,500 keys. As
`IN (%s, %s, …)`, psycopg splits the statement at each of 1,500 placeholders and quotes
each key, about 6 ms a query; `= ANY(%s)` with the keys as one array is one placeholder,
and PostgreSQL plans it as it plans the IN list. Other databases get Django's IN.
"""

from __future__ import annotations

from django.core.exceptions import EmptyResultSet
from django.db import models
from django.db.models.lookups import In


@models.UUIDField.register_lookup
class InArray(In):
    lookup_name = "in_array"

    def as_postgresql(self, compiler, connection):
        if not self.rhs_is_direct_value():
            return super().as_sql(compiler, connection)
        keys = [key for key in dict.fromkeys(self.rhs) if key is not None]
        if not keys:
            raise EmptyResultSet  # as IN: nothing matches an empty list
        lhs, lhs_params = self.process_lhs(compiler, connection)
        field = self.lhs.output_field
        array = [field.get_db_prep_value(key, connection, prepared=True) for key in keys]
        return f"{lhs} = ANY(%s)", (*lhs_params, array)
