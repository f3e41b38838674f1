"""One home for each idea the public modules share.

Nothing here is public API. Modules: ``text`` (did-you-mean suggestions for values that match
nothing), ``quality`` (the data-quality record that replaces warnings). Further shared ideas
(dates, parameter checks, bad-cell tables, waves, spreadsheet-safe output) live beside them.
"""
