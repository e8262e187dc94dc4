"""The event-processing domain (pure, importable without a broker) and the Faust worker app."""
