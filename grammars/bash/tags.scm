; Disco tags query for Bash (tree-sitter-bash 0.25).

; ---- functions (`name() { ... }` and `function name { ... }`)
(function_definition
  name: (word) @name) @definition.function

; ---- top-level variables; `readonly` ones are constants
(program
  (variable_assignment
    name: (variable_name) @name) @definition.variable)

(program
  (declaration_command
    "export"
    (variable_assignment
      name: (variable_name) @name)) @definition.variable)

(program
  (declaration_command
    "declare"
    (variable_assignment
      name: (variable_name) @name)) @definition.variable)

(program
  (declaration_command
    "readonly"
    (variable_assignment
      name: (variable_name) @name)) @definition.constant)

; ---- references: every command invocation
(command
  name: (command_name
    (word) @name)) @reference.call
