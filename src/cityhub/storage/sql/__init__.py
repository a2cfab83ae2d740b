"""SQL for the query AST: one compiler, a dialect per backend (DESIGN §4 rule 1)."""
