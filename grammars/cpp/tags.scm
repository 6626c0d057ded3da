; Disco tags query for C++ (tree-sitter-cpp 0.23).
; A function_declarator may sit under a pointer_declarator (T *f()) or a
; reference_declarator (T &f()); each pattern lists the three shapes.

; ---- classes, structs, unions, enums, namespaces, aliases
(class_specifier
  name: (type_identifier) @name
  body: (field_declaration_list)) @definition.class

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

(namespace_definition
  name: [(namespace_identifier) (nested_namespace_specifier)] @name) @definition.module

(alias_declaration
  name: (type_identifier) @name) @definition.type

(type_definition
  declarator: (type_identifier) @name) @definition.type

; ---- methods: defined or declared in a class body, or defined out of line (A::f)
(field_declaration_list
  (function_definition
    declarator: [(function_declarator
                   declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
                 (reference_declarator
                   (function_declarator
                     declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))]) @definition.method)

(field_declaration_list
  (template_declaration
    (function_definition
      declarator: [(function_declarator
                     declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)
                   (pointer_declarator
                     declarator: (function_declarator
                       declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
                   (reference_declarator
                     (function_declarator
                       declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))]) @definition.method))

(field_declaration_list
  (field_declaration
    declarator: [(function_declarator
                   declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
                 (reference_declarator
                   (function_declarator
                     declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))]) @definition.method)

(field_declaration_list
  (declaration
    declarator: [(function_declarator
                   declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
                 (reference_declarator
                   (function_declarator
                     declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))]) @definition.method)

(field_declaration_list
  (template_declaration
    [(declaration
       declarator: [(function_declarator
                      declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)
                    (pointer_declarator
                      declarator: (function_declarator
                        declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
                    (reference_declarator
                      (function_declarator
                        declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))])
     (field_declaration
       declarator: [(function_declarator
                      declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)
                    (pointer_declarator
                      declarator: (function_declarator
                        declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))
                    (reference_declarator
                      (function_declarator
                        declarator: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))])] @definition.method))

(function_definition
  declarator: (function_declarator
    declarator: (qualified_identifier
          name: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name))) @definition.method

(function_definition
  declarator: (pointer_declarator
    declarator: (function_declarator
      declarator: (qualified_identifier
          name: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)))) @definition.method

(function_definition
  declarator: (reference_declarator
    (function_declarator
      declarator: (qualified_identifier
          name: [(identifier) (field_identifier) (destructor_name) (operator_name)] @name)))) @definition.method

; ---- free functions: defined or declared at file or namespace level, in extern "C" {}
; and inside #if/#ifdef blocks at those levels
(translation_unit
  (function_definition
    declarator: [(function_declarator
                   declarator: [(identifier) (operator_name)] @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: [(identifier) (operator_name)] @name))
                 (reference_declarator
                   (function_declarator
                     declarator: [(identifier) (operator_name)] @name))]) @definition.function)

(translation_unit
  (template_declaration
    (function_definition
      declarator: [(function_declarator
                     declarator: [(identifier) (operator_name)] @name)
                   (pointer_declarator
                     declarator: (function_declarator
                       declarator: [(identifier) (operator_name)] @name))
                   (reference_declarator
                     (function_declarator
                       declarator: [(identifier) (operator_name)] @name))]) @definition.function))

(translation_unit
  (declaration
    declarator: [(function_declarator
                   declarator: [(identifier) (operator_name)] @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: [(identifier) (operator_name)] @name))
                 (reference_declarator
                   (function_declarator
                     declarator: [(identifier) (operator_name)] @name))]) @definition.function)

(declaration_list
  (function_definition
    declarator: [(function_declarator
                   declarator: [(identifier) (operator_name)] @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: [(identifier) (operator_name)] @name))
                 (reference_declarator
                   (function_declarator
                     declarator: [(identifier) (operator_name)] @name))]) @definition.function)

(declaration_list
  (template_declaration
    (function_definition
      declarator: [(function_declarator
                     declarator: [(identifier) (operator_name)] @name)
                   (pointer_declarator
                     declarator: (function_declarator
                       declarator: [(identifier) (operator_name)] @name))
                   (reference_declarator
                     (function_declarator
                       declarator: [(identifier) (operator_name)] @name))]) @definition.function))

(declaration_list
  (declaration
    declarator: [(function_declarator
                   declarator: [(identifier) (operator_name)] @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: [(identifier) (operator_name)] @name))
                 (reference_declarator
                   (function_declarator
                     declarator: [(identifier) (operator_name)] @name))]) @definition.function)

(preproc_if
  (function_definition
    declarator: [(function_declarator
                   declarator: [(identifier) (operator_name)] @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: [(identifier) (operator_name)] @name))
                 (reference_declarator
                   (function_declarator
                     declarator: [(identifier) (operator_name)] @name))]) @definition.function)

(preproc_if
  (template_declaration
    (function_definition
      declarator: [(function_declarator
                     declarator: [(identifier) (operator_name)] @name)
                   (pointer_declarator
                     declarator: (function_declarator
                       declarator: [(identifier) (operator_name)] @name))
                   (reference_declarator
                     (function_declarator
                       declarator: [(identifier) (operator_name)] @name))]) @definition.function))

(preproc_if
  (declaration
    declarator: [(function_declarator
                   declarator: [(identifier) (operator_name)] @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: [(identifier) (operator_name)] @name))
                 (reference_declarator
                   (function_declarator
                     declarator: [(identifier) (operator_name)] @name))]) @definition.function)

(preproc_ifdef
  (function_definition
    declarator: [(function_declarator
                   declarator: [(identifier) (operator_name)] @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: [(identifier) (operator_name)] @name))
                 (reference_declarator
                   (function_declarator
                     declarator: [(identifier) (operator_name)] @name))]) @definition.function)

