"""The edges of the data plane: HTTP source (ingest) and HTTP sink (delivery)."""
