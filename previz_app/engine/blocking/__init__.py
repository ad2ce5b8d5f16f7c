"""The built-in `blocking` engine: storyboard panels drawn from shot metadata."""
