; Disco tags query for TypeScript (tree-sitter-typescript 0.23, LANGUAGE_TYPESCRIPT).

; ---- classes, interfaces, types, enums, namespaces
(class_declaration
  name: (type_identifier) @name) @definition.class

(abstract_class_declaration
  name: (type_identifier) @name) @definition.class

(class
  name: (type_identifier) @name) @definition.class

(interface_declaration
  name: (type_identifier) @name) @definition.interface

(type_alias_declaration
  name: (type_identifier) @name) @definition.type

(enum_declaration
  name: (identifier) @name) @definition.enum

(internal_module
  name: [(identifier) (nested_identifier) (string)] @name) @definition.module

(module
  name: [(identifier) (nested_identifier) (string)] @name) @definition.module

; ---- methods and fields (classes and interfaces)
(method_definition
  name: [(property_identifier) (private_property_identifier)] @name) @definition.method

; interface members, and members of an object type that is a type alias's value
; (inline object types in annotations are not definitions)
(interface_body
  (method_signature
    name: [(property_identifier) (private_property_identifier)] @name) @definition.method)

(type_alias_declaration
  value: (object_type
    (method_signature
      name: [(property_identifier) (private_property_identifier)] @name) @definition.method))

(abstract_method_signature
  name: [(property_identifier) (private_property_identifier)] @name) @definition.method

(public_field_definition
  name: [(property_identifier) (private_property_identifier)] @name) @definition.field

(interface_body
  (property_signature
    name: [(property_identifier) (private_property_identifier)] @name) @definition.field)

(type_alias_declaration
  value: (object_type
    (property_signature
      name: [(property_identifier) (private_property_identifier)] @name) @definition.field))

; ---- functions
(function_declaration
  name: (identifier) @name) @definition.function

(generator_function_declaration
  name: (identifier) @name) @definition.function

(function_signature
  name: (identifier) @name) @definition.function

(variable_declarator
  name: (identifier) @name
  value: [(arrow_function) (function_expression) (generator_function)]) @definition.function

; ---- top-level constants (const with a non-function value) and variables
(program
  (lexical_declaration
    kind: "const"
    (variable_declarator
      name: (identifier) @name
      value: [(string) (template_string) (number) (true) (false) (null)
              (array) (object) (regex) (identifier) (member_expression)
              (binary_expression) (unary_expression) (call_expression)
              (new_expression) (ternary_expression) (as_expression)
              (satisfies_expression)]) @definition.constant))

(export_statement
  declaration: (lexical_declaration
    kind: "const"
    (variable_declarator
      name: (identifier) @name
      value: [(string) (template_string) (number) (true) (false) (null)
              (array) (object) (regex) (identifier) (member_expression)
              (binary_expression) (unary_expression) (call_expression)
              (new_expression) (ternary_expression) (as_expression)
              (satisfies_expression)]) @definition.constant))

(program
  (lexical_declaration
    kind: "let"
    (variable_declarator
      name: (identifier) @name
      !value) @definition.variable))

(program
  (lexical_declaration
    kind: "let"
    (variable_declarator
      name: (identifier) @name
      value: [(string) (template_string) (number) (true) (false) (null)
              (array) (object) (regex) (identifier) (member_expression)
              (binary_expression) (unary_expression) (call_expression)
              (new_expression) (ternary_expression) (as_expression)
              (satisfies_expression)]) @definition.variable))

; ---- references
(call_expression
  function: (identifier) @name) @reference.call

(call_expression
  function: (member_expression
    property: [(property_identifier) (private_property_identifier)] @name)) @reference.call

(new_expression
  constructor: (identifier) @name) @reference.class

(extends_clause
  value: (identifier) @name @reference.class)

(implements_clause
  (type_identifier) @name @reference.implementation)

(extends_type_clause
  type: (type_identifier) @name @reference.implementation)

(type_annotation
  (type_identifier) @name @reference.type)

(generic_type
  name: (type_identifier) @name @reference.type)
