"""An edition's files, from the marts: tidy tables, the accessible workbook, the bulletin, the
dictionary, Great Expectations validation, revisions, the publication gate and the analyst
snapshot."""
