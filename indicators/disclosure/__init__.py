"""Statistical disclosure control for viewers without exact figures, as linear algebra:
the model of a set of linked published tables (`model`), the auditor that bounds every
hidden figure by integer programming over what is shown (`audit`), and joint secondary
suppression (`suppress`). Not yet what the screens and the API publish (they still use
indicators.suppression, table by table); docs/security.md says where this stands."""
