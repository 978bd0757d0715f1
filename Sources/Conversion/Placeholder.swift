// Conversion.
