"""Statistical disclosure control for viewers without exact figures, as linear algebra:
the model of a set of linked published tables (`model`), the auditor that bounds every
hidden figure by integer programming over what is shown (`audit`), and joint secondary
suppression (`suppress`); the query space of such viewers (`space`) and its stored,
protected publications (`publication`), which is all the screens and the API give them.
docs/security.md ("Statistics across linked tables") has the rules and what stays open."""
