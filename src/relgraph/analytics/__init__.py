"""Graph analytics: pure functions over the projection, arrays in, tables out."""
