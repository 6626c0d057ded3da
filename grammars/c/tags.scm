; Disco tags query for C (tree-sitter-c 0.24).

; ---- function definitions (plain, returning a pointer, returning a pointer to pointer)
(function_definition
  declarator: (function_declarator
    declarator: (identifier) @name)) @definition.function

(function_definition
  declarator: (pointer_declarator
    declarator: (function_declarator
      declarator: (identifier) @name))) @definition.function

(function_definition
  declarator: (pointer_declarator
    declarator: (pointer_declarator
      declarator: (function_declarator
        declarator: (identifier) @name)))) @definition.function

; ---- function prototypes at file level (also inside #if/#ifdef blocks and extern "C" {})
(translation_unit
  (declaration
    declarator: [(function_declarator
                   declarator: (identifier) @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: (identifier) @name))
                 (pointer_declarator
                   declarator: (pointer_declarator
                     declarator: (function_declarator
                       declarator: (identifier) @name)))]) @definition.function)

(declaration_list
  (declaration
    declarator: [(function_declarator
                   declarator: (identifier) @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: (identifier) @name))
                 (pointer_declarator
                   declarator: (pointer_declarator
                     declarator: (function_declarator
                       declarator: (identifier) @name)))]) @definition.function)

(preproc_if
  (declaration
    declarator: [(function_declarator
                   declarator: (identifier) @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: (identifier) @name))
                 (pointer_declarator
                   declarator: (pointer_declarator
                     declarator: (function_declarator
                       declarator: (identifier) @name)))]) @definition.function)

(preproc_ifdef
  (declaration
    declarator: [(function_declarator
                   declarator: (identifier) @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: (identifier) @name))
                 (pointer_declarator
                   declarator: (pointer_declarator
                     declarator: (function_declarator
                       declarator: (identifier) @name)))]) @definition.function)

(preproc_else
  (declaration
    declarator: [(function_declarator
                   declarator: (identifier) @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: (identifier) @name))
                 (pointer_declarator
                   declarator: (pointer_declarator
                     declarator: (function_declarator
                       declarator: (identifier) @name)))]) @definition.function)

(preproc_elif
  (declaration
    declarator: [(function_declarator
                   declarator: (identifier) @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: (identifier) @name))
                 (pointer_declarator
                   declarator: (pointer_declarator
                     declarator: (function_declarator
                       declarator: (identifier) @name)))]) @definition.function)

(preproc_elifdef
  (declaration
    declarator: [(function_declarator
                   declarator: (identifier) @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: (identifier) @name))
                 (pointer_declarator
                   declarator: (pointer_declarator
                     declarator: (function_declarator
                       declarator: (identifier) @name)))]) @definition.function)

; ---- structs, unions, enums, typedefs (only specifiers with a body define)
(struct_specifier
  name: (type_identifier) @name
  body: (field_declaration_list)) @definition.struct

(union_specifier
  name: (type_identifier) @name
  body: (field_declaration_list)) @definition.struct

(enum_specifier
  name: (type_identifier) @name
  body: (enumerator_list)) @definition.enum

(enumerator
  name: (identifier) @name) @definition.constant

(type_definition
  declarator: (type_identifier) @name) @definition.type

(type_definition
  declarator: (pointer_declarator
    declarator: (type_identifier) @name)) @definition.type

(field_declaration_list
  (field_declaration
    declarator: [(field_identifier) @name
                 (pointer_declarator declarator: (field_identifier) @name)
                 (array_declarator declarator: (field_identifier) @name)]) @definition.field)

; ---- macros
(preproc_def
  name: (identifier) @name) @definition.macro

(preproc_function_def
  name: (identifier) @name) @definition.macro

; ---- file-level variables (also inside #if/#ifdef blocks)
(translation_unit
  (declaration
    declarator: [(identifier) @name
                 (init_declarator declarator: (identifier) @name)
                 (init_declarator declarator: (pointer_declarator declarator: (identifier) @name))
                 (init_declarator declarator: (array_declarator declarator: (identifier) @name))
                 (pointer_declarator declarator: (identifier) @name)
                 (array_declarator declarator: (identifier) @name)]) @definition.variable)

(declaration_list
  (declaration
    declarator: [(identifier) @name
                 (init_declarator declarator: (identifier) @name)
                 (init_declarator declarator: (pointer_declarator declarator: (identifier) @name))
                 (init_declarator declarator: (array_declarator declarator: (identifier) @name))
                 (pointer_declarator declarator: (identifier) @name)
                 (array_declarator declarator: (identifier) @name)]) @definition.variable)

(preproc_if
  (declaration
    declarator: [(identifier) @name
                 (init_declarator declarator: (identifier) @name)
                 (init_declarator declarator: (pointer_declarator declarator: (identifier) @name))
                 (init_declarator declarator: (array_declarator declarator: (identifier) @name))
                 (pointer_declarator declarator: (identifier) @name)
                 (array_declarator declarator: (identifier) @name)]) @definition.variable)

(preproc_ifdef
  (declaration
    declarator: [(identifier) @name
                 (init_declarator declarator: (identifier) @name)
                 (init_declarator declarator: (pointer_declarator declarator: (identifier) @name))
                 (init_declarator declarator: (array_declarator declarator: (identifier) @name))
                 (pointer_declarator declarator: (identifier) @name)
                 (array_declarator declarator: (identifier) @name)]) @definition.variable)

(preproc_else
  (declaration
    declarator: [(identifier) @name
                 (init_declarator declarator: (identifier) @name)
                 (init_declarator declarator: (pointer_declarator declarator: (identifier) @name))
                 (init_declarator declarator: (array_declarator declarator: (identifier) @name))
                 (pointer_declarator declarator: (identifier) @name)
                 (array_declarator declarator: (identifier) @name)]) @definition.variable)

(preproc_elif
  (declaration
    declarator: [(identifier) @name
                 (init_declarator declarator: (identifier) @name)
                 (init_declarator declarator: (pointer_declarator declarator: (identifier) @name))
                 (init_declarator declarator: (array_declarator declarator: (identifier) @name))
                 (pointer_declarator declarator: (identifier) @name)
                 (array_declarator declarator: (identifier) @name)]) @definition.variable)

(preproc_elifdef
  (declaration
    declarator: [(identifier) @name
                 (init_declarator declarator: (identifier) @name)
                 (init_declarator declarator: (pointer_declarator declarator: (identifier) @name))
                 (init_declarator declarator: (array_declarator declarator: (identifier) @name))
                 (pointer_declarator declarator: (identifier) @name)
                 (array_declarator declarator: (identifier) @name)]) @definition.variable)

; ---- references
(call_expression
  function: (identifier) @name) @reference.call

(call_expression
  function: (field_expression
    field: (field_identifier) @name)) @reference.call

(declaration
  type: (type_identifier) @name @reference.type)

(parameter_declaration
  type: (type_identifier) @name @reference.type)

(field_declaration
  type: (type_identifier) @name @reference.type)

(function_definition
  type: (type_identifier) @name @reference.type)

(struct_specifier
  name: (type_identifier) @name @reference.type
  !body)

(enum_specifier
  name: (type_identifier) @name @reference.type
  !body)
