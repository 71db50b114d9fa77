"""Data: readers for each corpus format, text normalisation, vocabularies, TFRecords, tf.data."""
