; Disco tags query for YAML (tree-sitter-yaml 0.7).
; Every block mapping pair is a key definition. Plain keys are named by
; their text; quoted keys by the quoted scalar, quotes included. The merge
; key `<<` is not a definition.

(block_mapping_pair
  key: (flow_node
    (plain_scalar) @name)
  (#not-eq? @name "<<")) @definition.key

(block_mapping_pair
  key: (flow_node
    [(double_quote_scalar) (single_quote_scalar)] @name)) @definition.key
