"""One home for each idea the public modules share.

Nothing here is public API. Modules: ``text`` (did-you-mean suggestions for values that match
nothing), ``quality`` (the data-quality record that replaces warnings), ``dates`` (the one
date reader), ``cells`` (the one bad-cell table layout), ``sql`` (the one SQL identifier
quoter), ``threads`` (work split over threads for compiled kernels that release the GIL),
``waves`` (the one wave vocabulary: baseline names, order, resolving a requested wave),
``columns`` (the one table/column check), ``spreadsheet`` (CSV and Excel writers whose text
never runs as a formula), ``file_rows`` (row numbers as a person sees them in a file),
``text_files`` (separator and encoding of a text table, found not assumed) and ``vocabulary``
(library messages in command-line words). Further shared ideas (parameter checks) live beside
them.
"""
