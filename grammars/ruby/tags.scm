; Disco tags query for Ruby (tree-sitter-ruby 0.23).

; ---- classes and modules
(class
  name: [(constant) @name
         (scope_resolution name: (_) @name)]) @definition.class

(module
  name: [(constant) @name
         (scope_resolution name: (_) @name)]) @definition.module

; ---- methods: `def` in a class / module / singleton class body, and `def self.x`
(class
  body: (body_statement
    (method
      name: (_) @name) @definition.method))

(module
  body: (body_statement
    (method
      name: (_) @name) @definition.method))

(singleton_class
  body: (body_statement
    (method
      name: (_) @name) @definition.method))

(singleton_method
  name: (_) @name) @definition.method

; ---- top-level functions
(program
  (method
    name: (_) @name) @definition.function)

; ---- constants
(assignment
  left: (constant) @name) @definition.constant

; ---- references
(call
  method: (identifier) @name) @reference.call

(superclass
  (constant) @name @reference.class)

(superclass
  (scope_resolution
    name: (constant) @name) @reference.class)
