; Disco tags query for CSS (tree-sitter-css 0.25).

; ---- rule sets (at any depth, e.g. inside @media), named by their selector list
(rule_set
  (selectors) @name) @definition.selector

; ---- @keyframes
(keyframes_statement
  (keyframes_name) @name) @definition.selector

; ---- custom properties (--name: value)
(declaration
  (property_name) @name
  (#match? @name "^--")) @definition.variable
