"""The embedded Whoosh backend: schema, segment writer, ranking, on-disk store."""