(preproc_ifdef
  (template_declaration
    (function_definition
      declarator: [(function_declarator
                     declarator: [(identifier) (operator_name)] @name)
                   (pointer_declarator
                     declarator: (function_declarator
                       declarator: [(identifier) (operator_name)] @name))
                   (reference_declarator
                     (function_declarator
                       declarator: [(identifier) (operator_name)] @name))]) @definition.function))

(preproc_ifdef
  (declaration
    declarator: [(function_declarator
                   declarator: [(identifier) (operator_name)] @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: [(identifier) (operator_name)] @name))
                 (reference_declarator
                   (function_declarator
                     declarator: [(identifier) (operator_name)] @name))]) @definition.function)

(preproc_else
  (function_definition
    declarator: [(function_declarator
                   declarator: [(identifier) (operator_name)] @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: [(identifier) (operator_name)] @name))
                 (reference_declarator
                   (function_declarator
                     declarator: [(identifier) (operator_name)] @name))]) @definition.function)

(preproc_else
  (template_declaration
    (function_definition
      declarator: [(function_declarator
                     declarator: [(identifier) (operator_name)] @name)
                   (pointer_declarator
                     declarator: (function_declarator
                       declarator: [(identifier) (operator_name)] @name))
                   (reference_declarator
                     (function_declarator
                       declarator: [(identifier) (operator_name)] @name))]) @definition.function))

(preproc_else
  (declaration
    declarator: [(function_declarator
                   declarator: [(identifier) (operator_name)] @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: [(identifier) (operator_name)] @name))
                 (reference_declarator
                   (function_declarator
                     declarator: [(identifier) (operator_name)] @name))]) @definition.function)

(preproc_elif
  (function_definition
    declarator: [(function_declarator
                   declarator: [(identifier) (operator_name)] @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: [(identifier) (operator_name)] @name))
                 (reference_declarator
                   (function_declarator
                     declarator: [(identifier) (operator_name)] @name))]) @definition.function)

(preproc_elif
  (template_declaration
    (function_definition
      declarator: [(function_declarator
                     declarator: [(identifier) (operator_name)] @name)
                   (pointer_declarator
                     declarator: (function_declarator
                       declarator: [(identifier) (operator_name)] @name))
                   (reference_declarator
                     (function_declarator
                       declarator: [(identifier) (operator_name)] @name))]) @definition.function))

(preproc_elif
  (declaration
    declarator: [(function_declarator
                   declarator: [(identifier) (operator_name)] @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: [(identifier) (operator_name)] @name))
                 (reference_declarator
                   (function_declarator
                     declarator: [(identifier) (operator_name)] @name))]) @definition.function)

(preproc_elifdef
  (function_definition
    declarator: [(function_declarator
                   declarator: [(identifier) (operator_name)] @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: [(identifier) (operator_name)] @name))
                 (reference_declarator
                   (function_declarator
                     declarator: [(identifier) (operator_name)] @name))]) @definition.function)

(preproc_elifdef
  (template_declaration
    (function_definition
      declarator: [(function_declarator
                     declarator: [(identifier) (operator_name)] @name)
                   (pointer_declarator
                     declarator: (function_declarator
                       declarator: [(identifier) (operator_name)] @name))
                   (reference_declarator
                     (function_declarator
                       declarator: [(identifier) (operator_name)] @name))]) @definition.function))

(preproc_elifdef
  (declaration
    declarator: [(function_declarator
                   declarator: [(identifier) (operator_name)] @name)
                 (pointer_declarator
                   declarator: (function_declarator
                     declarator: [(identifier) (operator_name)] @name))
                 (reference_declarator
                   (function_declarator
                     declarator: [(identifier) (operator_name)] @name))]) @definition.function)

