"""Cross-cutting pieces of Genflow: configuration, logging and the embedded-stack launcher."""
