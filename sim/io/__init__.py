"""Input and output that need no model: result sets written whole (`output`), the reported
figures (`observed`)."""
