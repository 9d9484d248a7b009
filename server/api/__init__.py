"""OGC API – Features: the documents and parameters (framework-free) and their Flask routes."""