; ---- data members (not member functions)
(field_declaration_list
  (field_declaration
    declarator: [(field_identifier) @name
                 (pointer_declarator declarator: (field_identifier) @name)
                 (reference_declarator (field_identifier) @name)
                 (array_declarator declarator: (field_identifier) @name)]) @definition.field)

; ---- macros
(preproc_def
  name: (identifier) @name) @definition.macro

(preproc_function_def
  name: (identifier) @name) @definition.macro

; ---- file- and namespace-level variables
(translation_unit
  (declaration
    declarator: [(identifier) @name
                 (init_declarator declarator: (identifier) @name)
                 (init_declarator declarator: (pointer_declarator declarator: (identifier) @name))
                 (init_declarator declarator: (reference_declarator (identifier) @name))
                 (init_declarator declarator: (array_declarator declarator: (identifier) @name))
                 (pointer_declarator declarator: (identifier) @name)
                 (array_declarator declarator: (identifier) @name)]) @definition.variable)

(declaration_list
  (declaration
    declarator: [(identifier) @name
                 (init_declarator declarator: (identifier) @name)
                 (init_declarator declarator: (pointer_declarator declarator: (identifier) @name))
                 (init_declarator declarator: (reference_declarator (identifier) @name))
                 (init_declarator declarator: (array_declarator declarator: (identifier) @name))
                 (pointer_declarator declarator: (identifier) @name)
                 (array_declarator declarator: (identifier) @name)]) @definition.variable)

(preproc_if
  (declaration
    declarator: [(identifier) @name
                 (init_declarator declarator: (identifier) @name)
                 (init_declarator declarator: (pointer_declarator declarator: (identifier) @name))
                 (init_declarator declarator: (reference_declarator (identifier) @name))
                 (init_declarator declarator: (array_declarator declarator: (identifier) @name))
                 (pointer_declarator declarator: (identifier) @name)
                 (array_declarator declarator: (identifier) @name)]) @definition.variable)

(preproc_ifdef
  (declaration
    declarator: [(identifier) @name
                 (init_declarator declarator: (identifier) @name)
                 (init_declarator declarator: (pointer_declarator declarator: (identifier) @name))
                 (init_declarator declarator: (reference_declarator (identifier) @name))
                 (init_declarator declarator: (array_declarator declarator: (identifier) @name))
                 (pointer_declarator declarator: (identifier) @name)
                 (array_declarator declarator: (identifier) @name)]) @definition.variable)

(preproc_else
  (declaration
    declarator: [(identifier) @name
                 (init_declarator declarator: (identifier) @name)
                 (init_declarator declarator: (pointer_declarator declarator: (identifier) @name))
                 (init_declarator declarator: (reference_declarator (identifier) @name))
                 (init_declarator declarator: (array_declarator declarator: (identifier) @name))
                 (pointer_declarator declarator: (identifier) @name)
                 (array_declarator declarator: (identifier) @name)]) @definition.variable)

(preproc_elif
  (declaration
    declarator: [(identifier) @name
                 (init_declarator declarator: (identifier) @name)
                 (init_declarator declarator: (pointer_declarator declarator: (identifier) @name))
                 (init_declarator declarator: (reference_declarator (identifier) @name))
                 (init_declarator declarator: (array_declarator declarator: (identifier) @name))
                 (pointer_declarator declarator: (identifier) @name)
                 (array_declarator declarator: (identifier) @name)]) @definition.variable)

(preproc_elifdef
  (declaration
    declarator: [(identifier) @name
                 (init_declarator declarator: (identifier) @name)
                 (init_declarator declarator: (pointer_declarator declarator: (identifier) @name))
                 (init_declarator declarator: (reference_declarator (identifier) @name))
                 (init_declarator declarator: (array_declarator declarator: (identifier) @name))
                 (pointer_declarator declarator: (identifier) @name)
                 (array_declarator declarator: (identifier) @name)]) @definition.variable)

; ---- references
(call_expression
  function: (identifier) @name) @reference.call

(call_expression
  function: (field_expression
    field: (field_identifier) @name)) @reference.call

(call_expression
  function: (qualified_identifier
    name: (identifier) @name)) @reference.call

(call_expression
  function: (template_function
    name: (identifier) @name)) @reference.call

(new_expression
  type: (type_identifier) @name) @reference.class

(base_class_clause
  (type_identifier) @name @reference.class)

(base_class_clause
  (qualified_identifier
    name: (type_identifier) @name) @reference.class)

(parameter_declaration
  type: (type_identifier) @name @reference.type)

(field_declaration
  type: (type_identifier) @name @reference.type)

(declaration
  type: (type_identifier) @name @reference.type)

(qualified_identifier
  name: (type_identifier) @name @reference.type)

(template_argument_list
  (type_descriptor
    type: (type_identifier) @name @reference.type))
