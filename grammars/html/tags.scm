; Disco tags query for HTML (tree-sitter-html 0.23).
; An element with an `id` attribute is a definition named by the id value.
; `@_attr` is a helper capture for the predicate only (not a tag): it holds
; the attribute_name node so that only the `id` attribute supplies @name.

(element
  [(start_tag
     (attribute
       (attribute_name) @_attr
       [(attribute_value) @name
        (quoted_attribute_value (attribute_value) @name)]))
   (self_closing_tag
     (attribute
       (attribute_name) @_attr
       [(attribute_value) @name
        (quoted_attribute_value (attribute_value) @name)]))]
  (#match? @_attr "^[iI][dD]$")) @definition.element

(script_element
  (start_tag
    (attribute
      (attribute_name) @_attr
      [(attribute_value) @name
       (quoted_attribute_value (attribute_value) @name)]))
  (#match? @_attr "^[iI][dD]$")) @definition.element

(style_element
  (start_tag
    (attribute
      (attribute_name) @_attr
      [(attribute_value) @name
       (quoted_attribute_value (attribute_value) @name)]))
  (#match? @_attr "^[iI][dD]$")) @definition.element
