; Disco tags query for Go (tree-sitter-go 0.25).
; Type, const and var definitions capture the *_spec node; their doc comment
; sits above the enclosing type_declaration / const_declaration / var_declaration.

; ---- functions and methods
(function_declaration
  name: (identifier) @name) @definition.function

(method_declaration
  name: (field_identifier) @name) @definition.method

(method_elem
  name: (field_identifier) @name) @definition.method

; ---- types
(type_spec
  name: (type_identifier) @name
  type: (struct_type)) @definition.struct

(type_spec
  name: (type_identifier) @name
  type: (interface_type)) @definition.interface

(type_spec
  name: (type_identifier) @name
  type: [(type_identifier) (qualified_type) (generic_type) (pointer_type)
         (map_type) (slice_type) (array_type) (channel_type)
         (function_type) (negated_type) (parenthesized_type)]) @definition.type

(type_alias
  name: (type_identifier) @name) @definition.type

(field_declaration_list
  (field_declaration
    name: (field_identifier) @name) @definition.field)

; ---- constants and package-level variables
(const_spec
  name: (identifier) @name) @definition.constant

(source_file
  (var_declaration
    (var_spec
      name: (identifier) @name) @definition.variable))

(source_file
  (var_declaration
    (var_spec_list
      (var_spec
        name: (identifier) @name) @definition.variable)))

; ---- references
(call_expression
  function: (identifier) @name) @reference.call

(call_expression
  function: (selector_expression
    field: (field_identifier) @name)) @reference.call

(composite_literal
  type: (type_identifier) @name @reference.type)

(parameter_declaration
  type: (type_identifier) @name @reference.type
  (#not-match? @name "^(bool|byte|complex64|complex128|error|float32|float64|int|int8|int16|int32|int64|rune|string|uint|uint8|uint16|uint32|uint64|uintptr|any)$"))

(pointer_type
  (type_identifier) @name @reference.type
  (#not-match? @name "^(bool|byte|complex64|complex128|error|float32|float64|int|int8|int16|int32|int64|rune|string|uint|uint8|uint16|uint32|uint64|uintptr|any)$"))

(field_declaration
  type: (type_identifier) @name @reference.type
  (#not-match? @name "^(bool|byte|complex64|complex128|error|float32|float64|int|int8|int16|int32|int64|rune|string|uint|uint8|uint16|uint32|uint64|uintptr|any)$"))

(qualified_type
  name: (type_identifier) @name @reference.type)
