"""Qt-free values: query specs, filters, datastack descriptions, results, errors."""
