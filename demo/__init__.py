"""Demo data: a synthetic prefecture (Mie) seeded by `manage.py seed_demo`.

The domain apps know nothing of it: `seed_demo` builds the prefecture and its users
(`prefecture`), then calls each area's seeding in a fixed order (`AREAS` in the command),
all drawing from one seeded random generator, so one seed always gives the same data.
"""
