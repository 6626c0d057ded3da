; Disco tags query for JavaScript (tree-sitter-javascript 0.25).

; ---- classes
(class_declaration
  name: (identifier) @name) @definition.class

(class
  name: (identifier) @name) @definition.class

; ---- methods and class fields
(method_definition
  name: [(property_identifier) (private_property_identifier)] @name) @definition.method

(field_definition
  property: [(property_identifier) (private_property_identifier)] @name) @definition.field

; ---- functions
(function_declaration
  name: (identifier) @name) @definition.function

(generator_function_declaration
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
              (new_expression) (ternary_expression)]) @definition.constant))

(export_statement
  declaration: (lexical_declaration
    kind: "const"
    (variable_declarator
      name: (identifier) @name
      value: [(string) (template_string) (number) (true) (false) (null)
              (array) (object) (regex) (identifier) (member_expression)
              (binary_expression) (unary_expression) (call_expression)
              (new_expression) (ternary_expression)]) @definition.constant))

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
              (new_expression) (ternary_expression)]) @definition.variable))

; ---- references
(call_expression
  function: (identifier) @name) @reference.call

(call_expression
  function: (member_expression
    property: [(property_identifier) (private_property_identifier)] @name)) @reference.call

(new_expression
  constructor: (identifier) @name) @reference.class

(class_heritage
  (identifier) @name @reference.class)

; ---- JSX: capitalised element names are component references
(jsx_opening_element
  name: (identifier) @name @reference.class
  (#match? @name "^[A-Z]"))

(jsx_self_closing_element
  name: (identifier) @name @reference.class
  (#match? @name "^[A-Z]"))
