"""The notifier's pure model: which message an event causes, its identity, formats, retries."""
