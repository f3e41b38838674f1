"""One home for each idea the public modules share.

Nothing here is public API. Modules: ``text`` (did-you-mean suggestions for values that match
nothing), ``quality`` (the data-quality record that replaces warnings), ``dates`` (the one
date reader), ``cells`` (the one bad-cell table layout), ``waves`` (the one wave vocabulary:
baseline names, order, resolving a requested wave) and ``columns`` (the one table/column
check). Further shared ideas (parameter checks, spreadsheet-safe output) live beside them.
"""
