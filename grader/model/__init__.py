"""The records every layer shares: the rubric (the one source of points), results, errors."""
