"""`invoicing`: drive the platform by hand from a terminal."""
