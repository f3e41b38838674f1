"""One home for each idea the public modules share.

Nothing here is public API. Modules: ``text`` (did-you-mean suggestions for values that match
nothing), ``quality`` (the data-quality record that replaces warnings), ``spreadsheet`` (CSV
and Excel writers whose text never runs as a formula), ``file_rows`` (row numbers as a person
sees them in a file), ``text_files`` (separator and encoding of a text table, found not
assumed), ``vocabulary`` (library messages in command-line words). Further shared
ideas (dates, parameter checks, bad-cell tables, waves) live beside them.
"""
