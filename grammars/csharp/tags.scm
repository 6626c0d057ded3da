; Disco tags query for C# (tree-sitter-c-sharp 0.23).

; ---- types and namespaces
(class_declaration
  name: (identifier) @name) @definition.class

(record_declaration
  name: (identifier) @name) @definition.class

(struct_declaration
  name: (identifier) @name) @definition.struct

(interface_declaration
  name: (identifier) @name) @definition.interface

(enum_declaration
  name: (identifier) @name) @definition.enum

(enum_member_declaration
  name: (identifier) @name) @definition.constant

(delegate_declaration
  name: (identifier) @name) @definition.type

(namespace_declaration
  name: [(identifier) (qualified_name)] @name) @definition.module

(file_scoped_namespace_declaration
  name: [(identifier) (qualified_name)] @name) @definition.module

; ---- members
(method_declaration
  name: (identifier) @name) @definition.method

(constructor_declaration
  name: (identifier) @name) @definition.method

(destructor_declaration
  name: (identifier) @name) @definition.method

(local_function_statement
  name: (identifier) @name) @definition.function

(field_declaration
  (variable_declaration
    (variable_declarator
      name: (identifier) @name))) @definition.field

(event_field_declaration
  (variable_declaration
    (variable_declarator
      name: (identifier) @name))) @definition.field

(property_declaration
  name: (identifier) @name) @definition.field

; ---- references
(invocation_expression
  function: (identifier) @name) @reference.call

(invocation_expression
  function: (member_access_expression
    name: (identifier) @name)) @reference.call

(invocation_expression
  function: (conditional_access_expression
    (member_binding_expression
      name: (identifier) @name))) @reference.call

(object_creation_expression
  type: (identifier) @name) @reference.class

(object_creation_expression
  type: (generic_name
    (identifier) @name)) @reference.class

; base types: interface names (IFoo) are implementations, others base classes
(base_list
  (identifier) @name @reference.implementation
  (#match? @name "^I[A-Z]"))

(base_list
  (identifier) @name @reference.class
  (#not-match? @name "^I[A-Z]"))

(parameter
  type: (identifier) @name @reference.type)

(variable_declaration
  type: (identifier) @name @reference.type)

(type_argument_list
  (identifier) @name @reference.type)
