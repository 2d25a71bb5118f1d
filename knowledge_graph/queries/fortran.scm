; Tags for Fortran. Capture names as in cpp.scm; OpenMP directives are comments (!$omp),
; filtered in parse.py.

(subroutine (subroutine_statement name: (_) @name)) @definition.function
(function (function_statement name: (_) @name)) @definition.function
(module (module_statement (name) @name)) @definition.namespace
(program (program_statement (name) @name)) @definition.function
(derived_type_definition (derived_type_statement (type_name) @name)) @definition.class
(interface (interface_statement (name) @name)) @definition.type

(subroutine_call subroutine: (_) @reference.call)
(call_expression . (identifier) @reference.call)

(use_statement (module_name) @include)
(include_statement path: (_) @include)
(derived_type_definition
  (derived_type_statement base: (base_type_specifier (identifier) @base) (type_name) @class))
(comment) @pragma
