; Disco tags query for Java (tree-sitter-java 0.23).

; ---- types
(class_declaration
  name: (identifier) @name) @definition.class

(record_declaration
  name: (identifier) @name) @definition.class

(interface_declaration
  name: (identifier) @name) @definition.interface

(annotation_type_declaration
  name: (identifier) @name) @definition.interface

(enum_declaration
  name: (identifier) @name) @definition.enum

(enum_body
  (enum_constant
    name: (identifier) @name) @definition.constant)

; ---- methods and constructors
(method_declaration
  name: (identifier) @name) @definition.method

(constructor_declaration
  name: (identifier) @name) @definition.method

(compact_constructor_declaration
  name: (identifier) @name) @definition.method

; ---- fields: UPPER_CASE names are constants
(field_declaration
  declarator: (variable_declarator
    name: (identifier) @name)
  (#match? @name "^[A-Z][A-Z0-9_]*$")) @definition.constant

(field_declaration
  declarator: (variable_declarator
    name: (identifier) @name)
  (#not-match? @name "^[A-Z][A-Z0-9_]*$")) @definition.field

(constant_declaration
  declarator: (variable_declarator
    name: (identifier) @name)) @definition.constant

; ---- references
(method_invocation
  name: (identifier) @name) @reference.call

(object_creation_expression
  type: (type_identifier) @name) @reference.class

(object_creation_expression
  type: (generic_type
    (type_identifier) @name)) @reference.class

(superclass
  (type_identifier) @name @reference.class)

(super_interfaces
  (type_list
    (type_identifier) @name @reference.implementation))

(extends_interfaces
  (type_list
    (type_identifier) @name @reference.implementation))

(formal_parameter
  type: (type_identifier) @name @reference.type)

(local_variable_declaration
  type: (type_identifier) @name @reference.type)

(field_declaration
  type: (type_identifier) @name @reference.type)

(method_declaration
  type: (type_identifier) @name @reference.type)

(type_arguments
  (type_identifier) @name @reference.type)
