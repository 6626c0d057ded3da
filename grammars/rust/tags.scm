; Disco tags query for Rust (tree-sitter-rust 0.24).

; ---- types
(struct_item
  name: (type_identifier) @name) @definition.struct

(union_item
  name: (type_identifier) @name) @definition.struct

(enum_item
  name: (type_identifier) @name) @definition.enum

(trait_item
  name: (type_identifier) @name) @definition.trait

(type_item
  name: (type_identifier) @name) @definition.type

(associated_type
  name: (type_identifier) @name) @definition.type

(mod_item
  name: (identifier) @name) @definition.module

(macro_definition
  name: (identifier) @name) @definition.macro

(field_declaration_list
  (field_declaration
    name: (field_identifier) @name) @definition.field)

; ---- impl blocks: named after the implementing type
(impl_item
  type: (type_identifier) @name) @definition.impl

(impl_item
  type: (generic_type
    type: (type_identifier) @name)) @definition.impl

(impl_item
  type: (scoped_type_identifier
    name: (type_identifier) @name)) @definition.impl

; ---- methods: functions in impl and trait bodies
(impl_item
  body: (declaration_list
    (function_item
      name: (identifier) @name) @definition.method))

(trait_item
  body: (declaration_list
    [(function_item
       name: (identifier) @name) @definition.method
     (function_signature_item
       name: (identifier) @name) @definition.method]))

; ---- free functions: crate level, in modules, extern blocks, nested in blocks
(source_file
  (function_item
    name: (identifier) @name) @definition.function)

(mod_item
  body: (declaration_list
    (function_item
      name: (identifier) @name) @definition.function))

(foreign_mod_item
  body: (declaration_list
    (function_signature_item
      name: (identifier) @name) @definition.function))

(block
  (function_item
    name: (identifier) @name) @definition.function)

; ---- constants and statics
(const_item
  name: (identifier) @name) @definition.constant

(static_item
  name: (identifier) @name) @definition.constant

; ---- references
(call_expression
  function: (identifier) @name) @reference.call

(call_expression
  function: (field_expression
    field: (field_identifier) @name)) @reference.call

(call_expression
  function: (scoped_identifier
    name: (identifier) @name)) @reference.call

(call_expression
  function: (generic_function
    function: (identifier) @name)) @reference.call

(macro_invocation
  macro: (identifier) @name) @reference.call

(impl_item
  trait: (type_identifier) @name @reference.implementation)

(impl_item
  trait: (scoped_type_identifier
    name: (type_identifier) @name) @reference.implementation)

(parameter
  type: (type_identifier) @name @reference.type)

(reference_type
  type: (type_identifier) @name @reference.type)

(function_item
  return_type: (type_identifier) @name @reference.type)

(field_declaration
  type: (type_identifier) @name @reference.type)

(generic_type
  type: (type_identifier) @name @reference.type)

(type_arguments
  (type_identifier) @name @reference.type)
