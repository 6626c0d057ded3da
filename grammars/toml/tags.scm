; Disco tags query for TOML (tree-sitter-toml-ng 0.7).
; The grammar has no fields: the key is the first named child of a table,
; array-of-tables element or pair. Dotted keys are named by their full text.

(table
  .
  [(bare_key) (dotted_key) (quoted_key)] @name) @definition.table

(table_array_element
  .
  [(bare_key) (dotted_key) (quoted_key)] @name) @definition.table

(pair
  .
  [(bare_key) (dotted_key) (quoted_key)] @name) @definition.key
