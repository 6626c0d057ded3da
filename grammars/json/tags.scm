; Disco tags query for JSON (tree-sitter-json 0.24).
; Every object member is a key definition named by its string content.
; The anchors make the key match only when its string is a single
; string_content run: keys containing escape sequences (or the empty key)
; are not reported, rather than being reported under a partial name.

(pair
  key: (string
    .
    (string_content) @name
    .)) @definition.key
