; Disco tags query for Python (tree-sitter-python 0.25).

; ---- classes (at any depth)
(class_definition
  name: (identifier) @name) @definition.class

; ---- methods: functions directly in a class body (plain or decorated)
(class_definition
  body: (block
    (function_definition
      name: (identifier) @name) @definition.method))

(class_definition
  body: (block
    (decorated_definition
      definition: (function_definition
        name: (identifier) @name) @definition.method)))

; ---- functions: module level, and nested in any non-class block
(module
  (function_definition
    name: (identifier) @name) @definition.function)

(module
  (decorated_definition
    definition: (function_definition
      name: (identifier) @name) @definition.function))

(function_definition
  body: (block
    [(function_definition
       name: (identifier) @name) @definition.function
     (decorated_definition
       definition: (function_definition
         name: (identifier) @name) @definition.function)]))

(if_statement
  consequence: (block
    [(function_definition
       name: (identifier) @name) @definition.function
     (decorated_definition
       definition: (function_definition
         name: (identifier) @name) @definition.function)]))

(elif_clause
  consequence: (block
    [(function_definition
       name: (identifier) @name) @definition.function
     (decorated_definition
       definition: (function_definition
         name: (identifier) @name) @definition.function)]))

(else_clause
  body: (block
    [(function_definition
       name: (identifier) @name) @definition.function
     (decorated_definition
       definition: (function_definition
         name: (identifier) @name) @definition.function)]))

(try_statement
  body: (block
    [(function_definition
       name: (identifier) @name) @definition.function
     (decorated_definition
       definition: (function_definition
         name: (identifier) @name) @definition.function)]))

(except_clause
  (block
    [(function_definition
       name: (identifier) @name) @definition.function
     (decorated_definition
       definition: (function_definition
         name: (identifier) @name) @definition.function)]))

(with_statement
  body: (block
    [(function_definition
       name: (identifier) @name) @definition.function
     (decorated_definition
       definition: (function_definition
         name: (identifier) @name) @definition.function)]))

; ---- module-level assignments: UPPER_CASE names are constants
(module
  (expression_statement
    (assignment
      left: (identifier) @name) @definition.constant)
  (#match? @name "^[A-Z][A-Z0-9_]*$"))

(module
  (expression_statement
    (assignment
      left: (identifier) @name) @definition.variable)
  (#not-match? @name "^[A-Z][A-Z0-9_]*$"))

; ---- class attributes
(class_definition
  body: (block
    (expression_statement
      (assignment
        left: (identifier) @name) @definition.field)))

; ---- references
(call
  function: (identifier) @name) @reference.call

(call
  function: (attribute
    attribute: (identifier) @name)) @reference.call

(class_definition
  superclasses: (argument_list
    (identifier) @name @reference.class))
